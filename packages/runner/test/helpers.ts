/**
 * Builds device roots for the runner by hand (runner + units emitted by the package, a
 * bundle with manifest.tsv, scripts, sha256s and an optional real ed25519 signature) and
 * runs the runner in them with real shells. No mocks: every tool is the real one, and a
 * missing tool fails the test that needs it (never a skip).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { useTempDirs } from "@stepstone/test-utils";
import { emitRunner, type RunnerOptions, writeTree } from "../src/index.js";

export const SHELLS = ["dash", "busybox ash"] as const;
export type Shell = (typeof SHELLS)[number];

const toolCache = new Map<string, string>();
/** The absolute path of a tool; throws (failing the test) when it is not installed. */
export function tool(name: string): string {
  const known = toolCache.get(name);
  if (known) return known;
  const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { encoding: "utf8" });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path.startsWith("/")) {
    throw new Error(
      `${name} is required by the runner tests and was not found on PATH (apt-get install ${name})`,
    );
  }
  toolCache.set(name, path);
  return path;
}

/** argv prefix that runs a sh file with the given shell. */
export function shellArgv(shell: Shell): string[] {
  return shell === "dash" ? [tool("dash")] : [tool("busybox"), "ash"];
}

/** Device roots and other folders, kept after the run when KEEP_TEST_ROOTS is set. */
export const tempDir = useTempDirs("runner", { removeAfter: "all", keepIf: "KEEP_TEST_ROOTS" });

export interface ComponentSpec {
  name: string;
  epoch: number;
  baseline?: number;
  onFailure?: "halt" | "isolate" | "wipe";
  paths?: string[];
}

export interface ScriptSpec {
  id: string;
  component: string;
  from: number;
  to: number;
  /** Script body after `set -e`; default: log the run and add an effect line (re-runnable). */
  body?: string;
}

export interface BundleSpec {
  release: string;
  platform?: string;
  components: ComponentSpec[];
  scripts: ScriptSpec[];
  /** Sign manifest.tsv with this key. */
  signWith?: KeyPair;
  /** The image's trust store: keys/<id>.pem with a `key` line each in manifest.tsv. */
  trusts?: KeyPair[];
}

/**
 * The default script: appends its id to $MIGRATION_ROOT/runs (every run, for counting) and,
 * once, a line "<id>" to $MIGRATION_ROOT/data/<component> (its effect, re-runnable).
 */
export function defaultBody(s: ScriptSpec): string {
  return [
    'mkdir -p "$MIGRATION_ROOT/data"',
    `echo "${s.id} $MIGRATION_PHASE $MIGRATION_FROM $MIGRATION_TO" >> "$MIGRATION_ROOT/runs"`,
    `f="$MIGRATION_ROOT/data/${s.component}"`,
    `grep -qx "${s.id}" "$f" 2>/dev/null || echo "${s.id}" >> "$f"`,
  ].join("\n");
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function scriptFile(order: number, s: ScriptSpec): string {
  return `${String(order).padStart(4, "0")}-${s.component}-${s.from}-${s.to}-${s.id}.sh`;
}

/** Writes a bundle folder (what the image has in usr/share/migration.d). */
export function writeBundle(dir: string, spec: BundleSpec): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = [`release\t${spec.release}`, `platform\t${spec.platform ?? "-"}`];
  for (const c of spec.components) {
    const paths = c.paths && c.paths.length > 0 ? c.paths.join(",") : "-";
    lines.push(
      `component\t${c.name}\t${c.epoch}\t${c.baseline ?? 1}\t${c.onFailure ?? "halt"}\t${paths}`,
    );
  }
  const keys = [...(spec.trusts ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (keys.length > 0) mkdirSync(join(dir, "keys"));
  for (const k of keys) {
    const pem = readFileSync(k.pub);
    writeFileSync(join(dir, "keys", `${k.id}.pem`), pem);
    lines.push(`key\t${k.id}\t${sha256(pem)}\tkeys/${k.id}.pem`);
  }
  spec.scripts.forEach((s, i) => {
    const file = scriptFile(i + 1, s);
    const content = `#!/bin/sh\nset -e\n${s.body ?? defaultBody(s)}\n`;
    writeFileSync(join(dir, file), content, { mode: 0o755 });
    lines.push(
      `script\t${i + 1}\t${s.id}\t${sha256(content)}\t${s.component}\t${s.from}\t${s.to}\t${file}`,
    );
  });
  writeFileSync(join(dir, "manifest.tsv"), `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(spec, null, 2)}\n`);
  if (spec.signWith) signManifest(dir, spec.signWith);
}

export interface KeyPair {
  id: string;
  priv: string;
  pub: string;
}

/** A real ed25519 key pair made by openssl. */
export function makeKeyPair(dir: string, name = "key"): KeyPair {
  mkdirSync(dir, { recursive: true });
  const priv = join(dir, `${name}.priv.pem`);
  const pub = join(dir, `${name}.pem`);
  execFileSync(tool("openssl"), ["genpkey", "-algorithm", "ed25519", "-out", priv]);
  execFileSync(tool("openssl"), ["pkey", "-in", priv, "-pubout", "-out", pub]);
  return { id: name, priv, pub };
}

export function signManifest(dir: string, key: KeyPair): void {
  execFileSync(tool("openssl"), [
    "pkeyutl",
    "-sign",
    "-inkey",
    key.priv,
    "-rawin",
    "-in",
    join(dir, "manifest.tsv"),
    "-out",
    join(dir, "manifest.tsv.sig"),
  ]);
}

export interface RootOptions extends RunnerOptions {
  bundle?: BundleSpec;
  /** The image's trust store (the bundle's `trusts`, when it does not name its own). */
  keys?: KeyPair[];
}

export interface TestRoot {
  root: string;
  runner: string;
  bundleDir: string;
  stateDir: string;
  upperDir: string;
  /** The trust store of the image installed last (kept by installBundle). */
  trusts?: KeyPair[];
}

export const BUNDLE_REL = "usr/share/migration.d";
export const STATE_REL = "var/lib/migration";

/** A device root: emitted runner and units, optionally a bundle and keys. */
export async function makeRoot(opts: RootOptions = {}): Promise<TestRoot> {
  const root = tempDir();
  const { bundle, keys, ...runnerOptions } = opts;
  await writeTree(root, emitRunner(runnerOptions));
  const upper = (runnerOptions.upper ?? "/").replace(/^\/+/, "");
  const t: TestRoot = {
    root,
    runner: join(root, "usr/libexec/migration/runner"),
    bundleDir: join(root, BUNDLE_REL),
    stateDir: join(root, STATE_REL),
    upperDir: upper === "" ? root : join(root, upper),
  };
  mkdirSync(join(root, "run"), { recursive: true });
  if (keys) t.trusts = keys;
  if (bundle) installBundle(t, bundle);
  return t;
}

/**
 * Replaces the image's bundle ("flashing" another release). A spec without `trusts` gets
 * the trust store of the image before it, as an image of the same vendor would.
 */
export function installBundle(t: TestRoot, spec: BundleSpec): void {
  const trusts = spec.trusts ?? t.trusts;
  if (trusts) t.trusts = trusts;
  writeBundle(t.bundleDir, { ...spec, ...(trusts ? { trusts } : {}) });
}

/** A rootfs-relative .tar.gz of a bundle folder, as `stepstone bundle` makes (no dir entries). */
export function tarBundle(bundleDir: string, out: string): string {
  const stage = tempDir("stepstone-tar-");
  const dest = join(stage, BUNDLE_REL);
  mkdirSync(dest, { recursive: true });
  const files: string[] = [];
  for (const f of readdirSync(bundleDir)) {
    if (f === "keys") {
      mkdirSync(join(dest, "keys"));
      for (const k of readdirSync(join(bundleDir, "keys"))) {
        writeFileSync(join(dest, "keys", k), readFileSync(join(bundleDir, "keys", k)));
        files.push(`keys/${k}`);
      }
    } else {
      writeFileSync(join(dest, f), readFileSync(join(bundleDir, f)));
      files.push(f);
    }
  }
  execFileSync(tool("tar"), ["-czf", out, "-C", stage, ...files.map((f) => `${BUNDLE_REL}/${f}`)]);
  return out;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runRunner(
  t: TestRoot,
  shell: Shell,
  args: string[],
  env: Record<string, string> = {},
  prefix: string[] = [],
): RunResult {
  const argv = [...prefix, ...shellArgv(shell), t.runner, "--root", t.root, ...args];
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    encoding: "utf8",
    env: { ...process.env, MIGRATION_LOCK_TIMEOUT: "5", ...env },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function readState(t: TestRoot, rel: string): string | undefined {
  const p = join(t.stateDir, rel);
  return existsSync(p) ? readFileSync(p, "utf8") : undefined;
}

export function writeState(t: TestRoot, rel: string, content: string): void {
  const p = join(t.stateDir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

export function listState(t: TestRoot, dir: string): string[] {
  const p = join(t.stateDir, dir);
  return existsSync(p) ? readdirSync(p).sort() : [];
}

/** Lines of $MIGRATION_ROOT/runs: "<id> <phase> <from> <to>" per script run. */
export function runs(t: TestRoot): string[] {
  const p = join(t.root, "runs");
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean) : [];
}

export function runIds(t: TestRoot): string[] {
  return runs(t).map((l) => l.split(" ")[0] as string);
}

/** Effect lines of a component's data file (each script's id, once). */
export function effects(t: TestRoot, component: string): string[] {
  const p = join(t.root, "data", component);
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean) : [];
}

/** Creates data files in the persistent layer (the upper dir). */
export function putData(t: TestRoot, rel: string, content = "x\n"): void {
  const p = join(t.upperDir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

export interface Status {
  release: string | null;
  platform: string | null;
  components: {
    name: string;
    epoch: number | null;
    imageEpoch: number;
    pending: string[];
    interrupted: string | null;
    failed: boolean;
  }[];
  failures: {
    id: string;
    component: string | null;
    phase: "boot" | "pre-flash" | null;
    from: number | null;
    to: number | null;
    status: number | null;
    reason: string | null;
    journal: string[];
  }[];
}

export function status(t: TestRoot, shell: Shell): Status {
  const r = runRunner(t, shell, ["status", "--json"]);
  if (r.status !== 0) throw new Error(`status failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Status;
}

export function epochOf(t: TestRoot, shell: Shell, component: string): number | null {
  const c = status(t, shell).components.find((x) => x.name === component);
  if (!c) throw new Error(`no component ${component} in status`);
  return c.epoch;
}

export function makeExecutable(path: string): void {
  chmodSync(path, 0o755);
}

/** A linear chain of default scripts c-1-2, c-2-3, ... up to `to`. */
export function chain(component: string, from: number, to: number): ScriptSpec[] {
  const out: ScriptSpec[] = [];
  for (let e = from; e < to; e++) {
    out.push({ id: `${component}-${e}-${e + 1}`, component, from: e, to: e + 1 });
  }
  return out;
}
