import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { useTempDirs } from "@stepstone/test-utils";
import { Header } from "tar";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MTIME,
  type TarFile,
  TarGzWriter,
  tarBytes,
  UstarHeader,
  writeTarGz,
} from "../src/index.js";

const D = "usr/share/migration.d";

/** The archive as it was built with node-tar's Header objects: the bytes to keep. */
function nodeTarBytes(files: readonly TarFile[], mtime: number): Buffer {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  for (const f of sorted) {
    const header = Buffer.alloc(512);
    const h = new Header({
      path: f.path,
      mode: f.mode,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      size: f.data.length,
      mtime: new Date(mtime * 1000),
      type: "File",
    });
    if (h.encode(header)) throw new Error(`${f.path}: needs a PAX header`);
    parts.push(header, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** node-tar's header, or null when it would need a PAX header. */
function nodeTarHeader(path: string, mode: number, size: number, mtime: number): Buffer | null {
  const block = Buffer.alloc(512);
  const h = new Header({
    path,
    mode,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    size,
    mtime: new Date(mtime * 1000),
    type: "File",
  });
  return h.encode(block) ? null : block;
}

/** Pseudo-random shell-ish bytes (deterministic), so gzip has work to do. */
function script(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 41 === 40 ? 10 : 97 + ((x >>> 16) % 26);
  }
  return out;
}

function sampleFiles(): TarFile[] {
  const files: TarFile[] = [];
  for (let i = 1; i <= 300; i++) {
    files.push({
      path: `${D}/${String(i).padStart(4, "0")}-c${i % 7}-${i}-${i + 1}-m${i}.sh`,
      mode: 0o755,
      data: script(i, (i * 97) % 3000),
    });
  }
  // Larger than a chunk of the writer (spans several), and empty.
  files.push({ path: `${D}/manifest.json`, mode: 0o644, data: script(1000, 300_000) });
  files.push({ path: `${D}/manifest.tsv`, mode: 0o644, data: Buffer.alloc(0) });
  return files;
}

async function streamed(files: readonly TarFile[], mtime: number, chunk: number) {
  const w = new TarGzWriter(mtime, chunk);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) await w.add(f.path, f.mode, f.data);
  return w.finish();
}

const tempDir = useTempDirs("tarball");

describe("ustar headers", () => {
  it("are node-tar's, byte for byte", () => {
    const paths = [
      "a",
      `${D}/manifest.tsv`,
      "x".repeat(99),
      "x".repeat(100),
      `${D}/${"n".repeat(76)}`, // 98 bytes
      `${D}/${"n".repeat(77)}`, // 99
      `${D}/${"n".repeat(78)}`, // 100: split into prefix and name
      `${D}/${"n".repeat(100)}`,
      `${"p".repeat(150)}/${"n".repeat(100)}`,
      `${"p".repeat(60)}/${"q".repeat(60)}/${"r".repeat(60)}/${"n".repeat(90)}`,
      "/abs/path",
    ];
    const sizes = [0, 1, 511, 512, 2048, 8 ** 10 - 1, 8 ** 10, 8 ** 11 - 1];
    const modes = [0o644, 0o755, 0o7777, 0o777777, 0o7777777];
    const mtimes = [0, DEFAULT_MTIME, 1700000000, 8 ** 10, 8 ** 11 - 1];
    for (const mtime of mtimes) {
      const h = new UstarHeader(mtime);
      for (const path of paths)
        for (const size of sizes)
          for (const mode of modes) {
            const want = nodeTarHeader(path, mode, size, mtime);
            const got = Buffer.alloc(512, 0xff);
            if (want === null) {
              expect(() => h.encode(got, 0, path, mode, size), path).toThrow();
            } else {
              h.encode(got, 0, path, mode, size);
              expect(got.equals(want), `${path} ${mode} ${size} ${mtime}`).toBe(true);
            }
          }
    }
  });

  it("refuses what node-tar would need a PAX header for", () => {
    const h = new UstarHeader(DEFAULT_MTIME);
    const buf = Buffer.alloc(512);
    for (const path of [`${D}/é.sh`, "n".repeat(101), `${"p".repeat(156)}/n`]) {
      expect(nodeTarHeader(path, 0o755, 1, DEFAULT_MTIME)).toBeNull();
      expect(() => h.encode(buf, 0, path, 0o755, 1)).toThrow(/path too long/);
    }
    expect(() => h.encode(buf, 0, "a", 0o755, 8 ** 11)).toThrow(/does not fit/);
    expect(() => new UstarHeader(8 ** 11)).toThrow(/does not fit/);
  });
});

describe("tarballs", () => {
  it("have the bytes of node-tar's headers", () => {
    const files = sampleFiles();
    expect(tarBytes(files, DEFAULT_MTIME).equals(nodeTarBytes(files, DEFAULT_MTIME))).toBe(true);
  });

  it("compress to the same bytes however the tar stream is cut into chunks", async () => {
    const files = sampleFiles();
    const whole = gzipSync(nodeTarBytes(files, DEFAULT_MTIME), { level: 6 });
    const file = join(tempDir(), "a.tar.gz");
    await writeTarGz(file, files, DEFAULT_MTIME);
    expect(readFileSync(file).equals(whole)).toBe(true);
    for (const chunk of [512, 3000, 64 * 1024, 256 * 1024, 4 * 1024 * 1024]) {
      const bytes = await streamed(files, DEFAULT_MTIME, chunk);
      expect(bytes.equals(whole), `chunks of ${chunk}`).toBe(true);
    }
  });

  it("extract with GNU tar and busybox tar", async () => {
    const files = sampleFiles();
    const dir = tempDir();
    const file = join(dir, "b.tar.gz");
    writeFileSync(file, await streamed(files, DEFAULT_MTIME, 4096));
    for (const tar of [["tar"], ["busybox", "tar"]]) {
      const root = join(dir, tar.join("-"));
      execFileSync("mkdir", [root]);
      execFileSync(tar[0] as string, [...tar.slice(1), "-xzf", file, "-C", root]);
      for (const f of files) expect(readFileSync(join(root, f.path)).equals(f.data)).toBe(true);
    }
  });
});
