import { InputError } from "@stepstone/errors";
import {
  checkedVersion,
  type GraphFile,
  type Interval,
  type ReleaseGraph,
  rangeIntervals,
  shippingText,
  versionKey,
} from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import {
  MIGRATION_FROM_REPO,
  MIGRATION_KEYS,
  ordered,
  ROOT_KEYS,
  same,
  without,
} from "./merge-json.js";
import { inheritKeys, mergeReleases } from "./merge-releases.js";
import { scriptRuns, tagNameAt } from "./merge-scripts.js";
import {
  type DocMigration,
  type Entry,
  type InheritedKeys,
  type Json,
  lastRead,
  type PinnedScript,
  type Releases,
  type RepoMigration,
  type SyncChanges,
  type TagState,
} from "./merge-types.js";

export { ordered } from "./merge-json.js";
export type {
  ComponentState,
  InheritedKeys,
  PinnedScript,
  SyncChanges,
  TagState,
} from "./merge-types.js";

export interface MergeInput {
  /** How messages name the graph file. */
  readonly file: string;
  /** The graph as it is (its JSON as written, and the validated model), or null for a new one. */
  readonly old: { readonly json: unknown; readonly graph: ReleaseGraph } | null;
  /** The tags read, sorted by version. */
  readonly tags: readonly TagState[];
  /** Every tag name in the repository (to tell a deleted tag from a filtered one). */
  readonly repoTags: ReadonlySet<string>;
}

export interface MergeResult {
  /** The graph file's new content (JSON, keys in the order they are written). */
  readonly doc: Json;
  /** Does `doc` differ from the file as it was? */
  readonly changed: boolean;
  readonly changes: SyncChanges;
  /** Every migration read from the repository: where its script goes, with the pinned content. */
  readonly scripts: readonly { readonly path: string; readonly script: PinnedScript }[];
  /** New releases that inherited signedBy and trusts. */
  readonly inherited: readonly InheritedKeys[];
  readonly warnings: readonly string[];
}

/**
 * The graph after reading the tags: every tag that reads as a version is a release whose
 * epochs and shipped scripts are exactly what the tag holds; hand-set fields stay; the
 * releases not read from a tag (hand-added transition builds, tags filtered out) keep
 * shipping what they shipped. Pure: the same input gives the same document, and merging
 * a document with the tags it came from gives it back unchanged.
 */
export function mergeSync(input: MergeInput): MergeResult {
  // Validated when it was read: the file has the format's shape.
  const oldDoc = (input.old?.json ?? null) as GraphFile | null;
  const warnings: string[] = [];
  const comps = mergeComponents(oldDoc, input.tags);
  const rel = releaseOrder(oldDoc, input.tags);
  warnLostTags(rel, input.repoTags, warnings);
  const repo = scriptRuns(rel.sorted, comps.inRepo, warnings);
  const migs = mergeMigrations(input, oldDoc, rel, repo, comps.names, warnings);
  checkScriptClashes(input.file, migs.migrations, migs.scripts);
  const inherited = inheritKeys(rel.sorted);
  const releases = mergeReleases(rel, {
    names: comps.names,
    added: comps.added,
    shipsFromSync: migs.shipsFromSync,
    inherited,
    warnings,
  });
  const doc = ordered(
    oldDoc,
    {
      ...(oldDoc ?? {}),
      schemaVersion: 1,
      components: comps.components,
      releases: releases.json,
      migrations:
        migs.migrations.length > 0 || oldDoc?.migrations !== undefined
          ? migs.migrations
          : undefined,
    },
    ROOT_KEYS,
  );
  const changed = oldDoc === null || !same(oldDoc, doc);
  // The old document was validated when it was read; a changed one is validated here.
  try {
    if (changed) parseGraph(doc, input.file);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(
      `sync would make ${input.file} invalid, so it writes nothing:\n${e.message}`,
      e.diagnostics,
    );
  }
  return {
    doc,
    changed,
    changes: {
      components: { added: comps.added },
      releases: releases.changes,
      migrations: migs.changes,
    },
    scripts: migs.scripts,
    inherited: [...inherited.values()],
    warnings,
  };
}

interface MergedComponents {
  readonly components: Record<string, Json>;
  /** Every component, the graph's first. */
  readonly names: readonly string[];
  readonly added: string[];
  /** Those the repository has a folder of. */
  readonly inRepo: ReadonlySet<string>;
}

/**
 * The graph's components, then the repository's new ones (sorted). A new component's
 * paths and policy are unknown, so it is not wipeable until someone says what to wipe.
 */
function mergeComponents(oldDoc: GraphFile | null, tags: readonly TagState[]): MergedComponents {
  const oldComponents = oldDoc?.components ?? {};
  const known = Object.keys(oldComponents);
  const inRepo = new Set<string>();
  for (const t of tags) for (const c of t.components.keys()) inRepo.add(c);
  const addedComponents = [...inRepo].filter((c) => !known.includes(c)).sort();
  const names = [...known, ...addedComponents];
  const components: Record<string, Json> = { ...oldComponents };
  for (const c of addedComponents) components[c] = { wipeable: false };

  return { components, names, added: addedComponents, inRepo };
}

/** Releases, matched by version (equal but for +build is the same release). */
function releaseOrder(oldDoc: GraphFile | null, tags: readonly TagState[]): Releases {
  const tagByKey = new Map(tags.map((t) => [versionKey(t.semver), t]));
  const entries: Entry[] = (oldDoc?.releases ?? []).map((r) => {
    const semver = checkedVersion(r.version);
    return {
      old: r,
      semver,
      version: r.version,
      tag: tagByKey.get(versionKey(semver)) ?? null,
    };
  });
  const matched = new Set(entries.map((e) => e.tag));
  const fresh: Entry[] = tags
    .filter((t) => !matched.has(t))
    .map((t) => ({ old: null, semver: t.semver, version: t.version, tag: t }));
  const sorted = [...entries, ...fresh].sort((a, b) => a.semver.compare(b.semver));
  const position = new Map(sorted.map((e, i) => [e, i]));
  const versions = sorted.map((e) => e.version);
  const semvers = sorted.map((e) => e.semver);
  // readBefore[i]: how many releases read from a tag come before position i.
  const readBefore = new Int32Array(sorted.length + 1);
  sorted.forEach((e, i) => {
    readBefore[i + 1] = (readBefore[i] as number) + (e.tag ? 1 : 0);
  });
  const notRead = sorted.flatMap((e, i) => (e.tag ? [] : [i]));

  return { entries, fresh, sorted, position, versions, semvers, readBefore, notRead };
}

/** A release whose tag is gone from the repository is kept, with a warning. */
function warnLostTags(rel: Releases, repoTags: ReadonlySet<string>, warnings: string[]): void {
  for (const e of rel.entries) {
    const tag = e.old?.tag;
    if (!e.tag && typeof tag === "string" && !repoTags.has(tag)) {
      warnings.push(
        `release ${e.version} records tag ${tag}, which the repository does not have: kept as it is`,
      );
    }
  }
}

interface MergedMigrations {
  readonly migrations: Json[];
  readonly scripts: { path: string; script: PinnedScript }[];
  /** Per position: the ids the shippedIn text leaves to the release's `ships`. */
  readonly shipsFromSync: ReadonlyMap<number, string[]>;
  readonly changes: SyncChanges["migrations"];
}

/** Migrations: the graph's in their order, then the repository's new ones. */
function mergeMigrations(
  input: MergeInput,
  oldDoc: GraphFile | null,
  rel: Releases,
  repo: ReadonlyMap<string, RepoMigration>,
  names: readonly string[],
  warnings: string[],
): MergedMigrations {
  const { sorted, versions, semvers, readBefore, notRead } = rel;
  const fixedShips = (p: number) => sorted[p]?.tag === null;
  const tagAt = (p: number) => tagNameAt(sorted, p);
  const oldMigrations: readonly DocMigration[] = oldDoc?.migrations ?? [];
  const oldModel = new Map((input.old?.graph.migrations ?? []).map((m) => [m.id, m]));
  const oldIds = new Set(oldMigrations.map((m) => m.id));
  const order = new Map(names.map((n, i) => [n, i]));
  const newIds = [...repo]
    .filter(([id]) => !oldIds.has(id))
    .sort(([a, { last: x }], [b, { last: y }]) => {
      return (
        (order.get(x.component) ?? 0) - (order.get(y.component) ?? 0) ||
        x.from - y.from ||
        x.to - y.to ||
        (a < b ? -1 : 1)
      );
    })
    .map(([id]) => id);
  const handShips = new Map<number, ReadonlySet<string>>(
    notRead.map((p) => [p, new Set((sorted[p] as Entry).old?.ships ?? [])]),
  );
  const shipsFromSync = new Map<number, string[]>();
  const scripts: { path: string; script: PinnedScript }[] = [];
  const migrations: Json[] = [];
  const migrationChanges = { added: [] as string[], updated: [] as string[], unchanged: 0 };

  const all: { id: string; before: DocMigration | null }[] = [
    ...oldMigrations.map((m) => ({ id: m.id, before: m })),
    ...newIds.map((id) => ({ id, before: null })),
  ];
  for (const { id, before } of all) {
    const rec = repo.get(id);
    const oldRange = oldModel.get(id)?.shippedIn ?? null;
    const ivs: readonly Interval[] = oldRange === null ? [] : rangeIntervals(oldRange, semvers);
    // Releases read from a tag ship what it holds; the others keep shipping what they did.
    const ones: [number, number][] = [];
    for (const run of rec?.runs ?? []) ones.push(...withoutNotRead(run, notRead));
    const free = new Set<number>();
    for (const p of notRead) {
      if (handShips.get(p)?.has(id)) free.add(p);
      else if (ivs.some(([lo, hi]) => p >= lo && p < hi)) ones.push([p, p]);
    }
    ones.sort((a, b) => a[0] - b[0]);
    const text = shippingText(ones, free, versions, fixedShips);
    for (const p of text.ships) {
      const list = shipsFromSync.get(p);
      if (list) list.push(id);
      else shipsFromSync.set(p, [id]);
    }

    let next: Json;
    if (rec) {
      const last = rec.last;
      const own: Json = {
        id,
        component: last.component,
        from: last.from,
        to: last.to,
        script: before?.script ?? last.path,
        shippedIn: text.shippedIn ?? undefined,
        sha256: last.sha256,
      };
      next = ordered(before, { ...without(before, MIGRATION_FROM_REPO), ...own }, MIGRATION_KEYS);
      const pin = before?.sha256;
      if (typeof pin === "string" && !rec.contents.has(pin)) {
        warnings.push(
          `migration ${id}: the graph pinned sha256 ${pin.slice(0, 12)}, which no tag read has; now pinned to its content at ${tagAt(lastRead(rec))}`,
        );
      }
      scripts.push({ path: next.script as string, script: last });
    } else {
      // Not in any tag read: the releases read from tags do not ship it.
      const wasShipped = ivs.some(
        ([lo, hi]) => (readBefore[hi] as number) > (readBefore[lo] as number),
      );
      if (wasShipped) {
        warnings.push(
          `migration ${id} is in none of the tags read: the releases read from tags no longer ship it`,
        );
      }
      next = ordered(before, { ...before, shippedIn: text.shippedIn ?? undefined }, MIGRATION_KEYS);
    }
    migrations.push(next);
    if (!before) migrationChanges.added.push(id);
    else if (same(before, next)) migrationChanges.unchanged++;
    else migrationChanges.updated.push(id);
  }
  return { migrations, scripts, shipsFromSync, changes: migrationChanges };
}

/**
 * A script path is one file: a migration from the repository must not take over the file
 * of another migration (an id written before the naming convention, typically).
 */
function checkScriptClashes(
  file: string,
  migrations: readonly Json[],
  scripts: readonly { path: string; script: PinnedScript }[],
): void {
  const idsByPath = new Map<string, string[]>();
  for (const m of migrations) {
    const list = idsByPath.get(m.script as string);
    if (list) list.push(m.id as string);
    else idsByPath.set(m.script as string, [m.id as string]);
  }
  const clashes = scripts.flatMap(({ path, script }) => {
    const other = (idsByPath.get(path) ?? []).find((id) => id !== script.id);
    return other === undefined ? [] : [`${other} and ${script.id} (${path})`];
  });
  if (clashes.length > 0) {
    throw new InputError(
      `${file}: migrations from the repository would overwrite the script of another migration: ${clashes.join("; ")}. ` +
        "Give the graph's migration the repository's id (<component>-<from>-<to>-<slug>) so they are one, or move its script; nothing written",
    );
  }
}

/** A run of releases read from tags, without the releases not read from tags inside it. */
function withoutNotRead(
  run: readonly [number, number],
  notRead: readonly number[],
): [number, number][] {
  const out: [number, number][] = [];
  let a = run[0];
  for (const q of notRead) {
    if (q < a) continue;
    if (q > run[1]) break;
    if (q > a) out.push([a, q - 1]);
    a = q + 1;
  }
  if (a <= run[1]) out.push([a, run[1]]);
  return out;
}
