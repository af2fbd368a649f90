/**
 * The emitted artifact: files, modes, substitutions, option checks, writeTree, and the
 * static checks a device build relies on (shellcheck, both shells' parsers,
 * `systemd-analyze verify` without a single line of output).
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "@stepstone/errors";
import { describe, expect, it } from "vitest";
import { emitRunner, RUNNER_PATH, writeTree } from "../src/index.js";
import { SHELLS, shellArgv, tempDir, tool } from "./helpers.js";

const SOURCE = fileURLToPath(new URL("../src/runner.sh", import.meta.url));

describe("emitRunner", () => {
  it("emits the runner and the three units, nothing else without components", () => {
    const files = emitRunner();
    expect(files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ["usr/libexec/migration/runner", "755"],
      ["usr/lib/systemd/system/migration.service", "644"],
      ["usr/lib/systemd/system/migration@.service", "644"],
      ["usr/lib/systemd/system/migration-failed.target", "644"],
    ]);
  });

  it("substitutes every placeholder with the defaults", () => {
    const runner = emitRunner()[0]?.content ?? "";
    expect(runner).not.toMatch(/@[A-Z_]+@'/);
    expect(runner).toContain("SCRIPTS_DIR='/usr/share/migration.d'");
    expect(runner).toContain("STATE_DIR='/var/lib/migration'");
    expect(runner).toContain("UPPER_DIR='/'");
    expect(runner).toContain("LOCK_DIR='/run/migration.lock'");
    expect(runner).toContain("SCRIPT_TIMEOUT='600'");
    const service = emitRunner().find((f) => f.path.endsWith("/migration.service"))?.content;
    expect(service).toContain("TimeoutStartSec=1800\n");
    expect(service).toContain("After=local-fs.target\n");
  });

  it("takes the folders, the upper dir, the layout and the time limits from the options", () => {
    const files = emitRunner({
      scriptsDir: "/opt/mig",
      stateDir: "/var/persist/mig",
      upper: "/run/initramfs/rw/cow",
      layout: "premounted",
      scriptTimeout: 30,
      runTimeout: 300,
    });
    const runner = files[0]?.content ?? "";
    expect(runner).toContain("SCRIPTS_DIR='/opt/mig'");
    expect(runner).toContain("STATE_DIR='/var/persist/mig'");
    expect(runner).toContain("UPPER_DIR='/run/initramfs/rw/cow'");
    expect(runner).toContain("SCRIPT_TIMEOUT='30'");
    const service = files.find((f) => f.path.endsWith("/migration.service"))?.content;
    expect(service).toContain("ConditionDirectoryNotEmpty=/opt/mig\n");
    expect(service).toContain(
      "After=systemd-remount-fs.service\nRequiresMountsFor=/var/persist/mig /run/initramfs/rw/cow\n" +
        "Before=sysinit.target systemd-sysusers.service systemd-tmpfiles-setup.service\n",
    );
    expect(service).toContain("TimeoutStartSec=300\n");
    const template = files.find((f) => f.path.endsWith("/migration@.service"))?.content;
    expect(template).toContain("TimeoutStartSec=300\n");
    expect(template).not.toContain("infinity");
  });

  it("never orders the fstab layout's service before systemd-sysusers (that is the cycle)", () => {
    const service = emitRunner({ layout: "fstab" }).find((f) =>
      f.path.endsWith("/migration.service"),
    )?.content;
    expect(service).toContain("After=local-fs.target\n");
    expect(service).not.toContain("systemd-sysusers");
  });

  it("drops trailing slashes of folders", () => {
    const runner = emitRunner({ upper: "/persist/upper/", stateDir: "/var/lib/m//" })[0]?.content;
    expect(runner).toContain("UPPER_DIR='/persist/upper'");
    expect(runner).toContain("STATE_DIR='/var/lib/m'");
  });

  it("is deterministic", () => {
    const opts = { components: [{ name: "users", services: ["a.service", "b.service"] }] };
    expect(emitRunner(opts)).toEqual(emitRunner(opts));
  });

  it("writes one drop-in per service, naming every component it needs", () => {
    const files = emitRunner({
      components: [
        { name: "users", services: ["phosphor-user-manager.service", "bmcweb.service"] },
        { name: "network", services: ["bmcweb.service"] },
        { name: "empty", services: [] },
      ],
    });
    const dropIns = files.filter((f) => f.path.endsWith(".conf"));
    expect(dropIns.map((f) => f.path)).toEqual([
      "usr/lib/systemd/system/bmcweb.service.d/10-migration.conf",
      "usr/lib/systemd/system/phosphor-user-manager.service.d/10-migration.conf",
    ]);
    expect(dropIns[0]?.content).toContain(
      "[Unit]\nRequires=migration@users.service\nAfter=migration@users.service\n" +
        "Requires=migration@network.service\nAfter=migration@network.service\n",
    );
    expect(dropIns.every((f) => f.mode === 0o644)).toBe(true);
  });

  it.each([
    [{ scriptsDir: "relative/dir" }],
    [{ stateDir: "/var/lib/it's" }],
    [{ stateDir: "/var/../etc" }],
    [{ upper: "upper" }],
    [{ lockDir: "/" }],
    [{ layout: "overlay" as never }],
    [{ scriptTimeout: 0 }],
    [{ scriptTimeout: 1.5 }],
    [{ scriptTimeout: 600, runTimeout: 600 }],
    [{ components: [{ name: "Users", services: [] }] }],
    [{ components: [{ name: "users", services: ["not a unit"] }] }],
    [{ components: [{ name: "users", services: ["migration.service"] }] }],
  ])("refuses bad options with an input error: %j", (opts) => {
    expect(() => emitRunner(opts)).toThrow(InputError);
  });
});

describe("writeTree", () => {
  it("writes the tree with exact modes, whatever the umask", async () => {
    const out = tempDir();
    const old = process.umask(0o077);
    try {
      await writeTree(out, emitRunner());
    } finally {
      process.umask(old);
    }
    expect(statSync(join(out, RUNNER_PATH)).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, "usr/lib/systemd/system/migration.service")).mode & 0o777).toBe(
      0o644,
    );
  });

  it("leaves no file, half-written or temporary, when one cannot be written", async () => {
    const out = tempDir();
    // A directory where a file must go: the second file fails.
    mkdirSync(join(out, "b/c"), { recursive: true });
    writeFileSync(join(out, "b/c/keep"), "");
    await expect(
      writeTree(out, [
        { path: "a/first", mode: 0o644, content: "1" },
        { path: "b/c", mode: 0o644, content: "2" },
      ]),
    ).rejects.toThrow();
    expect(existsSync(join(out, "a/first"))).toBe(false);
    expect(readdirSync(join(out, "a"))).toEqual([]);
    expect(readdirSync(join(out, "b"))).toEqual(["c"]);
  });

  it("refuses paths outside the folder", async () => {
    const out = tempDir();
    await expect(writeTree(out, [{ path: "../x", mode: 0o644, content: "" }])).rejects.toThrow(
      InputError,
    );
  });
});

describe("static checks", () => {
  it("shellcheck -s sh finds nothing in the source or the emitted runner", () => {
    const emitted = join(tempDir(), "runner");
    writeFileSync(emitted, emitRunner({ upper: "/upper" })[0]?.content ?? "");
    for (const file of [SOURCE, emitted]) {
      const r = spawnSync(tool("shellcheck"), ["-s", "sh", file], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it.each(SHELLS)("%s parses it (-n)", (shell) => {
    const r = spawnSync(
      shellArgv(shell)[0] as string,
      [...shellArgv(shell).slice(1), "-n", SOURCE],
      {
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("uses no tool outside common busybox builds", () => {
    const text = readFileSync(SOURCE, "utf8")
      .split("\n")
      .filter((l) => !/^\s*#/.test(l))
      .join("\n");
    expect(text).not.toMatch(/\bflock\b/);
    expect(text).not.toMatch(/\bsync -f\b/);
    expect(text).not.toMatch(/\breadlink\b/);
    expect(text).not.toMatch(/\bmktemp\b/);
    expect(text).not.toMatch(/\[\[/);
  });
});

describe("systemd-analyze verify", () => {
  /**
   * A root with the host's own unit files (so sysinit.target, shutdown.target... exist
   * and ordering cycles are found), the emitted units, the runner (so ExecStart
   * resolves) and the services the drop-ins extend.
   */
  async function verifyRoot(): Promise<string> {
    const root = tempDir("stepstone-units-");
    const hostUnits = "/usr/lib/systemd/system";
    if (!existsSync(join(hostUnits, "sysinit.target"))) {
      throw new Error(`${hostUnits}/sysinit.target is missing: install systemd for these tests`);
    }
    cpSync(hostUnits, join(root, "usr/lib/systemd/system"), { recursive: true });
    await writeTree(
      root,
      emitRunner({
        components: [
          { name: "users", services: ["phosphor-user-manager.service", "bmcweb.service"] },
          { name: "priv-groups", services: ["bmcweb.service"] },
        ],
      }),
    );
    for (const s of ["phosphor-user-manager", "bmcweb"]) {
      writeFileSync(
        join(root, `usr/lib/systemd/system/${s}.service`),
        `[Unit]\nDescription=${s}\n\n[Service]\nExecStart=/usr/libexec/migration/runner status\n`,
      );
    }
    mkdirSync(join(root, "usr/share/migration.d"), { recursive: true });
    return root;
  }

  function verify(root: string, units: string[]) {
    const r = spawnSync(
      tool("systemd-analyze"),
      ["verify", `--root=${root}`, ...units.map((u) => join(root, "usr/lib/systemd/system", u))],
      { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } },
    );
    return { status: r.status, output: r.stdout + r.stderr };
  }

  it("accepts every unit and drop-in without a single line of output", async () => {
    const root = await verifyRoot();
    const r = verify(root, [
      "migration.service",
      "migration@users.service",
      "migration@priv-groups.service",
      "migration-failed.target",
      "phosphor-user-manager.service",
      "bmcweb.service",
    ]);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("would catch a typo in DefaultDependencies= (the check is live)", async () => {
    const root = await verifyRoot();
    const unit = join(root, "usr/lib/systemd/system/migration.service");
    writeFileSync(
      unit,
      readFileSync(unit, "utf8").replace("DefaultDependencies=", "DefaultDependences="),
    );
    const r = verify(root, ["migration.service"]);
    expect(r.output).not.toBe("");
  });
});

/**
 * The boot transaction the units join has no ordering cycle. `systemd-analyze verify` of
 * migration.service alone cannot see one: local-fs-pre.target joins a real boot only
 * through the fstab generator. A probe target that wants sysinit.target and
 * local-fs-pre.target, in a root with Debian's units and migration.service enabled, makes
 * systemd build that transaction; it prints "Found ordering cycle" (and exits 0), so any
 * output fails.
 */
describe("the boot transaction (probe)", () => {
  async function probeRoot(
    opts: { layout: "premounted" | "fstab"; varFromFstab: boolean },
    edit?: (service: string) => string,
  ): Promise<string> {
    const root = tempDir("stepstone-probe-");
    const hostUnits = "/usr/lib/systemd/system";
    if (!existsSync(join(hostUnits, "systemd-sysusers.service"))) {
      throw new Error(
        `${hostUnits}/systemd-sysusers.service is missing: install systemd for these tests`,
      );
    }
    const units = join(root, "usr/lib/systemd/system");
    cpSync(hostUnits, units, { recursive: true });
    await writeTree(
      root,
      emitRunner({
        layout: opts.layout,
        upper: "/var/persist/etc-upper",
        components: [{ name: "users", services: ["phosphor-user-manager.service"] }],
      }),
    );
    const service = join(units, "migration.service");
    if (edit) writeFileSync(service, edit(readFileSync(service, "utf8")));
    writeFileSync(
      join(units, "phosphor-user-manager.service"),
      "[Unit]\nDescription=users\n\n[Service]\nExecStart=/usr/libexec/migration/runner status\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    const wants = join(root, "etc/systemd/system/sysinit.target.wants");
    mkdirSync(wants, { recursive: true });
    symlinkSync("/usr/lib/systemd/system/migration.service", join(wants, "migration.service"));
    mkdirSync(join(root, "usr/share/migration.d"), { recursive: true });
    writeFileSync(join(root, "usr/share/migration.d/manifest.tsv"), "release\t1.0.0\n");
    if (opts.varFromFstab) {
      // What systemd-fstab-generator makes of a /var line in fstab.
      writeFileSync(join(units, "var.mount"), "[Mount]\nWhat=/dev/vdb\nWhere=/var\nType=ext4\n");
      mkdirSync(join(units, "local-fs.target.wants"), { recursive: true });
      symlinkSync("../var.mount", join(units, "local-fs.target.wants/var.mount"));
    }
    writeFileSync(
      join(units, "probe.target"),
      "[Unit]\nDescription=probe\nWants=sysinit.target local-fs-pre.target multi-user.target phosphor-user-manager.service\n",
    );
    return root;
  }

  function probe(root: string): string {
    const r = spawnSync(
      tool("systemd-analyze"),
      ["verify", `--root=${root}`, join(root, "usr/lib/systemd/system/probe.target")],
      { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } },
    );
    if (r.status !== 0 && r.stdout + r.stderr === "") throw new Error(`probe exited ${r.status}`);
    return r.stdout + r.stderr;
  }

  it("fstab layout (systemd mounts /var): no cycle", async () => {
    expect(probe(await probeRoot({ layout: "fstab", varFromFstab: true }))).toBe("");
  });

  it("premounted layout (mounted before systemd, as OpenBMC): no cycle", async () => {
    expect(probe(await probeRoot({ layout: "premounted", varFromFstab: false }))).toBe("");
  });

  it("finds the cycle of the old units (After=local-fs.target with Before=systemd-sysusers)", async () => {
    const root = await probeRoot({ layout: "premounted", varFromFstab: false }, (s) =>
      s.replace("After=systemd-remount-fs.service", "After=local-fs.target"),
    );
    expect(probe(root)).toMatch(/Found ordering cycle/);
  });

  it("finds a cycle when premounted units meet a /var that fstab mounts: the layout matters", async () => {
    expect(probe(await probeRoot({ layout: "premounted", varFromFstab: true }))).toMatch(
      /Found ordering cycle/,
    );
  });
});
