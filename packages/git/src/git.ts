import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, realpathSync, statSync } from "node:fs";
import { InputError } from "@stepstone/errors";
import { type SimpleGit, simpleGit } from "simple-git";
import type { TreeEntry } from "./layout.js";
import type { TagRef } from "./tags.js";

/**
 * The thin git shell: a handful of processes whatever the repository's size (one
 * `for-each-ref` for the tags, one `cat-file --batch` for every tree and blob), so reading
 * a thousand tags costs what reading their objects costs, not a process per file per tag.
 */

export interface Repo {
  readonly git: SimpleGit;
  /** The folder given, resolved. */
  readonly path: string;
  /** The work tree's top folder, or null without one (a bare repository). */
  readonly top: string | null;
}

/**
 * Variables that point git at another repository than the one named. Run from a git hook
 * (GIT_DIR set to the hook's repository), they would make `publish --repo X` commit into
 * the hook's repository: they are never passed on.
 */
const REPOSITORY_ENV = new Set([
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
]);

/** Programs git could start (an editor, a pager, ssh): stepstone's git calls need none. */
const PROGRAM_ENV = new Set([
  "EDITOR",
  "VISUAL",
  "PAGER",
  "GIT_EDITOR",
  "GIT_SEQUENCE_EDITOR",
  "GIT_PAGER",
  "GIT_EXTERNAL_DIFF",
  "GIT_ASKPASS",
  "SSH_ASKPASS",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_PROXY_COMMAND",
  "GIT_EXEC_PATH",
  "GIT_TEMPLATE_DIR",
]);

/**
 * The environment of every git process stepstone starts, simple-git's and cat-file's
 * alike: the user's own, with the identity and configuration a CI bot gives git that way
 * (GIT_AUTHOR_*, GIT_COMMITTER_*, GIT_CONFIG_GLOBAL, GIT_CONFIG_COUNT/KEY_n/VALUE_n...),
 * without the variables above. (simple-git 4 strips every ambient GIT_* variable unless
 * it is allowed, so a bot without a git config could not commit.)
 */
export function gitEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || REPOSITORY_ENV.has(k.toUpperCase()) || PROGRAM_ENV.has(k.toUpperCase()))
      continue;
    out[k] = v;
  }
  return out;
}

/** A simple-git instance for `path` that runs git in gitEnv(). */
export function gitAt(path: string): SimpleGit {
  const env = gitEnv();
  return simpleGit(path, {
    // Allowed by name: simple-git drops the GIT_* variables it is not told about.
    allowEnvironment: Object.keys(env),
    // The environment is the user's own, not a request's: git configuration given through
    // it (GIT_CONFIG_GLOBAL, GIT_CONFIG_COUNT) is what the user asked for.
    unsafe: { allowUnsafeConfigPaths: true, allowUnsafeConfigEnvCount: true },
  }).env(env);
}

export async function openRepo(path: string, option = "--repo"): Promise<Repo> {
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new InputError(`${option} ${path}: no such folder`);
  const git = gitAt(path);
  try {
    await git.raw(["rev-parse", "--git-dir"]);
  } catch (e) {
    throw new InputError(`${option} ${path}: not a git repository (${firstLine(e)})`);
  }
  // Bare repositories (CI mirrors) and the inside of .git have tags but no work tree.
  let top: string | null = null;
  const inTree = (await git.raw(["rev-parse", "--is-inside-work-tree"])).trim() === "true";
  if (inTree) top = realpathSync((await git.raw(["rev-parse", "--show-toplevel"])).trim());
  return { git, path: realpathSync(path), top };
}

/**
 * `git ARGS` in the repository, its stdout; a failure is the user's to fix (a broken
 * repository, a missing identity, a hook), so it becomes an InputError with git's words.
 */
export async function run(repo: Repo, args: readonly string[]): Promise<string> {
  try {
    return await repo.git.raw([...args]);
  } catch (e) {
    throw new InputError(`${repo.path}: git ${args[0]} failed: ${firstLine(e)}`);
  }
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).trim().split("\n")[0] ?? "";
}

/**
 * Every tag, with what it points to (one `git for-each-ref`). An annotated tag of an
 * annotated tag (OpenBMC's 2.8.0) is peeled fully, as `^{commit}` does: for-each-ref peels
 * one level, and the tags it leaves at a tag object are followed through one `cat-file`.
 */
export async function listTags(repo: Repo): Promise<TagRef[]> {
  const text = await run(repo, [
    "for-each-ref",
    "--format=%(refname)%09%(objecttype)%09%(objectname)%09%(*objecttype)%09%(*objectname)",
    "refs/tags",
  ]);
  const tags: TagRef[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [ref = "", type, oid = "", peeledType, peeled = ""] = line.split("\t");
    const annotated = type === "tag";
    tags.push({
      name: ref.replace(/^refs\/tags\//, ""),
      target: (annotated ? peeledType : type) ?? "",
      commit: annotated ? peeled : oid,
      annotated,
      peeled: annotated ? 1 : 0,
    });
  }
  if (tags.some((t) => t.target === "tag")) await peelNested(repo, tags);
  return tags;
}

/** Follows the tags that point to tag objects, one level per batch, to what they tag. */
async function peelNested(repo: Repo, tags: TagRef[]): Promise<void> {
  const cat = new CatFile(repo.path);
  try {
    // Each level is one batch; a cycle is impossible (a tag names an older object).
    for (let level = 0; level < 64; level++) {
      const open = tags.filter((t) => t.target === "tag");
      if (open.length === 0) break;
      const objects = await cat.read(open.map((t) => t.commit));
      open.forEach((t, i) => {
        const head = objects[i]?.data.toString("utf8", 0, 200) ?? "";
        const object = /^object ([0-9a-f]+)$/m.exec(head)?.[1];
        const type = /^type (\w+)$/m.exec(head)?.[1];
        const at = tags.indexOf(t);
        tags[at] = {
          ...t,
          target: object !== undefined && type !== undefined ? type : "missing object",
          commit: object ?? "",
          peeled: t.peeled + 1,
        };
      });
    }
  } finally {
    await cat.close();
  }
}

export interface GitObject {
  readonly oid: string;
  readonly type: string;
  readonly data: Buffer;
}

/**
 * One long-lived `git cat-file --batch`: requests are written in batches and answered in
 * order, so a whole level of the tree (every tag's `migrations` folder, then every
 * component folder, then every blob) costs one round trip.
 */
export class CatFile {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf: Buffer = Buffer.alloc(0);
  /** Requests not answered yet, oldest at `head` (an index: shift() would be O(n) each). */
  private waiting: ((o: GitObject | null) => void)[] = [];
  private rejects: ((e: Error) => void)[] = [];
  private head = 0;
  private stderr = "";
  private failure: Error | null = null;

  constructor(cwd: string) {
    this.child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const r of this.rejects.slice(this.head)) r(this.failure);
      this.waiting = [];
      this.rejects = [];
      this.head = 0;
    };
    this.child.on("error", (e) => fail(new InputError(`git cat-file: ${e.message}`)));
    this.child.on("close", (code) => {
      if (this.waiting.length > this.head)
        fail(new InputError(`git cat-file exited ${code}: ${this.stderr.trim()}`));
    });
    this.child.stdin.on("error", () => {}); // reported through "close"
  }

  /** The objects the specs name (`<oid>`, `<commit>:<path>`), null for missing ones. */
  read(specs: readonly string[], each?: () => void): Promise<(GitObject | null)[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (specs.length === 0) return Promise.resolve([]);
    const bad = specs.find((s) => /[\n\0]/.test(s));
    if (bad !== undefined)
      return Promise.reject(new Error(`bad object name ${JSON.stringify(bad)}`));
    const all = specs.map(
      () =>
        new Promise<GitObject | null>((resolve, reject) => {
          this.waiting.push((o) => {
            each?.();
            resolve(o);
          });
          this.rejects.push(reject);
        }),
    );
    this.child.stdin.write(`${specs.join("\n")}\n`);
    return Promise.all(all);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once("close", () => resolve());
      this.child.stdin.end();
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf(10, pos);
      if (nl === -1) break;
      const header = this.buf.toString("latin1", pos, nl);
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
        pos = nl + 1;
        this.settle(null);
        continue;
      }
      const [oid = "", type = "", size = ""] = header.split(" ");
      const end = nl + 1 + Number(size);
      if (this.buf.length < end + 1) break; // content and its trailing newline not here yet
      // A view, not a copy: stream chunks are never reused, and objects are read once.
      const data = this.buf.subarray(nl + 1, end);
      pos = end + 1;
      this.settle({ oid, type, data });
    }
    this.buf = pos === 0 ? this.buf : this.buf.subarray(pos);
  }

  private settle(o: GitObject | null): void {
    const resolve = this.waiting[this.head];
    this.head++;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.rejects = [];
      this.head = 0;
    }
    resolve?.(o);
  }
}

/**
 * A tree object's entries (`<mode> <name>\0<raw oid>`, repeated). With `intern`, an entry
 * seen in another tree (same mode, name and object) is that same object: a thousand tags
 * of a folder that changes a little share almost all of their entries.
 */
export function parseTree(
  data: Buffer,
  oidBytes: number,
  intern?: Map<string, TreeEntry>,
): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(32, i);
    const nul = data.indexOf(0, space);
    if (space === -1 || nul === -1) break;
    const end = nul + 1 + oidBytes;
    const key = intern ? data.toString("latin1", i, end) : "";
    let e = intern?.get(key);
    if (e === undefined) {
      e = {
        mode: data.toString("latin1", i, space),
        name: data.toString("utf8", space + 1, nul),
        oid: data.toString("hex", nul + 1, end),
      };
      intern?.set(key, e);
    }
    out.push(e);
    i = end;
  }
  return out;
}
