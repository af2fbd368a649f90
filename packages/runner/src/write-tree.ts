/**
 * Writes emitted files under a folder. Every file is first written beside its final name
 * (a `.tmp-*` sibling) with its mode; only when all are written are they renamed into
 * place. A failure while writing removes the temporaries and leaves no half-written file.
 */
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { InputError } from "@stepstone/errors";
import type { EmittedFile } from "./emit.js";

function target(outDir: string, path: string): string {
  const rel = normalize(path);
  if (isAbsolute(path) || rel === ".." || rel.startsWith(`..${sep}`) || path.includes("\0")) {
    throw new InputError(`refusing to write ${JSON.stringify(path)} outside ${outDir}`);
  }
  return join(outDir, rel);
}

export async function writeTree(outDir: string, files: readonly EmittedFile[]): Promise<string[]> {
  const tag = `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const staged: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = target(outDir, f.path);
      const tmp = `${final}${tag}`;
      await mkdir(dirname(final), { recursive: true });
      staged.push({ tmp, final });
      await writeFile(tmp, f.content, { mode: f.mode });
      // writeFile's mode is filtered by the umask; the image needs the exact mode.
      await chmod(tmp, f.mode);
    }
    // A rename onto a directory would fail half way through: find that before any rename.
    for (const s of staged) {
      const st = await lstat(s.final).catch(() => undefined);
      if (st?.isDirectory()) throw new InputError(`cannot write ${s.final}: it is a directory`);
    }
  } catch (err) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  let done = 0;
  try {
    for (const s of staged) {
      await rename(s.tmp, s.final);
      done++;
    }
  } catch (err) {
    // Files already renamed are complete; the rest must not leave temporaries behind.
    await Promise.all(staged.slice(done).map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  return staged.map((s) => s.final);
}
