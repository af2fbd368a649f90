import { renameSync, rmSync, writeFileSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";
import { parseVersion } from "@stepstone/graph";
import { displayPath, type LoadedGraph } from "./load.js";

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A release entry to add to a graph file (a suggested transition release, say). */
export interface NewReleaseEntry {
  readonly version: string;
  readonly ships: readonly string[];
}

/**
 * Writes a graph document the way stepstone writes every graph (`sync`, `gaps --suggest
 * --write`): 2-space JSON with a final newline, the keys in the document's order (callers
 * keep the file's own order), through a temporary file beside it renamed into place, so a
 * crash or a full disk never leaves a half-written graph.
 */
export function writeGraphFile(target: string, doc: unknown): void {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644 });
    renameSync(tmp, target);
  } catch (e) {
    throw new InputError(
      `${displayPath(target)}: cannot write: ${systemReason(e)}; it is unchanged`,
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The document with release entries added (pure: a new document). A new version goes
 * before the first release of the file that is higher, so a file in version order stays
 * in it; an entry for a version the file has already replaces only that release's
 * `ships` (everything else written by hand stays as it is).
 */
export function withReleaseEntries(doc: Json, entries: readonly NewReleaseEntry[]): Json {
  const releases = Array.isArray(doc.releases) ? doc.releases.filter(isJson) : [];
  for (const e of entries) {
    const at = releases.findIndex((r) => r.version === e.version);
    if (at >= 0) {
      releases[at] = { ...releases[at], ships: e.ships };
      continue;
    }
    const v = parseVersion(String(e.version));
    const higher = releases.findIndex((r) => {
      const rv = parseVersion(String(r.version));
      return v !== null && rv !== null && rv.compare(v) > 0;
    });
    releases.splice(higher < 0 ? releases.length : higher, 0, { ...e });
  }
  return { ...doc, releases };
}

/**
 * Adds release entries to a loaded graph's file (`gaps --suggest --write`), through the
 * same writer as `sync` (the file's key order kept). The result is validated first:
 * nothing is written when it would not load (an InputError saying why).
 */
export async function writeReleaseEntries(
  loaded: LoadedGraph,
  entries: readonly NewReleaseEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  if (!isJson(loaded.json)) throw new Error("internal: a loaded graph that is not an object");
  const doc = withReleaseEntries(loaded.json, entries);
  const name = displayPath(loaded.file);
  const { parseGraph } = await import("@stepstone/graph/schema");
  try {
    parseGraph(doc, name);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(
      `the suggestions would make ${name} invalid, so nothing is written:\n${e.message}`,
      e.diagnostics,
    );
  }
  writeGraphFile(loaded.file, doc);
}
