import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach } from "vitest";

export interface TempDirOptions {
  /** When the folders go: after each test (default) or after the test file. */
  removeAfter?: "each" | "all";
  /** An environment variable that, when set, keeps the folders (to look at them after a run). */
  keepIf?: string;
}

/**
 * A temporary-folder maker for one test file: `make(prefix?)` returns a new folder under
 * the system's temp directory, named `stepstone-<prefix>-…`, removed after each test (or
 * after the file).
 */
export function useTempDirs(
  prefix: string,
  options: TempDirOptions = {},
): (name?: string) => string {
  const dirs: string[] = [];
  const clean = () => {
    const done = dirs.splice(0);
    if (options.keepIf !== undefined && process.env[options.keepIf]) return;
    for (const d of done) rmSync(d, { recursive: true, force: true });
  };
  if (options.removeAfter === "all") afterAll(clean);
  else afterEach(clean);
  return (name = prefix) => {
    const d = mkdtempSync(join(tmpdir(), `stepstone-${name.replace(/^stepstone-|-$/g, "")}-`));
    dirs.push(d);
    return d;
  };
}

// Registered when a test file first imports this module, as hooks must be.
const shared = useTempDirs("test");

/** A temporary folder with the given files, removed after the test. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = shared();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
