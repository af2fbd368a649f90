import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Diagnostic, InputError } from "@stepstone/errors";
import type { Migration } from "@stepstone/graph";
import { hasSetE, type LoadedGraph, readScript, sha256 } from "@stepstone/graph-file";
import type { PlanContext } from "@stepstone/planner";
import { BUNDLE_DIR, buildManifest, type Manifest, manifestJson, manifestTsv } from "./manifest.js";
import { signManifest } from "./sign.js";
import { bundleMtime, type TarFile, writeTarGz } from "./tarball.js";

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

/** The files of release r's bundle, in memory (scripts read and checked against pins). */
export function bundleFiles(
  loaded: LoadedGraph,
  ctx: PlanContext,
  r: number,
  signKey?: string,
): { files: TarFile[]; manifest: Manifest; warnings: Diagnostic[] } {
  const release = ctx.releases[r];
  if (!release) throw new InputError(`no release #${r}`);
  if (!release.runner) {
    throw new InputError(
      `${release.version} has no runner (runner: false): its image runs no migration, so it has no bundle`,
    );
  }
  const warnings: Diagnostic[] = [];
  const data = new Map<Migration, Buffer>();
  const index = new Map(ctx.graph.migrations.map((m, i) => [m, i]));
  const read = (m: Migration): Buffer => {
    let d = data.get(m);
    if (d) return d;
    const where = `migrations[${index.get(m)}].script`;
    try {
      d = readScript(loaded.root, m.script);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(
        `${loaded.file}: ${where}: ${e instanceof InputError ? e.message : `${m.script}: ${code === "ENOENT" ? "no such file" : `cannot read (${code})`}`}`,
      );
    }
    if (m.sha256 !== undefined && sha256(d) !== m.sha256) {
      throw new InputError(
        `${loaded.file}: migrations[${index.get(m)}].sha256: ${m.script} does not match its pin (sha256 ${sha256(d)}); a released migration must not change`,
      );
    }
    if (!hasSetE(d.toString("utf8")))
      warnings.push({ file: loaded.file, where, message: `${m.script} does not use "set -e"` });
    data.set(m, d);
    return d;
  };
  const manifest = buildManifest(ctx, r, (m) => sha256(read(m)));
  const byId = new Map(ctx.graph.migrations.map((m) => [m.id, m]));
  const tsv = manifestTsv(manifest);
  const files: TarFile[] = manifest.scripts.map((s) => ({
    path: `${BUNDLE_DIR}/${s.file}`,
    mode: 0o755,
    data: read(byId.get(s.id) as Migration),
  }));
  files.push({ path: `${BUNDLE_DIR}/manifest.tsv`, mode: 0o644, data: Buffer.from(tsv) });
  files.push({
    path: `${BUNDLE_DIR}/manifest.json`,
    mode: 0o644,
    data: Buffer.from(manifestJson(manifest)),
  });
  if (signKey !== undefined) {
    files.push({
      path: `${BUNDLE_DIR}/manifest.tsv.sig`,
      mode: 0o644,
      data: signManifest(tsv, signKey),
    });
  }
  return { files, manifest, warnings };
}

/** Writes release r's bundle into outDir (atomically: a temp file renamed into place). */
export async function writeBundle(
  loaded: LoadedGraph,
  ctx: PlanContext,
  r: number,
  outDir: string,
  signKey?: string,
): Promise<BundleResult> {
  const { files, manifest, warnings } = bundleFiles(loaded, ctx, r, signKey);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, bundleFileName(manifest.release, manifest.platform));
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeTarGz(tmp, files, bundleMtime());
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return {
    file,
    manifest,
    signed: signKey !== undefined,
    sha256: sha256(readFileSync(file)),
    warnings,
  };
}
