import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { BIN, REPO, SAMPLE, stepstone } from "../helpers/cli.js";

/** The bundled graph's story, as a fleet: goldens, a stuck 2.13, a failed boot migration. */
const status = (
  release: string,
  users: number,
  failed: boolean,
  platform: string | null = null,
) => ({
  release,
  platform,
  components: [
    {
      name: "users",
      epoch: users,
      imageEpoch: 2,
      pending: users === 2 ? [] : ["users-1-2"],
      interrupted: null,
      failed,
    },
    { name: "ownership", epoch: 2, imageEpoch: 2, pending: [], interrupted: null, failed: false },
    { name: "network", epoch: 2, imageEpoch: 2, pending: [], interrupted: null, failed: false },
  ],
  failures: failed ? [{ id: "users-1-2", component: "users" }] : [],
});

const DEVICES = [
  { id: "bmc-01", release: "2.9.2" },
  { id: "bmc-02", release: "2.9.2" },
  { id: "bmc-03", release: "2.9.2" },
  { id: "bmc-04", release: "2.8.0" },
  { id: "bmc-05", release: "2.10.3" },
  { id: "bmc-06", release: "2.9.2", platform: "qemuarm" },
  { id: "bmc-07", status: status("2.10.0", 1, true) },
  { id: "bmc-08", status: status("2.10.0", 2, false) },
  { id: "bmc-09", release: "2.13.0" },
  { id: "bmc-10", release: "2.11.0" },
];

const jsonl = (devices: readonly object[]) => devices.map((d) => JSON.stringify(d)).join("\n");

function inventory(text: string, name = "devices.jsonl"): string {
  const dir = tempDir({ [name]: text });
  return join(dir, name);
}

const fleet = (args: readonly string[]) => stepstone(["fleet", "--graph", SAMPLE, ...args]);

describe("stepstone fleet", () => {
  it("groups the fleet into classes, plans each once and orders the flashes in waves", () => {
    const r = fleet([
      "--inventory",
      inventory(jsonl(DEVICES)),
      "--to",
      "2.11.0",
      "--format",
      "json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.summary).toEqual({
      devices: 10,
      classes: 8,
      atTarget: 1,
      direct: 3,
      throughStops: 5,
      needingWipes: 0,
      unreachable: 1,
      failed: 1,
      badLines: 0,
    });
    const classes = Object.fromEntries(
      j.classes.map((c: { id: string; devices: number; steps?: { flash: string }[] }) => [
        c.id,
        [c.devices, c.steps?.map((s) => s.flash) ?? null],
      ]),
    );
    expect(classes).toEqual({
      "2.9.2": [3, ["2.10.3", "2.11.0"]],
      "2.8.0": [1, ["2.9.1", "2.10.3", "2.11.0"]],
      // Its users and ownership data are at 2 already (qemuarm went first).
      "2.9.2/qemuarm": [1, ["2.12.0", "2.11.0"]],
      "2.10.0 users=1 failed=users-1-2": [1, ["2.11.0"]],
      "2.10.0": [1, ["2.11.0"]],
      "2.10.3": [1, ["2.11.0"]],
      "2.11.0": [1, []],
      "2.13.0": [1, null],
    });
    expect(j.classes.find((c: { id: string }) => c.id === "2.13.0")).toMatchObject({
      reachable: false,
      blockers: [{ code: "wipe", component: "ownership" }],
    });
    expect(
      j.waves.map((w: { step: number; flash: string; devices: number }) => [
        w.step,
        w.flash,
        w.devices,
      ]),
    ).toEqual([
      [1, "2.9.1", 1],
      [1, "2.10.3", 3],
      [1, "2.11.0", 3],
      [1, "2.12.0", 1],
      [2, "2.10.3", 1],
      [2, "2.11.0", 4],
      [3, "2.11.0", 1],
    ]);
  });

  it("plans every device's class exactly as plan --device plans that device", () => {
    const r = fleet([
      "--inventory",
      inventory(jsonl(DEVICES)),
      "--to",
      "2.11.0",
      "--format",
      "json",
    ]);
    const classes = JSON.parse(r.stdout).classes as {
      id: string;
      reachable: boolean;
      hops?: number;
      wipes?: number;
      steps?: { flash: string; wipe: string[] }[];
      blockers?: { code: string; component?: string; message: string }[];
    }[];
    const dir = tempDir();
    for (const d of DEVICES) {
      const file = join(dir, `${d.id}.json`);
      // A short-form device is one whose data is at its release's epochs.
      const s =
        "status" in d
          ? d.status
          : { release: d.release, platform: d.platform ?? null, components: [], failures: [] };
      writeFileSync(file, JSON.stringify(s));
      // fleet counts on every script, also one that failed on a device (plan --device
      // leaves those out unless --retry-failed; README: a fleet's classes do not yet).
      const p = stepstone([
        "plan",
        "--graph",
        SAMPLE,
        "--device",
        file,
        "--to",
        "2.11.0",
        "--format",
        "json",
        "--retry-failed",
      ]);
      const want = JSON.parse(p.stdout);
      const platform = "platform" in d ? `/${d.platform}` : "";
      const release = d.status !== undefined ? d.status.release : d.release;
      const cls = classes.find(
        (c) =>
          c.id.startsWith(`${release}${platform}`) &&
          (d.status === undefined || c.id.includes("failed") === d.status.failures.length > 0),
      ) as (typeof classes)[number];
      expect(cls, d.id).toBeDefined();
      if (!want.reachable) {
        expect({ reachable: cls.reachable, blockers: cls.blockers }).toEqual({
          reachable: false,
          blockers: want.blockers,
        });
        continue;
      }
      expect({
        reachable: cls.reachable,
        hops: cls.hops,
        wipes: cls.wipes,
        steps: cls.steps,
      }).toEqual({
        reachable: true,
        hops: want.hops,
        wipes: want.wipes,
        steps: want.steps.map((s: { to: string; wipe: string[] }) => ({
          flash: s.to,
          wipe: s.wipe,
        })),
      });
    }
  });

  it("prints a summary, the classes with their stops' reasons and the waves for people", () => {
    const r = fleet(["--inventory", inventory(jsonl(DEVICES)), "--to", "2.11.0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Fleet of 10 devices in 8 classes → 2.11.0 (golden), without wipes");
    expect(r.stdout).toMatch(/through stops\s+5/);
    expect(r.stdout).toMatch(/2\.10\.3\s+upgradeFrom\s+2\.11\.0 upgrades only from ">=2\.10\.0"/);
    expect(r.stdout).toMatch(/1\s+2\.9\.1\s+1\s+1\s+1/);
    // No colour off a terminal.
    expect(r.stdout).not.toContain("\u001b[");
  });

  it("wipes only what --allow-wipe allows, and says which wave wipes what", () => {
    const r = fleet([
      "--inventory",
      inventory(jsonl(DEVICES)),
      "--to",
      "2.11.0",
      "--allow-wipe",
      "ownership",
      "--format",
      "json",
    ]);
    const j = JSON.parse(r.stdout);
    expect(j.summary.needingWipes).toBe(1);
    expect(j.waves.filter((w: { wipes: unknown[] }) => w.wipes.length > 0)).toMatchObject([
      { wipes: [{ component: "ownership", devices: 1 }] },
    ]);
    expect(
      fleet(["--inventory", inventory(jsonl(DEVICES)), "--to", "2.11.0", "--allow-wipe", "nope"])
        .code,
    ).toBe(2);
  });

  it("writes id,class,first-stop for every device, from CSV too", () => {
    const out = join(tempDir(), "rollout.csv");
    const csv = 'id,release,platform\nbmc-01,2.9.2,\nbmc-02,2.9.2,qemuarm\n"bmc,03",2.11.0,\n';
    const r = fleet([
      "--inventory",
      inventory(csv, "devices.csv"),
      "--to",
      "2.11.0",
      "--devices",
      out,
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(
      'id,class,first-stop\nbmc-01,2.9.2,2.10.3\nbmc-02,2.9.2/qemuarm,2.12.0\n"bmc,03",2.11.0,\n',
    );
  });

  it("reads stdin for -", () => {
    const r = spawnSync(
      process.execPath,
      [BIN, "fleet", "--graph", SAMPLE, "--inventory", "-", "--to", "2.11.0", "--format", "json"],
      {
        cwd: REPO,
        input: jsonl(DEVICES.slice(0, 3)),
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).summary.devices).toBe(3);
  });

  it("reports bad lines with their number, counts them, and goes on (--strict stops: exit 2)", () => {
    const file = inventory(
      `${jsonl(DEVICES.slice(0, 2))}\n{"id":"x"}\nnot json\n${jsonl(DEVICES.slice(2, 3))}\n`,
    );
    const r = fleet(["--inventory", file, "--to", "2.11.0", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:3: device x: expected "status"`);
    expect(r.stderr).toContain(`${file}:4: not JSON`);
    expect(r.stderr).toContain("2 bad lines skipped and counted");
    const j = JSON.parse(r.stdout);
    expect(j.summary).toMatchObject({ devices: 3, badLines: 2 });
    expect(j.badLines.map((b: { line: number }) => b.line)).toEqual([3, 4]);
    const strict = fleet(["--inventory", file, "--to", "2.11.0", "--strict"]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^stepstone: .*devices\.jsonl:3: device x: expected "status"/);
    expect(strict.stdout).toBe("");
  });

  it("refuses an empty inventory (exit 2), without a stack trace", () => {
    for (const text of ["", "\n\n", "not json\n"]) {
      const r = fleet(["--inventory", inventory(text), "--to", "2.11.0"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/stepstone: .*devices\.jsonl: no devices/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(fleet(["--inventory", "/nonexistent/devices.jsonl", "--to", "2.11.0"]).code).toBe(2);
    expect(fleet(["--inventory", inventory(jsonl(DEVICES)), "--to", "9.9.9"]).code).toBe(2);
  });

  it("without --to: the distribution, and which golden releases the fleet could reach without a wipe", () => {
    const r = fleet(["--inventory", inventory(jsonl(DEVICES)), "--format", "json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.releases[0]).toEqual({ release: "2.9.2", platform: null, devices: 3, failed: 0 });
    expect(j.failedComponents).toEqual([{ component: "users", devices: 1 }]);
    expect(j.golden).toEqual([
      // Down from 2.10 through the transition release that ships the way back; 2.13.0's
      // ownership 3 -> 2 has no migration yet.
      { release: "2.8.0", atRelease: 1, reachableWithoutWipe: 9 },
      { release: "2.9.2", atRelease: 4, reachableWithoutWipe: 9 },
      { release: "2.11.0", atRelease: 1, reachableWithoutWipe: 9 },
      { release: "2.13.0", atRelease: 1, reachableWithoutWipe: 10 },
    ]);
    const text = fleet(["--inventory", inventory(jsonl(DEVICES))]);
    expect(text.stdout).toContain("Where can we take this fleet?");
  });

  it("has --help", () => {
    const r = stepstone(["fleet", "--help"]);
    expect(r.code).toBe(0);
    for (const o of [
      "--inventory",
      "--to",
      "--platform-default",
      "--allow-wipe",
      "--devices",
      "--strict",
      "--format",
    ])
      expect(r.stdout).toContain(o);
  });
});
