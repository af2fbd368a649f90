import { execFileSync, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { tempDir } from "@stepstone/test-utils";

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
