import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Header, list, type ReadEntry } from "tar";

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
 * folders, so extracting into / never resets /usr's mode), uid/gid 0 and empty owner
 * names, one fixed mtime, and zlib's gzip header (no file name, no time). Same files in,
 * same bytes out. Built in memory: headers encoded by node-tar's ustar Header, no
 * staging copy of thousands of scripts on disk.
 */
export async function writeTarGz(
  file: string,
  files: readonly TarFile[],
  mtime: number,
): Promise<void> {
  writeFileSync(file, gzipSync(tarBytes(files, mtime), { level: 6 }));
}

const BLOCK = 512;

/** The uncompressed ustar archive of `files`. */
export function tarBytes(files: readonly TarFile[], mtime: number): Buffer {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  const when = new Date(mtime * 1000);
  for (const f of sorted) {
    const header = Buffer.alloc(BLOCK);
    const h = new Header({
      path: f.path,
      mode: f.mode,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      size: f.data.length,
      mtime: when,
      type: "File",
    });
    // encode() returns true when the path needs a PAX header (over 255 bytes): refuse it
    // rather than write an archive busybox tar may misread.
    if (h.encode(header)) throw new Error(`${f.path}: path too long for a ustar header`);
    parts.push(header, f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
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
