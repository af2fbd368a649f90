import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { REPO, SAMPLE, stepstone } from "../helpers/cli.js";

const BUNDLE = join(REPO, "apps/cli/dist/bundle");
const PLAN = ["plan", "--from", "2.9.0", "--to", "2.12.0", "--graph", SAMPLE, "--format", "json"];

/** The CLI from a copy of the bundle folder (so its cache can be removed or broken). */
function copyOfBundle(): string {
  const dir = join(tempDir(), "bundle");
  cpSync(BUNDLE, dir, { recursive: true });
  return dir;
}

function runFrom(dir: string, args: readonly string[]) {
  const r = spawnSync(process.execPath, [join(dir, "bin.js"), ...args], {
    cwd: REPO,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the executable and its code cache", () => {
  it("the build's cache matches the bundle: V8 accepts it", () => {
    // The launcher's own wrapper, compiled in a plain node (test runners add V8 flags,
    // and a cache made under other flags is rejected).
    const check = `
      const fs = require("node:fs"), vm = require("node:vm");
      const file = ${JSON.stringify(join(BUNDLE, "cli.js"))};
      const s = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + fs.readFileSync(file, "utf8") + "\\n})",
        { filename: file, cachedData: fs.readFileSync(file + ".cache") });
      process.stdout.write(String(s.cachedDataRejected));`;
    const r = spawnSync(process.execPath, ["-e", check], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("false");
    // And it holds the planner's bytecode, not just the top level of the bundle.
    expect(readFileSync(join(BUNDLE, "cli.js.cache")).length).toBeGreaterThan(100_000);
  });

  it("plans the same without the cache, and with a cache that is not V8's", () => {
    const expected = stepstone(PLAN);
    expect(expected.code).toBe(0);
    const dir = copyOfBundle();
    rmSync(join(dir, "cli.js.cache"));
    expect(runFrom(dir, PLAN)).toEqual({ code: 0, stdout: expected.stdout, stderr: "" });
    writeFileSync(join(dir, "cli.js.cache"), Buffer.alloc(4096, 7));
    expect(runFrom(dir, PLAN)).toEqual({ code: 0, stdout: expected.stdout, stderr: "" });
    // A cache cut short (an interrupted copy).
    const cache = readFileSync(join(BUNDLE, "cli.js.cache"));
    writeFileSync(join(dir, "cli.js.cache"), cache.subarray(0, cache.length >> 1));
    expect(runFrom(dir, PLAN)).toEqual({ code: 0, stdout: expected.stdout, stderr: "" });
  });

  it("loads the large libraries from lib/ only when a command needs them", () => {
    // A malformed graph needs the schema library (zod) for its diagnostics.
    const dir = tempDir({ "release-graph.json": '{"components": {}, "releases": 7}' });
    const r = stepstone(["validate", "--graph", join(dir, "release-graph.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/releases/);
    // It is not in the bundle every command loads.
    const zod = /node_modules\/\.pnpm\/zod@/;
    expect(readFileSync(join(BUNDLE, "cli.js"), "utf8")).not.toMatch(zod);
    expect(readFileSync(join(BUNDLE, "lib/zod.cjs"), "utf8")).toMatch(zod);
  });
});
