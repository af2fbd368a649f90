import { isInsideRelative, suggest } from "./checks.js";
import type { EntryOf, Salvaged } from "./format.js";
import type { Release, ReleaseGraph, SigningKey } from "./model.js";
import { KEY_ID } from "./names.js";

/** The signing keys of release-graph.json: the top-level `keys`, signedBy and trusts. */

type DocRelease = EntryOf<"release">;

/** The top-level `keys`: ids and paths checked, and the ids present (broken entries too). */
export interface Keys {
  readonly model: ReadonlyMap<string, SigningKey>;
  /** Every id the file names, parsed or not (a broken entry is reported once, not per use). */
  readonly ids: readonly string[];
}

export function checkKeys(
  doc: Salvaged,
  err: (path: readonly PropertyKey[], message: string) => void,
): Keys | null {
  if (doc.keys === undefined) return null;
  const model = new Map<string, SigningKey>();
  const ids = Object.keys(doc.keys);
  for (const id of ids) {
    const k = doc.keys[id];
    if (!KEY_ID.test(id))
      err(
        ["keys", id],
        `key id must match ${KEY_ID.source} (it is the key's file name on the device, keys/<id>.pem)`,
      );
    if (k === undefined || k === null) continue;
    if (!isInsideRelative(k.public))
      err(
        ["keys", id, "public"],
        `"${k.public}" must be a relative path inside the graph's folder (no "..", not absolute)`,
      );
    model.set(id, { id, public: k.public, ...(k.notes !== undefined && { notes: k.notes }) });
  }
  return { model, ids };
}

/**
 * With `keys`: a release's keys must be ones the graph holds, a signed release must trust
 * its own key (its image checks its own bundle with its trust store), and a release with
 * the runner that trusts keys must be signed (else that check could never pass at boot).
 */
export function checkReleaseKeys(
  r: DocRelease,
  i: number,
  runner: boolean,
  keys: Keys,
  err: (path: readonly PropertyKey[], message: string) => void,
): void {
  const unknown = (id: string) =>
    `unknown key "${id}"${suggest(id, keys.ids)}: add it to "keys" (with its public key file) or name one of ${keys.ids.map((k) => `"${k}"`).join(", ") || "none"}`;
  if (r.signedBy !== undefined && !keys.ids.includes(r.signedBy))
    err(["releases", i, "signedBy"], unknown(r.signedBy));
  const trusts = r.trusts ?? [];
  for (let j = 0; j < trusts.length; j++) {
    const id = trusts[j] as string;
    if (!keys.ids.includes(id)) err(["releases", i, "trusts", j], unknown(id));
  }
  if (r.signedBy !== undefined && r.trusts !== undefined && !r.trusts.includes(r.signedBy))
    err(
      ["releases", i, "trusts"],
      `does not list the release's own key "${r.signedBy}": its image checks its own bundle's signature with these keys at boot; add "${r.signedBy}"`,
    );
  else if (r.signedBy !== undefined && r.trusts === undefined && runner)
    err(
      ["releases", i, "trusts"],
      `missing: a release signed with "${r.signedBy}" must trust its own key (its image checks its own bundle with its trust store); add "trusts": ["${r.signedBy}"]`,
    );
  if (r.signedBy === undefined && r.trusts !== undefined && runner)
    err(
      ["releases", i, "signedBy"],
      "missing: this release has the runner and trusts keys, so its image checks its own bundle's signature at boot; an unsigned bundle could never pass: set signedBy (or remove trusts)",
    );
}

/**
 * Without `keys`, key names are labels: say once that signatures cannot be checked. With
 * or without, a release without signedBy between signed releases is most likely one that
 * sync added (or someone wrote) and nobody gave a key.
 */
export function warnKeys(
  graph: ReleaseGraph,
  fileIndex: ReadonlyMap<Release, number>,
  warn: (path: readonly PropertyKey[], message: string) => void,
  warnFile: (message: string) => void,
): void {
  const rs = graph.releases;
  if (graph.keys === null && rs.some((r) => r.signedBy !== null || r.trusts !== null))
    warnFile(
      'no "keys": signedBy and trusts are labels that no public key backs, so bundles cannot be checked against the graph (add "keys": {"<id>": {"public": "keys/<id>.pub.pem"}})',
    );
  // One pass: the unsigned releases since the last signed one, warned about at the next
  // signed one (or at the end: a new release after signed ones is the same mistake).
  let before: Release | null = null;
  let unsigned: Release[] = [];
  for (const r of rs) {
    if (r.signedBy === null) {
      if (before !== null) unsigned.push(r);
      continue;
    }
    for (const u of unsigned) warnUnsigned(u, before as Release, r);
    unsigned = [];
    before = r;
  }
  for (const u of unsigned) warnUnsigned(u, before as Release, null);
  function warnUnsigned(r: Release, before: Release, after: Release | null): void {
    const others =
      after === null
        ? `${before.version} before it is signed (by ${before.signedBy})`
        : `${before.version} (${before.signedBy}) before it and ${after.version} (${after.signedBy}) after it are signed`;
    warn(
      ["releases", fileIndex.get(r) ?? 0],
      `${r.version} has no signedBy, but ${others}: set its signedBy and trusts (sync gives a new release those of the release before it)`,
    );
  }
}

/**
 * The checks of one migration entry but its id's, and its model. Its own function: it
 * runs once per migration (tens of thousands), and V8 optimizes a small function called
 * that often long before it would a loop inside checkGraph.
 */
