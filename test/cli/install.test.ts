/**
 * `stepstone` as a command (issue #13, 16): installed from a clean checkout into a prefix
 * of one's own with scripts/install-cli.sh (pnpm 12 has no `link --global`), run from
 * another folder; and `pnpm stepstone` reads the graph of the folder it is typed in, not
 * the checkout's demo graph.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { graphText, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { REPO, SAMPLE } from "../helpers/cli.js";

const graph = graphText({ releases: [{ version: "1.0.0", epochs: {} }] });

/** The environment of a new user: an empty HOME, the prefix's bin first on PATH. */
function userEnv(prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: tempDir(),
    PATH: `${join(prefix, "bin")}:${process.env.PATH}`,
  };
  delete env.INIT_CWD;
  return env;
}

describe("stepstone on PATH", () => {
  it("scripts/install-cli.sh puts a launcher in PREFIX/bin that runs from any folder", () => {
    const prefix = tempDir();
    const env = userEnv(prefix);
    const install = spawnSync("sh", [join(REPO, "scripts/install-cli.sh"), "--prefix", prefix], {
      cwd: tempDir(),
      env,
      encoding: "utf8",
    });
    expect(install.stderr).toBe("");
    expect(install.status).toBe(0);
    const launcher = join(prefix, "bin/stepstone");
    expect(install.stdout).toMatch(
      new RegExp(
        `^installed ${launcher} -> ${REPO}/apps/cli/dist/bundle/bin\\.js \\(node: .*\\)\\n$`,
      ),
    );
    expect(statSync(launcher).mode & 0o777).toBe(0o755);

    // From a release folder of its own: that folder's graph.
    const release = tempDir({ "release-graph.json": graph });
    const r = spawnSync("stepstone", ["validate"], { cwd: release, env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `ok ${join(release, "release-graph.json")}: 0 components, 1 release (0 golden, 0 transition, 0 withdrawn), 0 migrations, no platform overrides\n`,
    );
    // From a folder without one: says so, never falls back to the checkout's.
    const elsewhere = tempDir();
    const none = spawnSync("stepstone", ["plan", "--from", "2.9.2", "--to", "2.11.0"], {
      cwd: elsewhere,
      env,
      encoding: "utf8",
    });
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(
      `stepstone: no release-graph.json in ${elsewhere} or any folder above it; pass --graph FILE\n`,
    );
    // Installing again replaces the launcher; a wrong argument is exit 2.
    expect(
      spawnSync("sh", [join(REPO, "scripts/install-cli.sh"), "--prefix", prefix], { env }).status,
    ).toBe(0);
    const bad = spawnSync("sh", [join(REPO, "scripts/install-cli.sh"), "--prefx", prefix], {
      env,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      "install-cli: unknown argument --prefx (usage: install-cli [--prefix DIR])\n",
    );
  });

  it("pnpm install-cli takes a prefix relative to the folder it is typed in", () => {
    const here = tempDir();
    const env = userEnv(join(here, "tools"));
    const r = spawnSync("pnpm", ["-C", REPO, "install-cli", "--prefix", "tools"], {
      cwd: here,
      env,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(existsSync(join(here, "tools/bin/stepstone"))).toBe(true);
    expect(readFileSync(join(here, "tools/bin/stepstone"), "utf8")).toContain(
      `exec node "${REPO}/apps/cli/dist/bundle/bin.js" "$@"`,
    );
  });

  it("pnpm stepstone reads the graph of the folder it is typed in, not the checkout's", () => {
    const release = tempDir({ "release-graph.json": graph });
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: tempDir() };
    delete env.INIT_CWD;
    const r = spawnSync("pnpm", ["-C", REPO, "stepstone", "validate", "--format", "json"], {
      cwd: release,
      env,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).file).toBe(join(release, "release-graph.json"));
    // A relative --graph is relative to that folder too.
    cpSync(SAMPLE, join(release, "other.json"));
    const other = spawnSync(
      "pnpm",
      ["-C", REPO, "stepstone", "matrix", "--graph", "other.json", "--format", "json"],
      { cwd: release, env, encoding: "utf8" },
    );
    expect(other.status).toBe(0);
    expect(JSON.parse(other.stdout).releases).toEqual(["2.8.0", "2.9.2", "2.11.0", "2.13.0"]);
  });
});
