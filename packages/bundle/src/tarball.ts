import { writeFileSync } from "node:fs";
import { posix } from "node:path";
import { createGzip, type Gzip, gzipSync } from "node:zlib";

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

/** The gzip level of every bundle (what `gzip` and `tar czf` use by default). */
const LEVEL = 6;

/**
 * A reproducible .tar.gz: entries sorted by path, only files (no entries for parent
 * folders, so extracting into / never resets /usr's mode), uid/gid 0 and empty owner
 * names, one fixed mtime, and zlib's gzip header (no file name, no time). Same files in,
 * same bytes out. Built in memory, no staging copy of thousands of scripts on disk.
 */
export async function writeTarGz(
  file: string,
  files: readonly TarFile[],
  mtime: number,
): Promise<void> {
  writeFileSync(file, gzipSync(tarBytes(files, mtime), { level: LEVEL }));
}

const BLOCK = 512;

export function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The uncompressed ustar archive of `files`. */
export function tarBytes(files: readonly TarFile[], mtime: number): Buffer {
  const sorted = [...files].sort((a, b) => byPath(a.path, b.path));
  let size = 2 * BLOCK;
  for (const f of sorted) size += BLOCK + padded(f.data.length);
  const out = Buffer.alloc(size);
  const header = new UstarHeader(mtime);
  let at = 0;
  for (const f of sorted) {
    header.encode(out, at, f.path, f.mode, f.data.length);
    f.data.copy(out, at + BLOCK);
    at += BLOCK + padded(f.data.length);
  }
  return out;
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/**
 * ustar headers of regular files with one mtime, uid/gid 0 and empty owner names, written
 * into a caller's buffer: byte for byte what node-tar's Header.encode writes (octal fields
 * zero-padded, then a space and a NUL; the path split into prefix and name from 100
 * bytes on), without an object per entry. Refuses (throws) what would need a PAX header:
 * a path that does not fit or is not ASCII, a number too large for its field.
 */
export class UstarHeader {
  readonly #template = Buffer.alloc(BLOCK);
  /** The template's byte sum, its checksum field counted as eight spaces. */
  readonly #sum: number;

  constructor(mtime: number) {
    const t = this.#template;
    octal(t, 108, 8, 0, "uid");
    octal(t, 116, 8, 0, "gid");
    octal(t, 136, 12, mtime, "mtime");
    t[156] = 0x30; // '0': a regular file
    t.write("ustar\u000000", 257, 8, "latin1");
    octal(t, 329, 8, 0, "devmajor");
    octal(t, 337, 8, 0, "devminor");
    let sum = 8 * 0x20;
    for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += t[i] as number;
    this.#sum = sum;
  }

  /** Writes the 512-byte header of a file at buf[off]. */
  encode(buf: Buffer, off: number, path: string, mode: number, size: number): void {
    buf.set(this.#template, off);
    let sum = this.#sum;
    let split: [string, string] | null = [path, ""];
    if (path.length >= 100) split = splitPath(path);
    const name = split === null ? -1 : ascii(buf, off, split[0]);
    const prefix = split === null || split[1] === "" ? 0 : ascii(buf, off + 345, split[1]);
    if (name < 0 || prefix < 0) throw new Error(`${path}: path too long for a ustar header`);
    sum += name + prefix;
    sum += octal(buf, off + 100, 8, mode, `${path}: mode`);
    sum += octal(buf, off + 124, 12, size, `${path}: size`);
    octal(buf, off + 148, 8, sum, "checksum");
  }
}

/** Writes an ASCII string, returns its byte sum (-1, with garbage written, when not ASCII). */
function ascii(buf: Buffer, off: number, s: string): number {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    buf[off + i] = c;
    sum += c;
  }
  return sum;
}

const MAX_OCTAL = { 8: 0o7777777, 12: 0o77777777777 } as const;

/**
 * node-tar's octal field: the digits zero-padded to size-2, a space and a NUL; size-1
 * digits and a NUL when they need that many. Returns the bytes' sum.
 */
function octal(buf: Buffer, off: number, size: 8 | 12, n: number, what: string): number {
  if (!(n >= 0 && n <= MAX_OCTAL[size]))
    throw new Error(`${what} ${n} does not fit a ustar header`);
  let v = Math.floor(n);
  const width = v >= 8 ** (size - 2) ? size - 1 : size - 2;
  let sum = width === size - 2 ? 0x20 : 0;
  for (let i = width - 1; i >= 0; i--) {
    const d = 0x30 + (v % 8);
    buf[off + i] = d;
    sum += d;
    v = Math.floor(v / 8);
  }
  if (width === size - 2) {
    buf[off + width] = 0x20;
    buf[off + width + 1] = 0;
  } else buf[off + width] = 0;
  return sum;
}

/**
 * node-tar's split of a path into ustar's name (100 bytes) and prefix (155 bytes), or null
 * when it cannot be stored without a PAX header (too long). (A path that is not ASCII
 * needs one too: UstarHeader refuses it.)
 */
export function splitPath(p: string): [name: string, prefix: string] | null {
  if (p.length < 100) return [p, ""];
  const root = posix.parse(p).root || ".";
  let prefix = posix.dirname(p);
  let name = posix.basename(p);
  do {
    if (name.length <= 100 && prefix.length <= 155) return [name, prefix];
    if (prefix.length <= 155) return null;
    name = posix.join(posix.basename(prefix), name);
    prefix = posix.dirname(prefix);
  } while (prefix !== root);
  return null;
}

/**
 * Writes a .tar.gz entry by entry (callers add entries sorted by path) while zlib
 * compresses on libuv's thread pool: the caller keeps reading and hashing the next files
 * on the main thread. The bytes are those of writeTarGz (deflate's output does not depend
 * on how its input is cut into chunks).
 */
export class TarGzWriter {
  readonly #gz: Gzip;
  readonly #header: UstarHeader;
  readonly #chunkSize: number;
  readonly #out: Buffer[] = [];
  #error: Error | null = null;
  /** The chunk being filled (zero-filled, so padding needs no writes) and its fill. */
  #chunk: Buffer;
  #at = 0;
  /** Settles when zlib is done with the last chunk handed to it. */
  #last: Promise<void> = Promise.resolve();
  /** Set when a chunk was handed over: what add() waits for before going on. */
  #wait: Promise<void> | null = null;

  /** chunkSize: bytes of tar handed to zlib at a time (rounded to whole 512-byte blocks). */
  constructor(mtime: number, chunkSize = 512 * 1024) {
    this.#header = new UstarHeader(mtime);
    this.#chunkSize = padded(Math.max(chunkSize, 1));
    // A small first chunk: zlib starts after a few files, not after a chunk's worth.
    this.#chunk = Buffer.alloc(Math.min(this.#chunkSize, 32 * 1024));
    // An output buffer larger than a chunk's compressed bytes: zlib finishes a chunk in one
    // go on its thread instead of coming back to the (busy) main thread for more room.
    this.#gz = createGzip({ level: LEVEL, chunkSize: this.#chunkSize + 64 * 1024 });
    this.#gz.on("data", (c: Buffer) => this.#out.push(c));
    this.#gz.on("error", (e) => {
      this.#error ??= e;
    });
  }

  /**
   * Appends one file (after every file whose path sorts before it). Returns a promise when
   * it handed a chunk to zlib: await it before the next add (it settles once zlib has
   * finished the chunk before, so at most two chunks wait in memory).
   */
  add(path: string, mode: number, data: Buffer): Promise<void> | undefined {
    if (this.#at === this.#chunk.length) this.#handOver();
    this.#header.encode(this.#chunk, this.#at, path, mode, data.length);
    this.#at += BLOCK;
    if (data.length <= this.#chunk.length - this.#at) {
      this.#chunk.set(data, this.#at);
      this.#at += data.length;
    } else this.#spill(data);
    // Chunks are whole blocks, so the padding to a block always fits in this one.
    this.#at = padded(this.#at);
    const wait = this.#wait;
    this.#wait = null;
    return wait ?? undefined;
  }

  /** Ends the archive (two zero blocks) and resolves to the .tar.gz bytes. */
  async finish(): Promise<Buffer> {
    const end = Buffer.alloc(2 * BLOCK);
    const ended = new Promise<void>((resolve, reject) => {
      this.#gz.once("end", resolve);
      this.#gz.once("error", reject);
    });
    if (this.#at > 0) this.#gz.write(this.#chunk.subarray(0, this.#at));
    this.#gz.end(end);
    await ended;
    if (this.#error) throw this.#error;
    return Buffer.concat(this.#out);
  }

  /** Drops the archive (after an error): zlib stops. */
  abort(): void {
    this.#gz.destroy();
  }

  /** Copies data larger than the room left, handing over each chunk it fills. */
  #spill(data: Buffer): void {
    for (let done = 0; done < data.length; ) {
      if (this.#at === this.#chunk.length) this.#handOver();
      const n = Math.min(data.length - done, this.#chunk.length - this.#at);
      this.#chunk.set(data.subarray(done, done + n), this.#at);
      this.#at += n;
      done += n;
    }
  }

  /** Hands the filled part of the chunk to zlib and starts a new one. */
  #handOver(): void {
    const previous = this.#last;
    const chunk = this.#chunk.subarray(0, this.#at);
    this.#last = new Promise<void>((resolve) => this.#gz.write(chunk, () => resolve()));
    // Wait for the chunk before (the one zlib works on now), not this one: zlib always has
    // the next chunk queued while the main thread fills another.
    this.#wait = (this.#wait ?? Promise.resolve()).then(() => previous).then(() => this.#check());
    this.#chunk = Buffer.alloc(this.#chunkSize);
    this.#at = 0;
  }

  #check(): void {
    if (this.#error) throw this.#error;
  }
}
