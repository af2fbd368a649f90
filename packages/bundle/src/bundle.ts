import * as crypto from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Diagnostic, InputError, systemCode, systemReason } from "@stepstone/errors";
import type { Migration } from "@stepstone/graph";
import type { LoadedGraph } from "@stepstone/graph-file";
import { hasSetE, sha256 as sha256Hex } from "@stepstone/graph-file/scripts";
import type { PlanContext } from "@stepstone/planner";
import { type Signing, UNSIGNED } from "./keys.js";
import {
  BUNDLE_DIR,
  components,
  keyFile,
  type Manifest,
  type ManifestKey,
  manifestJson,
  manifestOrder,
  manifestTsv,
  scriptFile,
} from "./manifest.js";
import { ScriptReader } from "./scripts.js";
import { signManifest } from "./sign.js";
import { bundleMtime, byPath, type TarFile, TarGzWriter } from "./tarball.js";

export interface BundleResult {
  readonly file: string;
  readonly manifest: Manifest;
  readonly signed: boolean;
  /** sha256 of the tarball itself. */
  readonly sha256: string;
  readonly warnings: readonly Diagnostic[];
}

export function bundleFileName(version: string, platform: string | null): string {
  return `migration-${version}${platform === null ? "" : `-${platform}`}.tar.gz`;
}

/** crypto.hash (Node 20.12+) spares a Hash object per script; createHash before it. */
const sha256: (data: Buffer) => string =
  typeof crypto.hash === "function" ? (d) => crypto.hash("sha256", d, "hex") : sha256Hex;

/**
 * Release r's scripts in the manifest's (run) order, read and checked one by one: the
 * sha256 against its pin when it has one, a warning when it does not use `set -e`.
 */
class ReleaseScripts {
  readonly ordered: Migration[];
  /** Each one's file name in the bundle folder. */
  readonly files: string[];
  readonly hashes: string[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly #loaded: LoadedGraph;
  readonly #ctx: PlanContext;
  readonly #r: number;
  readonly #reader: ScriptReader;
  #index: Map<Migration, number> | undefined;

  constructor(loaded: LoadedGraph, ctx: PlanContext, r: number) {
    const release = ctx.releases[r];
    if (!release) throw new InputError(`no release #${r}`);
    if (!release.runner) {
      throw new InputError(
        `${release.version} has no runner (runner: false): its image runs no migration, so it has no bundle`,
      );
    }
    this.#loaded = loaded;
    this.#ctx = ctx;
    this.#r = r;
    this.ordered = manifestOrder(ctx, r);
    this.files = this.ordered.map((m, i) => scriptFile(i + 1, m));
    this.#reader = new ScriptReader(loaded.root);
  }

  /** The path of the i-th script in the bundle. */
  path(i: number): string {
    return `${BUNDLE_DIR}/${this.files[i]}`;
  }

  /** Reads and checks the i-th script (call in order): a view valid until the next read. */
  read(i: number): Buffer {
    const m = this.ordered[i] as Migration;
    const file = this.#loaded.file;
    let d: Buffer;
    try {
      d = this.#reader.read(m.script);
    } catch (e) {
      const code = systemCode(e);
      throw new InputError(
        `${file}: ${this.#where(m)}.script: ${e instanceof InputError ? e.message : `${m.script}: ${code === "ENOENT" ? "no such file" : `cannot read: ${systemReason(e)}`}`}`,
      );
    }
    const h = sha256(d);
    if (m.sha256 !== undefined && h !== m.sha256) {
      throw new InputError(
        `${file}: ${this.#where(m)}.sha256: ${m.script} does not match its pin (sha256 ${h}); a released migration must not change`,
      );
    }
    if (!hasSetE(d.toString("utf8"))) {
      this.warnings.push({
        file,
        where: `${this.#where(m)}.script`,
        message: `${m.script} does not use "set -e"`,
      });
    }
    this.hashes[i] = h;
    return d;
  }

  /** The manifest, once every script is read. */
  manifest(keys: readonly ManifestKey[]): Manifest {
    const ctx = this.#ctx;
    return {
      release: ctx.release(this.#r).version,
      platform: ctx.platform,
      components: components(ctx, this.#r),
      keys,
      scripts: this.ordered.map((m, i) => ({
        order: i + 1,
        id: m.id,
        sha256: this.hashes[i] as string,
        component: m.component,
        from: m.from,
        to: m.to,
        file: this.files[i] as string,
      })),
    };
  }

  #where(m: Migration): string {
    this.#index ??= new Map(this.#ctx.graph.migrations.map((x, i) => [x, i]));
    return `migrations[${this.#index.get(m)}]`;
  }
}

/** The trust store's files (keys/<id>.pem, sorted by id) and their manifest lines. */
function trustFiles(signing: Signing): { files: TarFile[]; keys: ManifestKey[] } {
  const trust = [...signing.trust].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    files: trust.map((k) => ({ path: `${BUNDLE_DIR}/${keyFile(k.id)}`, mode: 0o644, data: k.pem })),
    keys: trust.map((k) => ({ id: k.id, sha256: sha256(k.pem), file: keyFile(k.id) })),
  };
}

/** manifest.tsv, manifest.json and (with a key) manifest.tsv.sig. */
function manifestFiles(manifest: Manifest, signing: Signing): TarFile[] {
  const tsv = manifestTsv(manifest);
  const files: TarFile[] = [
    { path: `${BUNDLE_DIR}/manifest.tsv`, mode: 0o644, data: Buffer.from(tsv) },
    { path: `${BUNDLE_DIR}/manifest.json`, mode: 0o644, data: Buffer.from(manifestJson(manifest)) },
  ];
  if (signing.key !== null) {
    files.push({
      path: `${BUNDLE_DIR}/manifest.tsv.sig`,
      mode: 0o644,
      data: signManifest(tsv, signing.key),
    });
  }
  return files;
}

/** Each path's place once sorted (as tarBytes sorts: by path, ties in the given order). */
function sortedSlots(paths: readonly string[]): number[] {
  const order = paths.map((_, i) => i);
  if (paths.every((p, i) => i === 0 || byPath(paths[i - 1] as string, p) <= 0)) return order;
  order.sort((a, b) => byPath(paths[a] as string, paths[b] as string) || a - b);
  const slots = new Array<number>(paths.length);
  order.forEach((i, slot) => {
    slots[i] = slot;
  });
  return slots;
}

/**
 * The files of release r's bundle, in memory (scripts read and checked against pins).
 * `signing` comes from signingFor (keys.ts), which applies the graph's key rules.
 */
export function bundleFiles(
  loaded: LoadedGraph,
  ctx: PlanContext,
  r: number,
  signing: Signing = UNSIGNED,
): { files: TarFile[]; manifest: Manifest; warnings: Diagnostic[] } {
  const scripts = new ReleaseScripts(loaded, ctx, r);
  const data = scripts.ordered.map((_, i) => Buffer.from(scripts.read(i)));
  const trust = trustFiles(signing);
  const manifest = scripts.manifest(trust.keys);
  const files: TarFile[] = data.map((d, i) => ({ path: scripts.path(i), mode: 0o755, data: d }));
  files.push(...trust.files, ...manifestFiles(manifest, signing));
  return { files, manifest, warnings: scripts.warnings };
}

/**
 * Writes release r's bundle into outDir (atomically: a temp file renamed into place).
 * Scripts go into the tarball as they are read, zlib compressing on another thread
 * meanwhile; the bytes are those of writeTarGz(bundleFiles(...)).
 */
export async function writeBundle(
  loaded: LoadedGraph,
  ctx: PlanContext,
  r: number,
  outDir: string,
  signing: Signing = UNSIGNED,
): Promise<BundleResult> {
  const scripts = new ReleaseScripts(loaded, ctx, r);
  const n = scripts.ordered.length;
  const trust = trustFiles(signing);
  // Every entry's place in the (sorted) tarball: scripts are 0..n-1, then the trust
  // store's keys, then the manifest's files. Scripts' names start with their order's
  // digits, so they normally come in their order, before keys/ and manifest.*; anything
  // read before its turn waits in `early`.
  const paths = scripts.ordered.map((_, i) => scripts.path(i));
  const manifestPaths = ["manifest.tsv", "manifest.json"]
    .concat(signing.key === null ? [] : ["manifest.tsv.sig"])
    .map((f) => `${BUNDLE_DIR}/${f}`);
  const slotOf = sortedSlots([...paths, ...trust.files.map((f) => f.path), ...manifestPaths]);
  const early = new Map<number, TarFile>();
  const tar = new TarGzWriter(bundleMtime());
  let next = 0;
  const emit = async (): Promise<void> => {
    for (let f = early.get(next); f !== undefined; f = early.get(next)) {
      early.delete(next++);
      const wait = tar.add(f.path, f.mode, f.data);
      if (wait) await wait;
    }
  };
  try {
    for (let i = 0; i < n; i++) {
      const d = scripts.read(i);
      if (slotOf[i] === next) {
        next++;
        const wait = tar.add(paths[i] as string, 0o755, d);
        if (wait) await wait;
        if (early.size > 0) await emit();
      } else {
        early.set(slotOf[i] as number, {
          path: paths[i] as string,
          mode: 0o755,
          data: Buffer.from(d),
        });
      }
    }
    const manifest = scripts.manifest(trust.keys);
    [...trust.files, ...manifestFiles(manifest, signing)].forEach((f, k) => {
      early.set(slotOf[n + k] as number, f);
    });
    await emit();
    const bytes = await tar.finish();
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, bundleFileName(manifest.release, manifest.platform));
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
    return {
      file,
      manifest,
      signed: signing.key !== null,
      sha256: sha256(bytes),
      warnings: scripts.warnings,
    };
  } catch (e) {
    tar.abort();
    throw e;
  }
}
