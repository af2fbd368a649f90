import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  bundleFileName,
  bundleFiles,
  bundleMtime,
  type Signing,
  signingsFor,
  writeTarGz,
} from "@stepstone/bundle";
import { InputError } from "@stepstone/errors";
import { type Release, releaseByVersion } from "@stepstone/graph";
import { displayPath, type LoadedGraph } from "@stepstone/graph-file";
import { sha256 } from "@stepstone/graph-file/scripts";
import { PlanContext, type TransitionUse, transitionUse } from "@stepstone/planner";
import { firstLine, gitAt, listTags, openRepo, type Repo, run } from "./git.js";
import { transitionReadme } from "./readme.js";

export interface PublishOptions {
  /** The repository that keeps the transition builds (created when missing or empty). */
  readonly repo: string;
  readonly loaded: LoadedGraph;
  /** ed25519 private key: every bundle gets manifest.tsv.sig (a graph with one key). */
  readonly sign?: string;
  /** A folder of private keys: each release is signed with `<folder>/<signedBy>.pem`. */
  readonly keys?: string;
  /** Only this transition release (its version, or the tag the graph records). */
  readonly release?: string;
  /** Check and say what would be published, and write nothing (not even a new repository). */
  readonly dryRun?: boolean;
}

export type PublishStatus = "published" | "unchanged" | "tagged" | "restored" | "skipped";

export interface PublishedRelease {
  readonly version: string;
  /** Folder in the repository (the version). */
  readonly folder: string;
  /** published: new commit and tag; unchanged: nothing to do; tagged: tag added to the commit
   * that already holds it; restored: folder written again (its tag already had it); skipped. */
  readonly status: PublishStatus;
  readonly reason?: string;
  readonly files: readonly string[];
  readonly commit: string | null;
  readonly tag: string | null;
  readonly scripts: number;
  /** Gaps between golden releases that only it closes. */
  readonly closes: number;
  /** Best plans between golden releases that stop at it. */
  readonly stops: number;
}

export interface PublishResult {
  readonly repo: string;
  /** A new repository was (or, with dryRun, would be) made. */
  readonly initialized: boolean;
  /** Nothing was written: statuses say what publish would do. */
  readonly dryRun: boolean;
  readonly releases: readonly PublishedRelease[];
}

interface Build {
  readonly release: Release;
  readonly files: Map<string, Buffer>;
  readonly scripts: number;
  readonly use: TransitionUse;
}

/**
 * `stepstone publish`: each transition release's bundle (one per platform it overrides,
 * plus the default), a README of what it is for, and SHA256SUMS, in a folder named by
 * its version; one commit and one annotated tag (the version) per release. Everything
 * is computed and checked before anything is written: a dirty repository, or a
 * published build whose content would change, is refused with nothing written.
 */
export async function publishTransitions(opts: PublishOptions): Promise<PublishResult> {
  const { loaded } = opts;
  const dryRun = opts.dryRun === true;
  const only = opts.release === undefined ? null : transitionRelease(loaded, opts.release);
  const wanted = (r: Release) => only === null || r === only;
  // Every release's key first: a missing or wrong key must stop publish before the
  // repository is even created.
  const signings = publishSignings(loaded, opts, wanted);
  const path = resolve(opts.repo);
  const initialized = !existsSync(path) || readdirSync(path).length === 0;
  if (initialized && !dryRun) {
    mkdirSync(path, { recursive: true });
    await gitAt(path).raw(["init", "--quiet"]);
  }
  if (initialized && dryRun) return dryRunInto(loaded, path, signings, wanted);
  const repo = await openRepo(path);
  if (repo.top !== repo.path)
    throw new InputError(
      `--repo ${opts.repo}: name the repository's top folder${repo.top === null ? " (a bare repository has no work tree to publish into)" : ` (${repo.top})`}`,
    );
  try {
    await repo.git.raw(["var", "GIT_COMMITTER_IDENT"]);
  } catch (e) {
    throw new InputError(
      `${opts.repo}: git cannot commit here: ${firstLine(e)} (set user.name and user.email with git config)`,
    );
  }
  const dirty = (await run(repo, ["status", "--porcelain", "--untracked-files=all"])).trim();
  if (dirty !== "") {
    const n = dirty.split("\n").length;
    throw new InputError(
      `${opts.repo}: the repository has uncommitted changes (${n} ${n === 1 ? "path" : "paths"}); commit or stash them first: publish writes nothing into a dirty repository`,
    );
  }

  const ctx = new PlanContext(loaded.graph, null);
  const out: PublishedRelease[] = [];
  const builds: Build[] = [];
  for (const [r, release] of ctx.releases.entries()) {
    if (!release.transition || !wanted(release)) continue;
    const skip = release.withdrawn
      ? "withdrawn: never a stop, nothing to publish"
      : !release.runner
        ? "runner: false: its image runs no migration, so it has no bundle"
        : null;
    if (skip) {
      out.push({
        version: release.version,
        folder: release.version,
        status: "skipped",
        reason: skip,
        files: [],
        commit: null,
        tag: null,
        scripts: 0,
        closes: 0,
        stops: 0,
      });
      continue;
    }
    builds.push(await build(loaded, ctx, r, signings.get(release) as Signing));
  }

  // Check every tag before writing anything: a published build must not change.
  const format = (await run(repo, ["rev-parse", "--show-object-format"])).trim();
  const tags = new Set((await listTags(repo)).map((t) => t.name));
  const problems: string[] = [];
  // A hint must not name a version the graph or the repository already has.
  const taken = new Set([...tags, ...loaded.graph.releases.map((r) => r.version)]);
  for (const b of builds) {
    const tag = b.release.version;
    if (!tags.has(tag)) continue;
    const atTag = await treeFiles(repo, `refs/tags/${tag}`, tag);
    if (!sameFiles(atTag, b.files, format)) {
      problems.push(
        `${tag}: already published as tag ${tag} with other content; a published transition build must not change: publish the change as a new transition release (e.g. ${nextTransition(tag, taken)})`,
      );
    }
  }
  if (problems.length > 0) throw new InputError(problems.join("\n"));

  for (const b of builds) {
    const v = b.release.version;
    const current = (await hasHead(repo))
      ? await treeFiles(repo, "HEAD", v)
      : new Map<string, string>();
    const tagged = tags.has(v);
    let status: PublishStatus = "unchanged";
    let commit: string | null = null;
    if (!sameFiles(current, b.files, format) && dryRun) {
      status = tagged ? "restored" : "published";
    } else if (!sameFiles(current, b.files, format)) {
      const dir = join(repo.path, v);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [name, data] of b.files) writeFileSync(join(dir, name), data);
      await run(repo, ["add", "--all", "--", v]);
      const closes = b.use.closes.map((c) => `${c.from.version} → ${c.to.version}`);
      await run(repo, [
        "commit",
        "--quiet",
        "-m",
        `Transition build ${v}`,
        "-m",
        `${b.scripts} ${b.scripts === 1 ? "script" : "scripts"}; ${closes.length === 0 ? "closes no gap between golden releases" : `closes the gaps ${closes.join(", ")}`}.`,
      ]);
      status = tagged ? "restored" : "published";
    }
    if (!dryRun && (status !== "unchanged" || !tagged)) {
      commit = (await run(repo, ["rev-parse", "HEAD"])).trim();
    }
    if (!tagged && dryRun) {
      if (status === "unchanged") status = "tagged";
    } else if (!tagged) {
      await run(repo, [
        "tag",
        "-a",
        v,
        "-m",
        `Transition build ${v}: ${closesText(b.use.closes.length)} between golden releases`,
      ]);
      if (status === "unchanged") status = "tagged";
    }
    out.push({
      version: v,
      folder: v,
      status,
      files: [...b.files.keys()],
      commit,
      tag: v,
      scripts: b.scripts,
      closes: b.use.closes.length,
      stops: b.use.stops.length,
    });
  }
  out.sort((a, b) => {
    const x = ctx.releases.findIndex((r) => r.version === a.version);
    const y = ctx.releases.findIndex((r) => r.version === b.version);
    return x - y;
  });
  return { repo: repo.path, initialized, dryRun, releases: out };
}

/** `--release V`: a transition release of the graph, by version or recorded tag. */
function transitionRelease(loaded: LoadedGraph, text: string): Release {
  const r =
    releaseByVersion(loaded.graph.releases, text) ??
    loaded.graph.releases.find((x) => x.tag === text);
  if (r === undefined) {
    const names = loaded.graph.releases.filter((x) => x.transition).map((x) => x.version);
    throw new InputError(
      `--release ${text}: no such release in ${displayPath(loaded.file)}${names.length > 0 ? `; its transition releases are ${names.join(", ")}` : ""}`,
    );
  }
  if (!r.transition)
    throw new InputError(
      `--release ${text}: ${r.version} is not a transition release: publish keeps transition builds (bundle it with stepstone bundle --release ${r.version})`,
    );
  return r;
}

/** `--dry-run` into a repository that does not exist yet: every build would be published. */
async function dryRunInto(
  loaded: LoadedGraph,
  path: string,
  signings: ReadonlyMap<Release, Signing>,
  wanted: (r: Release) => boolean,
): Promise<PublishResult> {
  const ctx = new PlanContext(loaded.graph, null);
  const releases: PublishedRelease[] = [];
  for (const [r, release] of ctx.releases.entries()) {
    if (!release.transition || !wanted(release)) continue;
    const signing = signings.get(release);
    if (signing === undefined) continue; // withdrawn, or without the runner
    const b = await build(loaded, ctx, r, signing);
    releases.push({
      version: release.version,
      folder: release.version,
      status: "published",
      files: [...b.files.keys()],
      commit: null,
      tag: release.version,
      scripts: b.scripts,
      closes: b.use.closes.length,
      stops: b.use.stops.length,
    });
  }
  return { repo: path, initialized: true, dryRun: true, releases };
}

/** Transition releases that have a bundle (not withdrawn, with the runner). */
function publishable(r: Release): boolean {
  return r.transition && !r.withdrawn && r.runner;
}

/** How each transition release is signed (every problem at once, exit 2). */
function publishSignings(
  loaded: LoadedGraph,
  opts: PublishOptions,
  wanted: (r: Release) => boolean,
): Map<Release, Signing> {
  const releases = loaded.graph.releases.filter((r) => publishable(r) && wanted(r));
  return signingsFor(loaded, releases, {
    ...(opts.sign !== undefined && { sign: opts.sign }),
    ...(opts.keys !== undefined && { keys: opts.keys }),
  });
}

/** Every file of one release's folder, in memory. */
async function build(
  loaded: LoadedGraph,
  ctx: PlanContext,
  r: number,
  signing: Signing,
): Promise<Build> {
  const release = ctx.release(r);
  const files = new Map<string, Buffer>();
  const bundles: { file: string; platform: string | null; sha256: string }[] = [];
  const platforms = [null, ...Object.keys(release.platforms).sort()];
  let manifest: ReturnType<typeof bundleFiles>["manifest"] | null = null;
  const stage = mkdtempSync(join(tmpdir(), "stepstone-publish-"));
  try {
    for (const platform of platforms) {
      const pctx = platform === null ? ctx : new PlanContext(loaded.graph, platform);
      const res = bundleFiles(loaded, pctx, r, signing);
      manifest ??= res.manifest;
      const name = bundleFileName(release.version, platform);
      const tmp = join(stage, name);
      await writeTarGz(tmp, res.files, bundleMtime());
      const data = readFileSync(tmp);
      files.set(name, data);
      bundles.push({ file: name, platform, sha256: sha256(data) });
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const m = manifest as NonNullable<typeof manifest>;
  const byId = new Map(loaded.graph.migrations.map((x) => [x.id, x]));
  const use = transitionUse(loaded.graph, release);
  files.set(
    "README.md",
    Buffer.from(
      transitionReadme({
        release,
        epochs: m.components.map((c) => ({ name: c.name, epoch: c.epoch })),
        scripts: m.scripts.map((s) => {
          const d = byId.get(s.id)?.description;
          return { ...s, ...(d !== undefined && { description: d }) };
        }),
        bundles,
        use,
        signed: signing.key !== null,
        graph: basename(displayPath(loaded.file)),
      }),
    ),
  );
  files.set("SHA256SUMS", Buffer.from(bundles.map((b) => `${b.sha256}  ${b.file}\n`).join("")));
  return {
    release,
    files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))),
    scripts: m.scripts.length,
    use,
  };
}

async function hasHead(repo: Repo): Promise<boolean> {
  // A fresh repository has no HEAD commit yet; --quiet makes that an empty answer.
  try {
    return (
      (await repo.git.raw(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).trim() !== ""
    );
  } catch {
    return false;
  }
}

/** name -> blob id of the files in `folder` at `rev` (one `ls-tree`). */
async function treeFiles(repo: Repo, rev: string, folder: string): Promise<Map<string, string>> {
  const text = await run(repo, ["ls-tree", "-r", "-z", `${rev}^{tree}`, "--", `${folder}/`]);
  const files = new Map<string, string>();
  for (const rec of text.split("\0")) {
    if (rec === "") continue;
    const tab = rec.indexOf("\t");
    const [, , oid = ""] = rec.slice(0, tab).split(" ");
    files.set(rec.slice(tab + 1).slice(folder.length + 1), oid);
  }
  return files;
}

/** Do the folder's files in git hold exactly these contents? (Blob ids computed here.) */
function sameFiles(
  inGit: ReadonlyMap<string, string>,
  files: ReadonlyMap<string, Buffer>,
  format: string,
): boolean {
  if (inGit.size !== files.size) return false;
  for (const [name, data] of files) {
    if (inGit.get(name) !== blobId(data, format)) return false;
  }
  return true;
}

function blobId(data: Buffer, format: string): string {
  return createHash(format === "sha256" ? "sha256" : "sha1")
    .update(`blob ${data.length}\0`)
    .update(data)
    .digest("hex");
}

function closesText(n: number): string {
  return n === 0 ? "closes no gap" : `closes ${n} ${n === 1 ? "gap" : "gaps"}`;
}

/**
 * `2.10.1-transition.1` -> `2.10.1-transition.2`, or the next number that `taken` (the
 * graph's versions and the repository's tags) does not hold (a hint, not a rule).
 */
export function nextTransition(version: string, taken: ReadonlySet<string>): string {
  const m = /^(.*\.)(\d+)$/.exec(version);
  const [stem, n] = m ? [m[1] as string, Number(m[2]) + 1] : [`${version}.`, 1];
  let k = n;
  while (taken.has(`${stem}${k}`)) k++;
  return `${stem}${k}`;
}
