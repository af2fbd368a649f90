import { statSync } from "node:fs";
import { InputError } from "@stepstone/errors";
import { sha256 } from "@stepstone/graph-file/scripts";
import { BUNDLE_DIR, type Manifest, parseManifestTsv } from "./manifest.js";
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

/**
 * Checks a bundle the way a device must before running anything from it: only regular
 * files under usr/share/migration.d (no "..", no absolute path, no link, no device
 * node), every script listed in manifest.tsv with its sha256 and nothing else,
 * manifest.json saying the same, and, with a key, the signature over manifest.tsv.
 * Throws InputError (exit 2) when the file cannot be read as a .tar.gz at all.
 */
export async function verifyBundle(file: string, keyFile?: string): Promise<VerifyResult> {
  try {
    statSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let entries: TarEntry[];
  try {
    entries = await readTarGz(file);
  } catch (e) {
    throw new InputError(
      `${file}: not a readable .tar.gz bundle (${e instanceof Error ? e.message : String(e)})`,
    );
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
    } else if (
      !path.startsWith(`${BUNDLE_DIR}/`) ||
      path.slice(BUNDLE_DIR.length + 1).includes("/")
    ) {
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
      const data = files.get(path);
      if (!data) problems.push(`${path}: listed in the manifest (${s.id}) but missing`);
      else if (sha256(data) !== s.sha256)
        problems.push(`${path}: sha256 ${sha256(data)}, the manifest says ${s.sha256}`);
    }
    for (const path of files.keys()) {
      if (!listed.has(path) && !KNOWN.has(path))
        problems.push(`${path}: not in the manifest (a device never runs it)`);
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
  if (keyFile !== undefined) {
    const sig = files.get(`${BUNDLE_DIR}/manifest.tsv.sig`);
    if (!sig) {
      signature = "missing";
      problems.push(`${BUNDLE_DIR}/manifest.tsv.sig: missing (the bundle is not signed)`);
    } else if (tsv && verifyManifest(tsv, sig, keyFile)) signature = "verified";
    else {
      signature = "invalid";
      problems.push(`${BUNDLE_DIR}/manifest.tsv.sig: does not verify with ${keyFile}`);
    }
  }
  return { problems, manifest, signature };
}
