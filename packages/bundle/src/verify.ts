import type { KeyObject } from "node:crypto";
import { statSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";
import { KEY_ID, type Release } from "@stepstone/graph";
import { displayPath, type LoadedGraph } from "@stepstone/graph-file";
import { sha256 } from "@stepstone/graph-file/scripts";
import { graphKey } from "./keys.js";
import { BUNDLE_DIR, keyFile, type Manifest, parseManifestTsv } from "./manifest.js";
import { readTarGz, type TarEntry } from "./read.js";
import { verifyManifest } from "./sign.js";

export interface VerifyResult {
  /** Every integrity problem found (empty: the bundle is intact). */
  readonly problems: readonly string[];
  readonly manifest: Manifest | null;
  readonly signature: "verified" | "not checked" | "invalid" | "missing";
}

const MANIFEST = `${BUNDLE_DIR}/manifest.tsv`;
const KNOWN = new Set([MANIFEST, `${BUNDLE_DIR}/manifest.json`, `${BUNDLE_DIR}/manifest.tsv.sig`]);
/** The trust store's folder: the only subfolder a bundle may have. */
const KEYS_DIR = `${BUNDLE_DIR}/keys`;

/** The public key a signature is checked with: a PEM file, or a key already read. */
export type VerifyKey = string | { readonly key: KeyObject; readonly name: string };

/**
 * Checks a bundle the way a device must before running anything from it: only regular
 * files under usr/share/migration.d (no "..", no absolute path, no link, no device
 * node), every script and trusted key (keys/<id>.pem) listed in manifest.tsv with its
 * sha256 and nothing else, manifest.json saying the same, and, with a key, the signature
 * over manifest.tsv. Throws InputError (exit 2) when the file cannot be read as a .tar.gz
 * at all.
 */
export async function verifyBundle(
  file: string,
  /** The key, or a function that picks it from the bundle's manifest (`verify --graph`). */
  key?: VerifyKey | ((manifest: Manifest) => VerifyKey),
): Promise<VerifyResult> {
  let isFolder: boolean;
  try {
    isFolder = statSync(file).isDirectory();
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${systemReason(e)}`);
  }
  if (isFolder)
    throw new InputError(`${file}: is a folder; pass the bundle file itself (migration-*.tar.gz)`);
  let entries: TarEntry[];
  try {
    entries = await readTarGz(file);
  } catch (e) {
    throw new InputError(`${file}: not a readable .tar.gz bundle (${systemReason(e)})`);
  }
  if (entries.length === 0)
    throw new InputError(`${file}: not a readable .tar.gz bundle (no entries)`);
  const problems: string[] = [];
  const files = new Map<string, Buffer>();
  for (const e of entries) {
    const path = e.path.replace(/\/+$/, "");
    if (path.startsWith("/")) problems.push(`${e.path}: absolute path`);
    else if (path.split("/").includes("..")) problems.push(`${e.path}: path with ".."`);
    else if (e.type === "SymbolicLink" || e.type === "Link")
      problems.push(`${e.path}: a link (to ${e.linkpath})`);
    else if (e.type === "Directory") {
      if (
        !`${BUNDLE_DIR}/`.startsWith(`${path}/`) &&
        !path.startsWith(`${BUNDLE_DIR}/`) &&
        path !== BUNDLE_DIR
      ) {
        problems.push(`${e.path}: a folder outside ${BUNDLE_DIR}`);
      }
    } else if (e.type !== "File" && e.type !== "OldFile" && e.type !== "ContiguousFile") {
      problems.push(`${e.path}: a ${e.type} entry (only regular files belong in a bundle)`);
    } else if (!inBundleFolder(path)) {
      problems.push(`${e.path}: outside ${BUNDLE_DIR}/`);
    } else if (files.has(path)) problems.push(`${e.path}: appears twice`);
    else files.set(path, e.data);
  }
  const tsv = files.get(MANIFEST);
  const manifest = tsv ? parseManifestTsv(tsv.toString("utf8")) : null;
  if (!tsv) problems.push(`${MANIFEST}: missing`);
  else if (!manifest) problems.push(`${MANIFEST}: not a stepstone manifest`);
  if (manifest) {
    const listed = new Set<string>();
    for (const s of manifest.scripts) {
      const path = `${BUNDLE_DIR}/${s.file}`;
      listed.add(path);
      if (s.file.includes("/") || s.file.startsWith(".")) {
        problems.push(
          `${MANIFEST}: script ${s.id} names "${s.file}", not a file of the bundle folder`,
        );
        continue;
      }
      checkListed(files, path, s.sha256, `${s.id}`, problems);
    }
    for (const k of manifest.keys) {
      const path = `${BUNDLE_DIR}/${k.file}`;
      listed.add(path);
      if (!KEY_ID.test(k.id) || k.file !== keyFile(k.id)) {
        problems.push(
          `${MANIFEST}: key ${k.id} names "${k.file}", not keys/<id>.pem with an id of ${KEY_ID.source}`,
        );
        continue;
      }
      checkListed(files, path, k.sha256, `key ${k.id}`, problems);
    }
    for (const path of files.keys()) {
      if (listed.has(path) || KNOWN.has(path)) continue;
      problems.push(
        path.startsWith(`${KEYS_DIR}/`)
          ? `${path}: not in the manifest (a device trusts only the keys it lists)`
          : `${path}: not in the manifest (a device never runs it)`,
      );
    }
    const json = files.get(`${BUNDLE_DIR}/manifest.json`);
    if (json) {
      let same = false;
      try {
        const parsed = JSON.parse(json.toString("utf8"));
        const { schemaVersion: _, ...rest } = parsed;
        same = JSON.stringify(rest) === JSON.stringify(manifest);
      } catch {
        same = false;
      }
      if (!same) problems.push(`${BUNDLE_DIR}/manifest.json: does not say what manifest.tsv says`);
    }
  }
  let signature: VerifyResult["signature"] = "not checked";
  const chosen = typeof key === "function" ? (manifest === null ? undefined : key(manifest)) : key;
  if (chosen !== undefined) {
    const key = chosen;
    const sig = files.get(`${BUNDLE_DIR}/manifest.tsv.sig`);
    const pub = typeof key === "string" ? key : key.key;
    if (!sig) {
      signature = "missing";
      problems.push(`${BUNDLE_DIR}/manifest.tsv.sig: missing (the bundle is not signed)`);
    } else if (tsv && verifyManifest(tsv, sig, pub)) signature = "verified";
    else {
      signature = "invalid";
      problems.push(
        `${BUNDLE_DIR}/manifest.tsv.sig: does not verify with ${typeof key === "string" ? key : key.name}`,
      );
    }
  }
  return { problems, manifest, signature };
}

/** A file directly in the bundle folder, or a key directly in its keys/ folder. */
function inBundleFolder(path: string): boolean {
  if (!path.startsWith(`${BUNDLE_DIR}/`)) return false;
  const rest = path.slice(BUNDLE_DIR.length + 1);
  const slash = rest.indexOf("/");
  if (slash < 0) return true;
  return rest.slice(0, slash) === "keys" && !rest.slice(slash + 1).includes("/");
}

/** A file the manifest lists: present, with the sha256 it says. */
function checkListed(
  files: ReadonlyMap<string, Buffer>,
  path: string,
  want: string,
  what: string,
  problems: string[],
): void {
  const data = files.get(path);
  if (!data) problems.push(`${path}: listed in the manifest (${what}) but missing`);
  else if (sha256(data) !== want)
    problems.push(`${path}: sha256 ${sha256(data)}, the manifest says ${want}`);
}

/**
 * `verify --graph G`: the public key of the release's signedBy, from the graph, to check
 * a bundle of `release` with; and the bundle's trust store must be the release's `trusts`
 * as the graph's key files hold them (a problem of the bundle otherwise, in `problems`).
 * InputError when the graph names no key to verify with.
 */
export function graphVerifyKey(
  loaded: LoadedGraph,
  release: Release,
  manifest: Manifest,
): { readonly key: Exclude<VerifyKey, string>; readonly problems: readonly string[] } {
  const name = displayPath(loaded.file);
  const r = release;
  if (loaded.graph.keys === null)
    throw new InputError(
      `${name} has no "keys", so it names no public key to verify with: add "keys" to it, or pass --key PUB.pem`,
    );
  if (r.signedBy === null)
    throw new InputError(
      `${name}: ${r.version} has no signedBy, so the graph names no key its bundle is signed with: pass --key PUB.pem`,
    );
  const want = (r.trusts ?? []).map((id) => `${id} ${sha256(graphKey(loaded, id).pem)}`);
  const have = manifest.keys.map((k) => `${k.id} ${k.sha256}`);
  const problems: string[] = [];
  if (want.sort().join(",") !== have.sort().join(","))
    problems.push(
      `${KEYS_DIR}: the bundle trusts ${manifest.keys.map((k) => k.id).join(", ") || "no key"}, but ${name} says ${r.version} trusts ${(r.trusts ?? []).join(", ") || "no key"}${want.length > 0 ? " (with the key files it names)" : ""}`,
    );
  const key = graphKey(loaded, r.signedBy);
  return {
    key: {
      key: key.key,
      name: `${r.signedBy}'s key (${loaded.graph.keys.get(r.signedBy)?.public} in ${name})`,
    },
    problems,
  };
}
