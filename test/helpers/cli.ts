import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "vitest";

export const REPO = resolve(import.meta.dirname, "../..");
export const BIN = join(REPO, "apps/cli/dist/bundle/bin.js");
export const SAMPLE = join(REPO, "release-graph.json");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI like a user would, without a TTY. */
export function stepstone(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Run {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...opts.env };
  delete env.FORCE_COLOR;
  if (opts.env?.FORCE_COLOR !== undefined) env.FORCE_COLOR = opts.env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder with the given files, removed after the test. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "stepstone-test-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A release-graph.json text from a partial graph, with defaults for the boring parts. */
export function graphText(g: Record<string, unknown>): string {
  return JSON.stringify(
    { schemaVersion: 1, components: {}, releases: [], migrations: [], ...g },
    null,
    2,
  );
}

/**
 * The private halves of the bundled graph's demo keys (keys/*.pub.pem are their public
 * halves), derived by scripts/demo-keys.mjs as the main job derives them, into a
 * temporary folder: `<dir>/vendor-2023.pem`, `<dir>/vendor-2025.pem`.
 */
export function demoKeys(): {
  dir: string;
  key: (id: string) => string;
  pub: (id: string) => string;
} {
  const dir = tempDir();
  execFileSync(process.execPath, [join(REPO, "scripts/demo-keys.mjs"), dir]);
  return {
    dir,
    key: (id) => join(dir, `${id}.pem`),
    pub: (id) => join(REPO, "keys", `${id}.pub.pem`),
  };
}
