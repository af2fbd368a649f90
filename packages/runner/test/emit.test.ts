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
    expect(runner).toContain("KEYS_DIR='/usr/share/migration.d/keys'");
    expect(runner).toContain("UPPER_DIR='/'");
    expect(runner).toContain("LOCK_DIR='/run/migration.lock'");
    expect(runner).toContain("RECORD_MODE='companion'");
  });

  it("takes the folders, the upper dir and the record mode from the options", () => {
    const files = emitRunner({
      scriptsDir: "/opt/mig",
      stateDir: "/var/persist/mig",
      upper: "/run/initramfs/rw/cow",
      recordMode: "rename",
    });
    const runner = files[0]?.content ?? "";
    expect(runner).toContain("SCRIPTS_DIR='/opt/mig'");
    expect(runner).toContain("KEYS_DIR='/opt/mig/keys'");
    expect(runner).toContain("STATE_DIR='/var/persist/mig'");
    expect(runner).toContain("UPPER_DIR='/run/initramfs/rw/cow'");
    expect(runner).toContain("RECORD_MODE='rename'");
    const service = files.find((f) => f.path.endsWith("/migration.service"))?.content;
    expect(service).toContain("ConditionDirectoryNotEmpty=/opt/mig\n");
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
    [{ keysDir: "/" }],
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
