import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create, list, type ReadEntry } from "tar";

export interface TarFile {
  /** Root-file-system-relative path, e.g. usr/share/migration.d/manifest.tsv. */
  readonly path: string;
  readonly mode: number;
  readonly data: Buffer;
}

/**
 * Without SOURCE_DATE_EPOCH every entry gets this mtime: 1980-01-01T00:00:00Z, the
 * earliest time every archive format (zip included) can hold.
 */
export const DEFAULT_MTIME = 315532800;

/** SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else DEFAULT_MTIME. */
export function bundleMtime(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.SOURCE_DATE_EPOCH;
  if (s === undefined || s === "") return DEFAULT_MTIME;
  if (!/^\d+$/.test(s))
    throw new Error(`SOURCE_DATE_EPOCH="${s}" is not a whole number of seconds`);
  return Number(s);
}

/**
 * A reproducible .tar.gz: entries sorted by path, only files (no entries for parent
 * folders, so extracting into / never resets /usr's mode), uid/gid 0, one fixed mtime,
 * and zlib's gzip header (no file name, no time). Same files in, same bytes out.
 */
export async function writeTarGz(
  file: string,
  files: readonly TarFile[],
  mtime: number,
): Promise<void> {
  const stage = mkdtempSync(join(tmpdir(), "stepstone-bundle-"));
  try {
    const when = new Date(mtime * 1000);
    for (const f of files) {
      const p = join(stage, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.data);
      chmodSync(p, f.mode);
      utimesSync(p, when, when);
    }
    await create(
      {
        file,
        cwd: stage,
        gzip: { level: 9 },
        portable: true,
        noDirRecurse: true,
        mtime: when,
      },
      files.map((f) => f.path).sort(),
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export interface TarEntry {
  readonly path: string;
  readonly type: string;
  readonly mode: number;
  readonly linkpath: string | undefined;
  readonly data: Buffer;
}

/** Every entry of a .tar.gz with its content, without extracting anything. */
export async function readTarGz(file: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  await list({
    file,
    strict: true,
    onReadEntry(entry: ReadEntry) {
      const chunks: Buffer[] = [];
      entry.on("data", (c: Buffer) => chunks.push(c));
      entry.on("end", () => {
        entries.push({
          path: entry.path,
          type: entry.type,
          mode: entry.mode ?? 0,
          linkpath: entry.linkpath,
          data: Buffer.concat(chunks),
        });
      });
    },
  });
  return entries;
}
