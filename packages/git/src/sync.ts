import { existsSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { InputError } from "@stepstone/errors";
import { displayPath, type LoadedGraph, loadGraph, writeGraphFile } from "@stepstone/graph-file";
import { sha256 } from "@stepstone/graph-file/scripts";
import { listTags, openRepo } from "./git.js";
import { type InheritedKeys, type MergeResult, mergeSync, type SyncChanges } from "./merge.js";
import { type ReadProgress, readTags } from "./read.js";
import { type SkippedTag, selectTags } from "./tags.js";

export interface SyncOptions {
  /** The firmware (or layer) repository. */
  readonly repo: string;
  /** The graph file to update (created when missing). */
  readonly graph: string;
  /** Only tags matching this glob. */
  readonly tags?: string;
  /** Skip tags matching this glob. */
  readonly exclude?: string;
  /** Called now and then while reading the tags and writing the scripts. */
  readonly progress?: (p: SyncProgress) => void;
}

export interface SyncProgress {
  readonly stage: ReadProgress["stage"] | "writing";
  readonly done: number;
  readonly total: number;
}

export interface PeeledTag {
  readonly tag: string;
  /** The tag objects followed to the commit (2 for a tag of a tag). */
  readonly levels: number;
  readonly commit: string;
}

export interface SyncResult {
  /** The graph file, absolute. */
  readonly file: string;
  /** Was there no graph file before? */
  readonly created: boolean;
  /** Was the graph file written (false: it already said all of this, byte for byte)? */
  readonly written: boolean;
  readonly tags: { readonly read: number; readonly filtered: number };
  readonly skipped: readonly SkippedTag[];
  /** Tags read through more than one tag object (an annotated tag of an annotated tag). */
  readonly peeled: readonly PeeledTag[];
  readonly changes: SyncChanges;
  /** Scripts written beside the graph (new, or their content differed), graph-relative. */
  readonly scripts: readonly string[];
  /** New releases that took signedBy and trusts from an older release. */
  readonly inherited: readonly InheritedKeys[];
  readonly warnings: readonly string[];
}

/**
 * `stepstone sync`: reads the repository's tags into the graph file and mirrors every
 * migration's script beside it (`<graph folder>/<script>`, by default the repository's own
 * path `migrations/<component>/<from>-<to>-<slug>.sh`), with the content the graph pins,
 * so the graph validates and bundles without a checkout of any tag. Nothing is written
 * when the result would not validate.
 */
export async function syncRepo(opts: SyncOptions): Promise<SyncResult> {
  const repo = await openRepo(resolve(opts.repo));
  const file = resolve(opts.graph);
  const root = dirname(file);
  if (repo.top !== null && existsSync(root) && realpathSync(root) === repo.top) {
    throw new InputError(
      `${displayPath(file)}: the graph sits at the top of the repository it reads, where its scripts would overwrite the repository's own migrations/; keep it in another folder (e.g. ${join(relative(process.cwd(), repo.top) || ".", "release", "release-graph.json")}, or a release repository)`,
    );
  }
  const created = !existsSync(file);
  const old: LoadedGraph | null = created ? null : await loadGraph(file);
  const pinned = new Map<string, string>();
  for (const r of old?.graph.releases ?? [])
    if (r.tag !== undefined) pinned.set(r.semver.version, r.tag);

  const refs = await listTags(repo);
  const selection = selectTags(refs, {
    ...(opts.tags !== undefined && { include: opts.tags }),
    ...(opts.exclude !== undefined && { exclude: opts.exclude }),
    pinned,
  });
  const read = await readTags(repo.path, selection.tags, opts.progress);
  const result: MergeResult = mergeSync({
    file: displayPath(file),
    old: old && { json: old.json, graph: old.graph },
    tags: read.tags,
    repoTags: new Set(refs.map((r) => r.name)),
  });

  const written = await mirror(root, displayPath(file), result, read.blobs, opts.progress);
  if (result.changed) {
    mkdirSync(root, { recursive: true });
    writeGraphFile(file, result.doc);
  }
  return {
    file,
    created,
    written: result.changed,
    tags: { read: read.tags.length, filtered: selection.filtered },
    skipped: [...selection.skipped, ...read.skipped],
    peeled: selection.tags
      .filter((t) => t.ref.peeled > 1)
      .map((t) => ({ tag: t.ref.name, levels: t.ref.peeled, commit: t.ref.commit })),
    changes: result.changes,
    scripts: written,
    inherited: result.inherited,
    warnings: [...read.problems, ...result.warnings],
  };
}

/**
 * Writes each migration's script beside the graph, where its `script` says, unless the
 * file there already has the pinned content. A vendor's history has tens of thousands of
 * scripts: folders are listed once instead of a stat per file, and files are read and
 * written a few at a time concurrently (one at a time, the disk's latency per file adds up
 * to most of the run). Returns the scripts written.
 */
async function mirror(
  root: string,
  name: string,
  result: MergeResult,
  blobs: ReadonlyMap<string, Buffer>,
  progress?: (p: SyncProgress) => void,
): Promise<string[]> {
  const listings = new Map<string, Set<string>>();
  const jobs: {
    path: string;
    target: string;
    data: Buffer;
    mode: number;
    exists: boolean;
    sha: string;
  }[] = [];
  for (const { path, script } of result.scripts) {
    const target = join(root, path);
    const rel = relative(root, target);
    if (rel.startsWith("..") || rel.split(sep).includes("..")) {
      throw new InputError(`${name}: script ${path} is outside the graph's folder`);
    }
    const dir = dirname(target);
    let names = listings.get(dir);
    if (names === undefined) {
      if (existsSync(dir)) names = new Set(readdirSync(dir));
      else {
        mkdirSync(dir, { recursive: true });
        names = new Set();
      }
      listings.set(dir, names);
    }
    jobs.push({
      path,
      target,
      data: blobs.get(script.blob) as Buffer,
      mode: script.executable ? 0o755 : 0o644,
      exists: names.has(basename(target)),
      sha: script.sha256,
    });
  }
  const written = new Set<string>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++] as (typeof jobs)[number];
      done++;
      if (done % 256 === 0 || done === jobs.length)
        progress?.({ stage: "writing", done, total: jobs.length });
      if (j.exists) {
        if (sha256(await readFile(j.target)) === j.sha) continue;
        await writeAtomic(j.target, j.data, j.mode);
      } else {
        // A new file, written in place: a torn write is found and repaired by the next
        // sync, which compares every mirrored script with its pin.
        await writeFile(j.target, j.data, { mode: j.mode });
      }
      written.add(j.path);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return result.scripts.map((s) => s.path).filter((p) => written.has(p));
}

/** Write to a temporary file beside the target, then rename: never a half-written file. */
async function writeAtomic(target: string, data: Buffer, mode: number): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode);
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}
