import { InputError } from "@stepstone/errors";
import {
  type Epoch,
  type Interval,
  parseVersion,
  type ReleaseGraph,
  rangeIntervals,
  shippingText,
  versionKey,
} from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import type { SemVer } from "semver";
import type { ScriptFile } from "./layout.js";

type Json = Record<string, unknown>;

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

/** Key orders of DESIGN.md's tables: new keys are inserted where a person would put them. */
const ROOT_KEYS = [
  "$schema",
  "schemaVersion",
  "notes",
  "keys",
  "components",
  "releases",
  "migrations",
];
const RELEASE_KEYS = [
  "version",
  "line",
  "golden",
  "transition",
  "withdrawn",
  "runner",
  "epochs",
  "ships",
  "upgradeFrom",
  "signedBy",
  "trusts",
  "platforms",
  "tag",
  "notes",
];
const MIGRATION_KEYS = [
  "id",
  "component",
  "from",
  "to",
  "script",
  "shippedIn",
  "after",
  "sha256",
  "description",
  "notes",
];

/**
 * Fields a release read from a tag takes from the repository; every other field (golden,
 * transition, withdrawn, runner, keys, platforms, upgradeFrom, line, notes) is the
 * release engineer's and is kept as written.
 */
const RELEASE_FROM_TAG = ["version", "epochs", "ships", "tag"];
/** Fields a migration found in the repository takes from it (`script` only when unset). */
const MIGRATION_FROM_REPO = ["id", "component", "from", "to", "shippedIn", "sha256"];

interface Entry {
  readonly old: Json | null;
  readonly semver: SemVer;
  readonly version: string;
  readonly tag: TagState | null;
}

interface RepoMigration {
  /** Where a tag holds it: [first, last] positions of releases read from tags, in `sorted`. */
  readonly runs: [number, number][];
  /** The script at the newest release that holds it (the content the graph pins). */
  last: PinnedScript;
  /** Every content it had (sha256). */
  readonly contents: Set<string>;
  /** Where its content changed: the scripts before and after, at those positions. */
  readonly changes: { a: PinnedScript; b: PinnedScript; pa: number; pb: number }[];
}

/**
 * The graph after reading the tags: every tag that reads as a version is a release whose
 * epochs and shipped scripts are exactly what the tag holds; hand-set fields stay; the
 * releases not read from a tag (hand-added transition builds, tags filtered out) keep
 * shipping what they shipped. Pure: the same input gives the same document, and merging
 * a document with the tags it came from gives it back unchanged.
 */
export function mergeSync(input: MergeInput): MergeResult {
  const oldDoc = (input.old?.json ?? null) as Json | null;
  const warnings: string[] = [];

  // Components: the graph's, then the repository's new ones (sorted). A new component's
  // paths and policy are unknown, so it is not wipeable until someone says what to wipe.
  const oldComponents = (oldDoc?.components ?? {}) as Record<string, Json>;
  const known = Object.keys(oldComponents);
  const inRepo = new Set<string>();
  for (const t of input.tags) for (const c of t.components.keys()) inRepo.add(c);
  const addedComponents = [...inRepo].filter((c) => !known.includes(c)).sort();
  const names = [...known, ...addedComponents];
  const components: Record<string, Json> = { ...oldComponents };
  for (const c of addedComponents) components[c] = { wipeable: false };

  // Releases, matched by version (equal but for +build is the same release).
  const tagByKey = new Map(input.tags.map((t) => [versionKey(t.semver), t]));
  const entries: Entry[] = ((oldDoc?.releases ?? []) as Json[]).map((r) => {
    const semver = parseVersion(r.version as string) as SemVer;
    return {
      old: r,
      semver,
      version: r.version as string,
      tag: tagByKey.get(versionKey(semver)) ?? null,
    };
  });
  const matched = new Set(entries.map((e) => e.tag));
  const fresh: Entry[] = input.tags
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
  const fixedShips = (p: number) => sorted[p]?.tag === null;

  for (const e of entries) {
    const tag = e.old?.tag;
    if (!e.tag && typeof tag === "string" && !input.repoTags.has(tag)) {
      warnings.push(
        `release ${e.version} records tag ${tag}, which the repository does not have: kept as it is`,
      );
    }
  }

  // Where each script is: runs of releases, found by walking each component's folder from
  // release to release. Tags whose folder is the same tree share one state object, so an
  // unchanged folder costs nothing, and a changed one costs a merge of two sorted lists.
  const repo = new Map<string, RepoMigration>();
  const tagAt = (p: number) => (sorted[p] as Entry).tag?.tag as string;
  const readPositions = sorted.flatMap((e, i) => (e.tag ? [i] : []));
  for (const c of [...inRepo].sort()) {
    const open = new Map<string, number>();
    const add = (s: PinnedScript, p: number) => {
      const rec = repo.get(s.id);
      if (!rec) {
        repo.set(s.id, { runs: [], last: s, contents: new Set([s.sha256]), changes: [] });
      } else {
        if (rec.last.path !== s.path) {
          warnings.push(
            `${s.path} and ${rec.last.path} both make migration id ${s.id}: ${s.path} skipped; rename one`,
          );
          return;
        }
        if (rec.last.sha256 !== s.sha256)
          rec.changes.push({ a: rec.last, b: s, pa: rec.runs.at(-1)?.[1] ?? p, pb: p });
        rec.last = s;
        rec.contents.add(s.sha256);
      }
      open.set(s.id, p);
    };
    const close = (s: PinnedScript, end: number) => {
      const start = open.get(s.id);
      if (start === undefined) return; // a skipped duplicate id
      open.delete(s.id);
      (repo.get(s.id) as RepoMigration).runs.push([start, end]);
    };
    let state: ComponentState | undefined;
    let prev: readonly PinnedScript[] = [];
    let prevPos = -1;
    for (const p of readPositions) {
      const cur = ((sorted[p] as Entry).tag as TagState).components.get(c);
      if (cur !== state) {
        const next = byId(cur?.scripts ?? []);
        let i = 0;
        let j = 0;
        while (i < prev.length || j < next.length) {
          const a = prev[i];
          const b = next[j];
          if (a !== undefined && a === b) {
            i++;
            j++;
          } else if (a !== undefined && b !== undefined && a.id === b.id) {
            const rec = repo.get(b.id);
            if (rec && rec.last.path === b.path) {
              if (a.sha256 !== b.sha256) rec.changes.push({ a, b, pa: prevPos, pb: p });
              rec.last = b;
              rec.contents.add(b.sha256);
            }
            i++;
            j++;
          } else if (b === undefined || (a !== undefined && a.id < b.id)) {
            close(a as PinnedScript, prevPos);
            i++;
          } else {
            add(b, p);
            j++;
          }
        }
        state = cur;
        prev = next;
      }
      prevPos = p;
    }
    for (const s of prev) close(s, prevPos);
  }
  // A released script must not change: say where it did.
  for (const [id, rec] of repo) {
    const pinnedAt = tagAt((rec.runs.at(-1) as [number, number])[1]);
    for (const { a, b, pa, pb } of rec.changes) {
      warnings.push(
        `migration ${id}: ${b.path} changed between tags ${tagAt(pa)} and ${tagAt(pb)} (sha256 ${a.sha256.slice(0, 12)} -> ${b.sha256.slice(0, 12)}): a released migration must not change; the graph pins its content at ${pinnedAt}`,
      );
    }
  }

  // Migrations: the graph's in their order, then the repository's new ones.
  const oldMigrations = (oldDoc?.migrations ?? []) as Json[];
  const oldModel = new Map((input.old?.graph.migrations ?? []).map((m) => [m.id, m]));
  const oldIds = new Set(oldMigrations.map((m) => m.id as string));
  const order = new Map(names.map((n, i) => [n, i]));
  const newIds = [...repo.keys()]
    .filter((id) => !oldIds.has(id))
    .sort((a, b) => {
      const x = (repo.get(a) as RepoMigration).last;
      const y = (repo.get(b) as RepoMigration).last;
      return (
        (order.get(x.component) ?? 0) - (order.get(y.component) ?? 0) ||
        x.from - y.from ||
        x.to - y.to ||
        (a < b ? -1 : 1)
      );
    });
  const handShips = new Map<number, ReadonlySet<string>>(
    notRead.map((p) => [p, new Set(((sorted[p] as Entry).old?.ships ?? []) as string[])]),
  );
  const shipsFromSync = new Map<number, string[]>();
  const scripts: { path: string; script: PinnedScript }[] = [];
  const migrations: Json[] = [];
  const migrationChanges = { added: [] as string[], updated: [] as string[], unchanged: 0 };

  for (const m of [...oldMigrations, ...newIds.map((id) => ({ id }) as Json)]) {
    const id = m.id as string;
    const rec = repo.get(id);
    const before = oldIds.has(id) ? m : null;
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
          `migration ${id}: the graph pinned sha256 ${pin.slice(0, 12)}, which no tag read has; now pinned to its content at ${tagAt((rec.runs.at(-1) as [number, number])[1])}`,
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

  // A script path is one file: a migration from the repository must not take over the file
  // of another migration (an id written before the naming convention, typically).
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
      `${input.file}: migrations from the repository would overwrite the script of another migration: ${clashes.join("; ")}. ` +
        "Give the graph's migration the repository's id (<component>-<from>-<to>-<slug>) so they are one, or move its script; nothing written",
    );
  }

  const inherited = inheritKeys(sorted);

  // Release entries, in the file's order; new ones after the last lower version.
  const releaseChanges = { added: [] as string[], updated: [] as string[], unchanged: 0 };
  const out: { entry: Entry; json: Json }[] = [];
  for (const e of entries) out.push({ entry: e, json: releaseJson(e) });
  for (const e of fresh) {
    let at = 0;
    for (let i = 0; i < out.length; i++)
      if ((out[i] as { entry: Entry }).entry.semver.compare(e.semver) < 0) at = i + 1;
    out.splice(at, 0, { entry: e, json: releaseJson(e) });
  }
  for (const { entry, json } of out) {
    if (!entry.old) releaseChanges.added.push(entry.version);
    else if (same(entry.old, json)) releaseChanges.unchanged++;
    else releaseChanges.updated.push(entry.version);
  }

  function releaseJson(e: Entry): Json {
    const p = position.get(e) as number;
    if (!e.tag) {
      const old = e.old as Json;
      const epochs = { ...(old.epochs as Json) };
      for (const c of addedComponents) {
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
    const oldEpochs = (e.old?.epochs ?? null) as Json | null;
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
    for (const id of (e.old?.ships ?? []) as string[]) {
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

  const releases = out.map((o) => o.json);
  const doc = ordered(
    oldDoc,
    {
      ...(oldDoc ?? {}),
      schemaVersion: 1,
      components,
      releases,
      migrations:
        migrations.length > 0 || oldDoc?.migrations !== undefined ? migrations : undefined,
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
      components: { added: addedComponents },
      releases: releaseChanges,
      migrations: migrationChanges,
    },
    scripts,
    inherited: [...inherited.values()],
    warnings,
  };
}

/**
 * The keys of each release sync adds: a new image is signed like the release before it,
 * so it takes signedBy and trusts from the newest older release of its line, or else the
 * newest older release (transition releases are never the source: they trust extra keys
 * on purpose). Without this, a new release would trust every image and be signed by
 * nothing, between releases that are: the rotation undone by a missing field. One pass in
 * version order, so a new release can inherit from one added just before it.
 */
function inheritKeys(sorted: readonly Entry[]): Map<Entry, InheritedKeys> {
  const out = new Map<Entry, InheritedKeys>();
  const keysOf = (x: Entry): { signedBy: string | null; trusts: readonly string[] | null } => {
    if (x.old === null) return out.get(x) ?? { signedBy: null, trusts: null };
    return {
      signedBy: typeof x.old.signedBy === "string" ? x.old.signedBy : null,
      trusts: Array.isArray(x.old.trusts) ? (x.old.trusts as string[]) : null,
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

const scriptOrder = new WeakMap<readonly PinnedScript[], readonly PinnedScript[]>();

/** A folder's scripts by id (the merge walk needs them sorted; usually they already are). */
function byId(scripts: readonly PinnedScript[]): readonly PinnedScript[] {
  let out = scriptOrder.get(scripts);
  if (out === undefined) {
    const sortedAlready = scripts.every(
      (s, i) => i === 0 || (scripts[i - 1] as PinnedScript).id < s.id,
    );
    out = sortedAlready ? scripts : [...scripts].sort((a, b) => (a.id < b.id ? -1 : 1));
    scriptOrder.set(scripts, out);
  }
  return out;
}

function without(o: Json | null, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o ?? {})) if (!keys.includes(k)) out[k] = v;
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `next`'s defined keys, in `old`'s order where `old` has them; a new key goes after the
 * last key that precedes it in `order` (DESIGN.md's order), so hand-written files keep
 * their layout and written ones follow the documentation.
 */
export function ordered(old: Json | null | undefined, next: Json, order: readonly string[]): Json {
  const keys = Object.keys(next).filter((k) => next[k] !== undefined);
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  const out = old ? Object.keys(old).filter((k) => keys.includes(k)) : [];
  const added = keys.filter((k) => !out.includes(k)).sort((a, b) => rank(a) - rank(b));
  for (const k of added) {
    let at = 0;
    for (let i = 0; i < out.length; i++) if (rank(out[i] as string) <= rank(k)) at = i + 1;
    out.splice(at, 0, k);
  }
  const res: Json = {};
  for (const k of out) res[k] = next[k];
  return res;
}
