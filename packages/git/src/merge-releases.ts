import { ordered, RELEASE_FROM_TAG, RELEASE_KEYS, same, without } from "./merge-json.js";
import type {
  DocRelease,
  Entry,
  InheritedKeys,
  Json,
  Releases,
  SyncChanges,
} from "./merge-types.js";

export interface ReleaseContext {
  readonly names: readonly string[];
  readonly added: readonly string[];
  readonly shipsFromSync: ReadonlyMap<number, string[]>;
  readonly inherited: ReadonlyMap<Entry, InheritedKeys>;
  readonly warnings: string[];
}

/** Release entries, in the file's order; new ones after the last lower version. */
export function mergeReleases(
  rel: Releases,
  cx: ReleaseContext,
): { json: Json[]; changes: SyncChanges["releases"] } {
  const releaseChanges = { added: [] as string[], updated: [] as string[], unchanged: 0 };
  const out: { entry: Entry; json: Json }[] = [];
  for (const e of rel.entries) out.push({ entry: e, json: releaseJson(e, rel, cx) });
  for (const e of rel.fresh) {
    let at = 0;
    for (let i = 0; i < out.length; i++)
      if ((out[i] as { entry: Entry }).entry.semver.compare(e.semver) < 0) at = i + 1;
    out.splice(at, 0, { entry: e, json: releaseJson(e, rel, cx) });
  }
  for (const { entry, json } of out) {
    if (!entry.old) releaseChanges.added.push(entry.version);
    else if (same(entry.old, json)) releaseChanges.unchanged++;
    else releaseChanges.updated.push(entry.version);
  }
  return { json: out.map((o) => o.json), changes: releaseChanges };
}

/** One release's entry: a tag's epochs, ships and keys over the fields written by hand. */
function releaseJson(e: Entry, rel: Releases, cx: ReleaseContext): Json {
  const { sorted, position } = rel;
  const { names, shipsFromSync, inherited, warnings } = cx;
  const p = position.get(e) as number;
  if (!e.tag) {
    const old = e.old as DocRelease;
    const epochs: Json = { ...old.epochs };
    for (const c of cx.added) {
      if (c in epochs) continue;
      const base = sorted.slice(0, p).findLast((x) => x.tag?.components.has(c));
      const epoch = base?.tag?.components.get(c)?.epoch ?? 1;
      epochs[c] = epoch;
      warnings.push(
        `release ${e.version} is not read from a tag: new component ${c} given epoch ${epoch}${base ? ` (as in ${base.version})` : ""}; check it`,
      );
    }
    return { ...old, epochs };
  }
  const tag = e.tag;
  const oldEpochs = e.old?.epochs ?? null;
  const epochs: Json = {};
  for (const c of names) {
    const epoch = tag.components.get(c)?.epoch ?? 1;
    epochs[c] = epoch;
    const was = oldEpochs?.[c];
    if (!tag.components.has(c) && was !== undefined && was !== epoch) {
      warnings.push(
        `release ${e.version}: component ${c} has no folder at tag ${tag.tag}, so its epoch there is 1 (the graph said ${String(was)})`,
      );
    }
  }
  const ships = (shipsFromSync.get(p) ?? []).sort();
  const holds = (id: string) =>
    [...tag.components.values()].some((c) => c.scripts.some((s) => s.id === id));
  for (const id of e.old?.ships ?? []) {
    if (!holds(id))
      warnings.push(
        `release ${e.version} named ${id} in "ships", but tag ${tag.tag} does not hold it: removed (a release ships exactly the scripts of its tag)`,
      );
  }
  const keys = inherited.get(e);
  const own: Json = {
    version: e.old?.version ?? tag.version,
    epochs: ordered(oldEpochs, epochs, names),
    ships: ships.length > 0 ? ships : undefined,
    tag: tag.tag,
    ...(keys !== undefined && {
      signedBy: keys.signedBy ?? undefined,
      trusts: keys.trusts === null ? undefined : [...keys.trusts],
    }),
  };
  return ordered(e.old, { ...without(e.old, RELEASE_FROM_TAG), ...own }, RELEASE_KEYS);
}

/**
 * The keys of each release sync adds: a new image is signed like the release before it,
 * so it takes signedBy and trusts from the newest older release of its line, or else the
 * newest older release (transition releases are never the source: they trust extra keys
 * on purpose). Without this, a new release would trust every image and be signed by
 * nothing, between releases that are: the rotation undone by a missing field. One pass in
 * version order, so a new release can inherit from one added just before it.
 */
export function inheritKeys(sorted: readonly Entry[]): Map<Entry, InheritedKeys> {
  const out = new Map<Entry, InheritedKeys>();
  const keysOf = (x: Entry): { signedBy: string | null; trusts: readonly string[] | null } => {
    if (x.old === null) return out.get(x) ?? { signedBy: null, trusts: null };
    return {
      signedBy: typeof x.old.signedBy === "string" ? x.old.signedBy : null,
      trusts: x.old.trusts ?? null,
    };
  };
  const lineOf = (x: Entry) =>
    typeof x.old?.line === "string" ? x.old.line : `${x.semver.major}.${x.semver.minor}`;
  const newestOfLine = new Map<string, Entry>();
  let newest: Entry | null = null;
  for (const e of sorted) {
    if (e.old === null) {
      const from = newestOfLine.get(lineOf(e)) ?? newest;
      const keys = from === null ? null : keysOf(from);
      if (from !== null && keys !== null && (keys.signedBy !== null || keys.trusts !== null))
        out.set(e, { version: e.version, from: from.version, ...keys });
    }
    if (e.old?.transition !== true) {
      newestOfLine.set(lineOf(e), e);
      newest = e;
    }
  }
  return out;
}
