import type { EntryOf, Epoch } from "@stepstone/graph";
import type { SemVer } from "semver";
import type { ScriptFile } from "./layout.js";

export type Json = Record<string, unknown>;

/** Entries of the graph file as it was read (it was validated then). */
export type DocRelease = EntryOf<"release">;
export type DocMigration = EntryOf<"migration">;

/** A script with the sha256 of its content. */
export interface PinnedScript extends ScriptFile {
  readonly sha256: string;
}

/** One component at one tag. Tags whose folder is the same tree share the object. */
export interface ComponentState {
  readonly epoch: Epoch;
  readonly scripts: readonly PinnedScript[];
}

/** What one tag says: the epoch of each component that has a folder there, and its scripts. */
export interface TagState {
  readonly tag: string;
  readonly version: string;
  readonly semver: SemVer;
  readonly components: ReadonlyMap<string, ComponentState>;
}

/** A release of the merged graph: its entry in the file (null for a new one) and its tag. */
export interface Entry {
  readonly old: DocRelease | null;
  readonly semver: SemVer;
  readonly version: string;
  readonly tag: TagState | null;
}

export interface RepoMigration {
  /** Where a tag holds it: [first, last] positions of releases read from tags, in `sorted`. */
  readonly runs: [number, number][];
  /** The script at the newest release that holds it (the content the graph pins). */
  last: PinnedScript;
  /** Every content it had (sha256). */
  readonly contents: Set<string>;
  /** Where its content changed: the scripts before and after, at those positions. */
  readonly changes: { a: PinnedScript; b: PinnedScript; pa: number; pb: number }[];
}

/** The position in `sorted` of the newest release read from a tag that holds the script. */
export function lastRead(rec: RepoMigration): number {
  const run = rec.runs.at(-1);
  if (run === undefined) throw new Error(`migration ${rec.last.id}: in no tag read`);
  return run[1];
}

/** The merged graph's releases, old and new, and their order (what every step reads). */
export interface Releases {
  /** The graph's releases, in the file's order. */
  readonly entries: readonly Entry[];
  /** Tags that are not releases of the graph yet. */
  readonly fresh: readonly Entry[];
  /** Both, by version. */
  readonly sorted: readonly Entry[];
  readonly position: ReadonlyMap<Entry, number>;
  readonly versions: readonly string[];
  readonly semvers: readonly SemVer[];
  /** readBefore[i]: how many releases read from a tag come before position i. */
  readonly readBefore: Int32Array;
  /** Positions of the releases not read from a tag. */
  readonly notRead: readonly number[];
}

export interface SyncChanges {
  readonly components: { readonly added: string[] };
  readonly releases: { readonly added: string[]; readonly updated: string[]; unchanged: number };
  readonly migrations: { readonly added: string[]; readonly updated: string[]; unchanged: number };
}

/** A release sync added, with the keys it took from an older release (DESIGN.md "keys"). */
export interface InheritedKeys {
  readonly version: string;
  /** The release they come from: the newest older one of its line, else the newest older one. */
  readonly from: string;
  readonly signedBy: string | null;
  readonly trusts: readonly string[] | null;
}
