import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { graphText, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { REPO, SAMPLE, stepstone } from "../helpers/cli.js";

/** Root-only 1.0.0, non-root 2.0.0 (users 1 -> 2), a transition that can go back. */
const story = graphText({
  components: {
    users: { paths: ["etc/passwd"] },
    network: { paths: ["etc/systemd/network"], wipeable: false },
  },
  releases: [
    {
      version: "1.0.0",
      golden: true,
      epochs: { users: 1, network: 1 },
      signedBy: "k1",
      trusts: ["k1"],
    },
    {
      version: "2.0.0",
      golden: true,
      epochs: { users: 2, network: 1 },
      signedBy: "k1",
      trusts: ["k1"],
    },
    {
      version: "2.0.1-transition.1",
      transition: true,
      epochs: { users: 2, network: 1 },
      ships: ["users-2-1"],
      signedBy: "k1",
      trusts: ["k1"],
    },
    {
      version: "3.0.0",
      epochs: { users: 2, network: 2 },
      upgradeFrom: ">=2.0.0",
      signedBy: "k1",
      trusts: ["k1"],
      platforms: { qemuarm: { epochs: { users: 1 } } },
    },
  ],
  migrations: [
    { id: "users-1-2", component: "users", from: 1, to: 2, script: "u12.sh", shippedIn: ">=2.0.0" },
    { id: "users-2-1", component: "users", from: 2, to: 1, script: "u21.sh" },
    {
      id: "network-1-2",
      component: "network",
      from: 1,
      to: 2,
      script: "n12.sh",
      shippedIn: ">=3.0.0",
    },
  ],
});
const scripts = { "u12.sh": "set -e\n", "u21.sh": "set -e\n", "n12.sh": "set -e\n" };
const graphDir = () => tempDir({ "release-graph.json": story, ...scripts });

describe("stepstone plan", () => {
  it("prints the contract's JSON shape", () => {
    const r = stepstone(["plan", "--from", "1.0.0", "--to", "3.0.0", "--format", "json"], {
      cwd: graphDir(),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      from: "1.0.0",
      to: "3.0.0",
      platform: null,
      reachable: true,
      hops: 2,
      wipes: 0,
      steps: [
        {
          from: "1.0.0",
          to: "2.0.0",
          direction: "upgrade",
          transition: false,
          preFlash: [],
          boot: [{ id: "users-1-2", component: "users", from: 1, to: 2 }],
          wipe: [],
          why: [
            {
              code: "upgradeFrom",
              message:
                '3.0.0 upgrades only from ">=2.0.0", which 1.0.0 does not satisfy: stop at a release in that range first',
            },
          ],
        },
        {
          from: "2.0.0",
          to: "3.0.0",
          direction: "upgrade",
          transition: false,
          preFlash: [],
          boot: [{ id: "network-1-2", component: "network", from: 1, to: 2 }],
          wipe: [],
          why: [],
        },
      ],
    });
  });

  it("runs a down-migration before flashing the older image", () => {
    const r = stepstone(["plan", "--from", "2.0.0", "--to", "1.0.0", "--format", "json"], {
      cwd: graphDir(),
    });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.steps.map((s: { to: string }) => s.to)).toEqual(["2.0.1-transition.1", "1.0.0"]);
    expect(plan.steps[1].preFlash).toEqual([
      { id: "users-2-1", component: "users", from: 2, to: 1 },
    ]);
  });

  it("exits 1 and names the blocker when no plan exists", () => {
    const r = stepstone(["plan", "--from", "3.0.0", "--to", "1.0.0", "--format", "json"], {
      cwd: graphDir(),
    });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(["from", "to", "reachable", "blockers"]);
    expect(json.reachable).toBe(false);
    expect(json.blockers).toContainEqual(
      expect.objectContaining({ code: "noChain", component: "network" }),
    );

    const text = stepstone(["plan", "--from", "3.0.0", "--to", "1.0.0"], { cwd: graphDir() });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("No plan from 3.0.0 to 1.0.0 (golden)");
    expect(text.stdout).toContain("network");
    expect(text.stdout).toContain("gaps --suggest");
  });

  it("wipes only what --allow-wipe names, and says so in plain words", () => {
    const dir = tempDir({
      "release-graph.json": story
        .replace(', ships: ["users-2-1"]', "")
        .replace('"ships": [\n        "users-2-1"\n      ],', ""),
      ...scripts,
    });
    const no = stepstone(["plan", "--from", "2.0.0", "--to", "1.0.0", "--format", "json"], {
      cwd: dir,
    });
    expect(no.code).toBe(1);
    expect(JSON.parse(no.stdout).blockers).toEqual([
      expect.objectContaining({ code: "wipe", component: "users" }),
    ]);
    const yes = stepstone(
      ["plan", "--from", "2.0.0", "--to", "1.0.0", "--allow-wipe", "users", "--format", "json"],
      { cwd: dir },
    );
    expect(yes.code).toBe(0);
    const plan = JSON.parse(yes.stdout);
    expect(plan.wipes).toBe(1);
    expect(plan.steps).toEqual([
      expect.objectContaining({ from: "2.0.0", to: "1.0.0", wipe: ["users"] }),
    ]);
    const text = stepstone(["plan", "--from", "2.0.0", "--to", "1.0.0", "--allow-wipe", "all"], {
      cwd: dir,
    });
    expect(text.stdout).toContain("hop 1 erases the users data (etc/passwd)");
  });

  it("applies a platform's epochs", () => {
    const r = stepstone(
      ["plan", "--from", "1.0.0", "--to", "3.0.0", "--platform", "qemuarm", "--format", "json"],
      { cwd: graphDir() },
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.platform).toBe("qemuarm");
    // On qemuarm 3.0.0 keeps users at 1, but it only upgrades from >=2.0.0 (users 2): only
    // the transition release can take the data back to 1 before flashing it.
    expect(
      plan.steps.map((s: { to: string; preFlash: { id: string }[]; boot: { id: string }[] }) => [
        s.to,
        s.preFlash.map((m) => m.id),
        s.boot.map((m) => m.id),
      ]),
    ).toEqual([
      ["2.0.1-transition.1", [], ["users-1-2"]],
      ["3.0.0", ["users-2-1"], ["network-1-2"]],
    ]);
  });

  it("plans from a device's actual epochs", () => {
    const dir = graphDir();
    const status = {
      release: "2.0.0",
      platform: null,
      components: [
        { name: "users", epoch: 1 },
        { name: "network", epoch: 1 },
      ],
      failures: [],
    };
    require("node:fs").writeFileSync(`${dir}/status.json`, JSON.stringify(status));
    const r = stepstone(["plan", "--device", "status.json", "--to", "3.0.0", "--format", "json"], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.from).toBe("2.0.0");
    const ids = plan.steps.flatMap((s: { boot: { id: string }[] }) => s.boot.map((m) => m.id));
    expect(ids).toContain("users-1-2");
  });

  it("says under each stop why it is needed, and nothing under the target", () => {
    const r = stepstone(["plan", "--from", "1.0.0", "--to", "3.0.0"], { cwd: graphDir() });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const stop = lines.findIndex((l) => /^ {2}1 {2}flash 2\.0\.0 \(golden\)/.test(l));
    const target = lines.findIndex((l) => /^ {2}2 {2}flash 3\.0\.0/.test(l));
    expect(stop).toBeGreaterThan(0);
    // The why line sits under the stop's row, indented past the "#" column.
    expect(lines.slice(stop + 1, target)).toEqual([
      '     why: 3.0.0 upgrades only from ">=2.0.0", which 1.0.0 does not satisfy: stop at a release in that range first [upgradeFrom]',
    ]);
    expect(lines.slice(target + 1).some((l) => l.includes("why:"))).toBe(false);
  });

  it("without --to lists what the release can reach: hops, wipes and the first stop", () => {
    const dir = graphDir();
    const text = stepstone(["plan", "--from", "1.0.0"], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        "From 1.0.0 (golden), without wipes: the golden releases and the newest release of each line",
        "",
        "  target          hops  wipes  first stop",
        "  2.0.0 (golden)  1     none   direct",
        "  3.0.0           2     none   2.0.0 (golden)",
        "",
        "stepstone plan --from 1.0.0 --to V: the plan to one of them, with why each stop is needed",
        "",
      ].join("\n"),
    );
    const json = stepstone(["plan", "--from", "2.0.0", "--format", "json"], { cwd: dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      from: "2.0.0",
      platform: null,
      allowWipe: [],
      targets: [
        {
          to: "1.0.0",
          line: "1.0",
          golden: true,
          reachable: true,
          hops: 2,
          wipes: 0,
          wipe: [],
          firstStop: "2.0.1-transition.1",
          needsAllowWipe: [],
          blockers: [],
        },
        {
          to: "3.0.0",
          line: "3.0",
          golden: false,
          reachable: true,
          hops: 1,
          wipes: 0,
          wipe: [],
          firstStop: "3.0.0",
          needsAllowWipe: [],
          blockers: [],
        },
      ],
    });
    // No network-2-1 exists and network may not be wiped: from 3.0.0 nothing older is
    // reachable, even with wipes, and the listing says why.
    const stuck = stepstone(["plan", "--from", "3.0.0", "--allow-wipe", "all"], { cwd: dir });
    expect(stuck.code).toBe(0);
    expect(stuck.stdout).toMatch(/^ {2}1\.0\.0 \(golden\) +— +✗ no plan, even with wipes +—$/m);
    expect(stuck.stdout).toContain(
      "Unreachable:\n  ✗ 1.0.0: [noChain] network 2 -> 1 on the hop 3.0.0 -> 1.0.0",
    );
  });

  describe("a device whose boot migration failed", () => {
    const failedStatus = {
      release: "2.0.0",
      platform: null,
      components: [
        { name: "users", epoch: 1, failed: true },
        { name: "network", epoch: 1 },
      ],
      failures: [{ id: "users-1-2", component: "users", phase: "boot", from: 1, to: 2, status: 1 }],
    };
    const deviceDir = () => {
      const dir = graphDir();
      writeFileSync(join(dir, "status.json"), JSON.stringify(failedStatus));
      return dir;
    };

    it("names the failure first and does not count on the failed script", () => {
      const dir = deviceDir();
      const r = stepstone(["plan", "--device", "status.json", "--to", "3.0.0"], { cwd: dir });
      // users-1-2 is the only way users 1 -> 2: without it, users must be wiped.
      expect(r.code).toBe(1);
      const lines = r.stdout.split("\n");
      expect(lines.slice(0, 3)).toEqual([
        "Failed on the device (status.json, running 2.0.0):",
        "  ✗ users: users-1-2 (users 1→2) failed at boot: exit status 1",
        "    this plan does not run users-1-2 again (it failed on this device's data); --retry-failed counts on it",
      ]);
      expect(r.stdout).toContain("No plan from 2.0.0 (golden) to 3.0.0 without wipes:");
      expect(r.stdout).toContain(
        "stepstone plan --device status.json --to 3.0.0 --retry-failed  (counts on users-1-2 again",
      );
      const json = JSON.parse(
        stepstone(["plan", "--device", "status.json", "--to", "3.0.0", "--format", "json"], {
          cwd: dir,
        }).stdout,
      );
      expect(json).toMatchObject({
        reachable: false,
        blockers: [{ code: "wipe", component: "users" }],
        failures: [
          {
            id: "users-1-2",
            component: "users",
            phase: "boot",
            from: 1,
            to: 2,
            status: 1,
            reason: null,
            excluded: true,
          },
        ],
      });
    });

    it("finds another way when one exists (a wipe, allowed), or runs it again with --retry-failed", () => {
      const dir = deviceDir();
      const plan = (extra: string[]) =>
        JSON.parse(
          stepstone(
            ["plan", "--device", "status.json", "--to", "3.0.0", "--format", "json", ...extra],
            { cwd: dir },
          ).stdout,
        );
      const wiping = plan(["--allow-wipe", "users"]);
      expect(wiping.steps.map((s: { wipe: string[] }) => s.wipe)).toEqual([["users"]]);
      expect(JSON.stringify(wiping.steps)).not.toContain("users-1-2");
      const retry = plan(["--retry-failed"]);
      expect(retry.reachable).toBe(true);
      expect(retry.steps[0].boot.map((m: { id: string }) => m.id)).toContain("users-1-2");
      expect(retry.failures[0]).toMatchObject({ id: "users-1-2", excluded: false });
    });

    it("lists what it can reach without the failed script", () => {
      const r = stepstone(["plan", "--device", "status.json", "--format", "json"], {
        cwd: deviceDir(),
      });
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.failures.map((f: { id: string }) => f.id)).toEqual(["users-1-2"]);
      expect(
        json.targets.map((t: { to: string; reachable: boolean; needsAllowWipe: string[] }) => [
          t.to,
          t.reachable,
          t.needsAllowWipe,
        ]),
      ).toEqual([
        ["1.0.0", true, []],
        ["3.0.0", false, ["users"]],
      ]);
    });
  });

  it("plans a device with an interrupted pre-flash script from where that script leads", () => {
    const dir = graphDir();
    // 2.0.1-transition.1 ships users-2-1; 2.0.0 does not.
    let release = "2.0.1-transition.1";
    const write = (users: Record<string, unknown>) =>
      require("node:fs").writeFileSync(
        `${dir}/status.json`,
        JSON.stringify({
          release,
          platform: null,
          components: [users, { name: "network", epoch: 1 }],
          failures: [],
        }),
      );
    const planFrom = () =>
      stepstone(["plan", "--device", "status.json", "--to", "3.0.0", "--format", "json"], {
        cwd: dir,
      });
    // users-2-1 was cut before the flash: the device finishes it first, so its data is
    // as good as at epoch 1, and the plan is the one from epoch 1.
    write({ name: "users", epoch: 2, interrupted: "users-2-1" });
    const cut = planFrom();
    expect(cut.code, cut.stderr).toBe(0);
    write({ name: "users", epoch: 1, interrupted: null });
    expect(JSON.parse(cut.stdout)).toEqual(JSON.parse(planFrom().stdout));
    write({ name: "users", epoch: 2 });
    expect(JSON.parse(cut.stdout)).not.toEqual(JSON.parse(planFrom().stdout));
    // An id the graph does not have from that epoch: the planner cannot tell where it leads.
    write({ name: "users", epoch: 1, interrupted: "users-2-1" });
    const bad = planFrom();
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('interrupted pre-flash script "users-2-1"');
    // A running image that does not ship it cannot finish it: no plan can start from there.
    release = "2.0.0";
    write({ name: "users", epoch: 2, interrupted: "users-2-1" });
    const stuck = planFrom();
    expect(stuck.code).toBe(2);
    expect(stuck.stderr).toContain("that 2.0.0 does not ship, so the device cannot finish it");
  });

  it.each([
    [["plan", "--from", "9.9.9", "--to", "1.0.0"], "--from 9.9.9: no such release"],
    [
      ["plan", "--from", "1.0.0", "--to", "2.0.0", "--platform", "riscv"],
      'unknown platform "riscv"',
    ],
    [
      ["plan", "--from", "1.0.0", "--to", "2.0.0", "--allow-wipe", "network"],
      "network is not wipeable",
    ],
    [
      ["plan", "--from", "1.0.0", "--to", "2.0.0", "--allow-wipe", "nope"],
      "--allow-wipe nope: unknown component",
    ],
    [["plan", "--from", "1.0.0", "--to", "2.0.0", "--format", "yaml"], "--format"],
    [["plan", "--to", "2.0.0"], "plan needs --from VERSION or --device STATUS.json"],
    [["plan"], "plan needs --from VERSION or --device STATUS.json"],
    [["plan", "--from", "1.0.0", "--retry-failed"], "--retry-failed needs --device STATUS.json"],
  ])("exits 2 on bad input: %j", (args, message) => {
    const r = stepstone(args, { cwd: graphDir() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("colours only on a TTY and honours NO_COLOR", () => {
    const args = ["plan", "--from", "1.0.0", "--to", "3.0.0"];
    expect(stepstone(args, { cwd: graphDir() }).stdout).not.toContain("\u001b[");
    expect(stepstone(args, { cwd: graphDir(), env: { FORCE_COLOR: "1" } }).stdout).toContain(
      "\u001b[",
    );
    expect(
      stepstone(args, { cwd: graphDir(), env: { FORCE_COLOR: "1", NO_COLOR: "1" } }).stdout,
    ).not.toContain("\u001b[");
  });
});

describe("matrix and gaps", () => {
  it("matrix --format json has the contract's shape", () => {
    const r = stepstone(["matrix", "--format", "json", "--all"], { cwd: graphDir() });
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.releases).toEqual(["1.0.0", "2.0.0", "2.0.1-transition.1", "3.0.0"]);
    expect(m.cells).toHaveLength(12);
    expect(m.cells).toContainEqual({
      from: "3.0.0",
      to: "1.0.0",
      reachable: false,
      hops: null,
      wipes: null,
    });
    expect(m.cells).toContainEqual({
      from: "2.0.0",
      to: "1.0.0",
      reachable: true,
      hops: 2,
      wipes: 0,
    });
  });

  it("gaps --check fails when a pair cannot be reached without a wipe, and --suggest closes it", () => {
    const dir = graphDir();
    const r = stepstone(["gaps", "--all", "--check", "--suggest", "--format", "json"], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    const g = JSON.parse(r.stdout);
    expect(g.gaps).toContainEqual({
      from: "3.0.0",
      to: "1.0.0",
      reason: expect.objectContaining({ code: "noChain", component: "network" }),
    });
    // No script converts network 2 -> 1: name the migration to write.
    expect(g.missing).toContainEqual(
      expect.objectContaining({ component: "network", from: 2, to: 1 }),
    );
  });

  it("finds the bundled graph's gap and suggests the transition build that closes it", () => {
    const r = stepstone(["gaps", "--check", "--suggest", "--format", "json", "--graph", SAMPLE]);
    expect(r.code).toBe(1);
    const g = JSON.parse(r.stdout);
    const pairs = g.gaps.map((x: { from: string; to: string }) => `${x.from}>${x.to}`);
    expect(pairs).toEqual(["2.13.0>2.8.0", "2.13.0>2.9.2", "2.13.0>2.11.0"]);
    expect(
      g.gaps.every(
        (x: { reason: { code: string; component: string } }) =>
          x.reason.code === "wipe" && x.reason.component === "ownership",
      ),
    ).toBe(true);
    expect(g.suggestions).toHaveLength(1);
    const [s] = g.suggestions;
    expect(s.release).toMatchObject({
      version: "2.13.1-transition.1",
      line: "2.13",
      transition: true,
      signedBy: "vendor-2025",
    });
    expect(s.release.ships).toContain("ownership-3-2");
    expect(s.closes).toHaveLength(3);

    // Release it: the gaps are gone.
    const dir = tempDir();
    const graph = JSON.parse(readFileSync(SAMPLE, "utf8"));
    graph.releases.push(s.release);
    writeFileSync(join(dir, "release-graph.json"), JSON.stringify(graph));
    cpSync(join(REPO, "migrations"), join(dir, "migrations"), { recursive: true });
    const after = stepstone(["gaps", "--check"], { cwd: dir });
    expect(after.stdout).toContain("No gaps");
    expect(after.code).toBe(0);
  });
});

describe("the CLI as a whole", () => {
  it.each(["validate", "plan", "matrix", "gaps", "bundle", "verify", "runner", "publish", "show"])(
    "%s --help exits 0 with an example",
    (cmd) => {
      const r = stepstone([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: stepstone ${cmd}`);
      expect(r.stdout).toContain("Example");
    },
  );

  it("pnpm stepstone passes stdout and the exit code through untouched", () => {
    const r = spawnSync(
      "pnpm",
      ["stepstone", "plan", "--from", "2.11.0", "--to", "2.8.0", "--format", "json"],
      { cwd: REPO, encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).reachable).toBe(true);
    const bad = spawnSync("pnpm", ["stepstone", "plan", "--from", "0.0.1", "--to", "2.8.0"], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
  });
});
