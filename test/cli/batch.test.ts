/**
 * Batch work (issue #13, 15): `bundle --all` and `bundle --releases RANGE` in one run (one
 * validation, every key checked before the first bundle, progress on stderr), and
 * `stepstone show` of a release and of a migration.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Json, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { BIN, demoKeys, REPO, SAMPLE, stepstone } from "../helpers/cli.js";

const ALL = [
  "2.9.0",
  "2.9.1",
  "2.9.2",
  "2.10.0",
  "2.10.1-transition.1",
  "2.10.1",
  "2.10.3",
  "2.11.0",
  "2.11.1",
  "2.12.0",
  "2.13.0",
];

describe("bundle --all and --releases", () => {
  it("--all bundles every release with the runner, each signed with its own key, each as bundle --release would", () => {
    const out = tempDir();
    const keys = demoKeys();
    const r = stepstone(["bundle", "--all", "--graph", SAMPLE, "--out", out, "--keys", keys.dir]);
    expect(r.code).toBe(0);
    // Not a TTY: no progress line; the release without the runner is said, not an error.
    expect(r.stderr).toBe("note: 2.8.0 has no runner (runner: false): no bundle\n");
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, -1).map((l) => l.replace(/: .*/, ""))).toEqual(
      ALL.map((v) => `wrote ${join(out, `migration-${v}.tar.gz`)}`),
    );
    expect(lines.at(-1)).toBe(`11 bundles of --all in ${out} (1 without the runner skipped)`);
    expect(readdirSync(out).sort()).toEqual(ALL.map((v) => `migration-${v}.tar.gz`).sort());
    // The same bytes as one bundle --release at a time.
    const one = tempDir();
    const single = stepstone([
      "bundle",
      "--release",
      "2.9.1",
      "--graph",
      SAMPLE,
      "--out",
      one,
      "--sign",
      keys.key("vendor-2023"),
    ]);
    expect(single.code).toBe(0);
    expect(readFileSync(join(one, "migration-2.9.1.tar.gz"))).toEqual(
      readFileSync(join(out, "migration-2.9.1.tar.gz")),
    );
    for (const v of ["2.9.1", "2.13.0"])
      expect(
        stepstone(["verify", join(out, `migration-${v}.tar.gz`), "--graph", SAMPLE]).code,
      ).toBe(0);
  });

  it("--releases RANGE: the releases in it, JSON with one entry each", () => {
    const out = tempDir();
    const r = stepstone([
      "bundle",
      "--releases",
      ">=2.10.0 <2.12.0",
      "--graph",
      SAMPLE,
      "--out",
      out,
      "--sign",
      demoKeys().key("vendor-2025"),
      "--format",
      "json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.bundles.map((b: Json) => [b.release, b.signed, b.scripts.length])).toEqual([
      ["2.10.0", true, 3],
      ["2.10.1-transition.1", true, 6],
      ["2.10.1", true, 3],
      ["2.10.3", true, 3],
      ["2.11.0", true, 3],
      ["2.11.1", true, 3],
    ]);
  });

  it("checks every key before writing anything, all problems at once (exit 2)", () => {
    const out = join(tempDir(), "out");
    const keys = tempDir();
    cpSync(demoKeys().key("vendor-2025"), join(keys, "vendor-2025.pem"));
    const r = stepstone(["bundle", "--all", "--graph", SAMPLE, "--out", out, "--keys", keys]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      `stepstone: --keys ${keys}: no vendor-2023.pem there, the private key of "vendor-2023" that signs 2.9.0 (release-graph.json); add it, nothing was written`,
      `stepstone: --keys ${keys}: no vendor-2023.pem there, the private key of "vendor-2023" that signs 2.9.1 (release-graph.json); add it, nothing was written`,
    ]);
    expect(existsSync(out)).toBe(false);
    const none = stepstone(["bundle", "--all", "--graph", SAMPLE, "--out", out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `stepstone: 2.9.0, 2.9.1 are signed by "vendor-2023" (release-graph.json): pass --keys DIR (with vendor-2023.pem in it) or --sign with its private key; nothing was written\nstepstone: 2.9.2, 2.10.0, 2.10.1-transition.1, 2.10.1, 2.10.3, 2.11.0, 2.11.1, 2.12.0, 2.13.0 are signed by "vendor-2025" (release-graph.json): pass --keys DIR (with vendor-2025.pem in it) or --sign with its private key; nothing was written\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a range with nothing to bundle, and more than one of --release, --releases, --all", () => {
    const out = tempDir();
    const empty = stepstone(["bundle", "--releases", ">=9", "--graph", SAMPLE, "--out", out]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      'stepstone: --releases ">=9": no release to bundle (no release matches, withdrawn ones never count)\n',
    );
    const both = stepstone([
      "bundle",
      "--all",
      "--release",
      "2.10.0",
      "--graph",
      SAMPLE,
      "--out",
      out,
    ]);
    expect(both.stderr).toBe("stepstone: --release and --all together: choose one\n");
    const neither = stepstone(["bundle", "--graph", SAMPLE, "--out", out]);
    expect(neither.stderr).toBe(
      "stepstone: bundle needs --release VERSION, --releases RANGE or --all\n",
    );
  });

  it("shows progress on stderr when stderr is a terminal", () => {
    const out = tempDir();
    const keys = demoKeys();
    // script(1) gives the command a terminal; its output is what the terminal showed.
    const cmd = [
      process.execPath,
      BIN,
      "bundle",
      "--releases",
      "2.9.x",
      "--graph",
      SAMPLE,
      "--out",
      out,
      "--keys",
      keys.dir,
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", cwd: REPO });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("bundle: 1/3 2.9.0");
    expect(r.stdout).toContain("bundle: 3/3 2.9.2");
    expect(readdirSync(out)).toHaveLength(3);
  });
});

describe("stepstone show", () => {
  it("a release: epochs per platform, ships, keys, who reaches it and whom it reaches", () => {
    const r = stepstone(["show", "2.10.1-transition.1", "--graph", SAMPLE, "--format", "json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({
      kind: "release",
      version: "2.10.1-transition.1",
      transition: true,
      signedBy: "vendor-2025",
      trusts: ["vendor-2023", "vendor-2025"],
      set: ["2.8.0", "2.9.2", "2.11.0", "2.13.0"],
    });
    expect(v.ships.map((m: Json) => m.id)).toEqual([
      "network-1-2",
      "network-2-1",
      "ownership-1-2",
      "ownership-2-1",
      "users-1-2",
      "users-2-1",
    ]);
    expect(v.epochs.map((e: Json) => e.platform)).toEqual([null, "qemuarm"]);
    // Each cell is the matrix's: the best plan with every wipeable component allowed.
    const matrix = JSON.parse(
      stepstone([
        "matrix",
        "--graph",
        SAMPLE,
        "--releases",
        "2.8.0 || 2.9.2 || 2.10.1-transition.1 || 2.11.0 || 2.13.0",
        "--format",
        "json",
      ]).stdout,
    );
    const cell = (from: string, to: string) =>
      matrix.cells.find((c: Json) => c.from === from && c.to === to);
    for (const c of v.reaches) {
      const m = cell("2.10.1-transition.1", c.to);
      expect([c.to, c.reachable, c.hops, c.wipes]).toEqual([c.to, m.reachable, m.hops, m.wipes]);
    }
    for (const c of v.reachedFrom) {
      const m = cell(c.from, "2.10.1-transition.1");
      expect([c.from, c.reachable, c.hops, c.wipes]).toEqual([
        c.from,
        m.reachable,
        m.hops,
        m.wipes,
      ]);
    }
    expect(v.reaches.find((c: Json) => c.to === "2.8.0")).toEqual({
      to: "2.8.0",
      reachable: true,
      hops: 1,
      wipes: 0,
      via: [],
    });
  });

  it("a release by its tag, in text: its epochs with each platform's overrides marked", () => {
    const dir = tempDir();
    const g = JSON.parse(readFileSync(SAMPLE, "utf8"));
    const r = g.releases.find((x: Json) => x.version === "2.11.0");
    r.tag = "v2.11";
    r.platforms = { qemuarm: { epochs: { network: 1 } } };
    writeFileSync(join(dir, "release-graph.json"), JSON.stringify(g, null, 2));
    const s = stepstone(["show", "v2.11", "--format", "text"], { cwd: dir });
    expect(s.code).toBe(0);
    const lines = s.stdout.split("\n");
    expect(lines[0]).toBe("Release 2.11.0 (golden), line 2.11, tag v2.11");
    expect(lines).toContain("  epochs            users  ownership  network");
    expect(lines).toContain("  (every platform)  2      2          2");
    expect(lines).toContain("  qemuarm           2      2          1*");
    expect(s.stdout).toContain("Reached from the golden releases (best plan, wipes allowed):");
    expect(s.stdout).toMatch(/^ {2}2\.9\.2 \(golden\) +2 hops +2\.10\.3$/m);
  });

  it("a migration: who carries it and which best plans run it, where", () => {
    const r = stepstone(["show", "users-2-1", "--graph", SAMPLE, "--format", "json"]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({
      kind: "migration",
      id: "users-2-1",
      component: "users",
      from: 2,
      to: 1,
      direction: "down",
      shippedIn: null,
      shippedBy: ["2.10.1-transition.1"],
      namedBy: ["2.10.1-transition.1"],
      before: ["ownership-2-1"],
    });
    expect(v.usedBy).toContainEqual({ from: "2.11.0", to: "2.9.2", hop: 2, phase: "pre-flash" });
    const text = stepstone(["show", "users-2-1", "--graph", SAMPLE]);
    expect(text.stdout.split("\n")[0]).toBe("Migration users-2-1: users 2 → 1 (down)");
    expect(text.stdout).toMatch(/^ {2}2\.11\.0 +2\.9\.2 +2 +before flashing \(old image\)$/m);
  });

  it("an unknown name: exit 2 with what it may have meant", () => {
    const r = stepstone(["show", "users", "--graph", SAMPLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "stepstone: show users: no such release or migration in the graph; did you mean users-1-2, users-2-1?\n",
    );
    expect(stepstone(["show", "2.10", "--graph", SAMPLE]).stderr).toBe(
      "stepstone: show 2.10: no such release or migration in the graph; did you mean 2.10.0, 2.10.1-transition.1, 2.10.1, 2.10.2, 2.10.3?\n",
    );
  });
});
