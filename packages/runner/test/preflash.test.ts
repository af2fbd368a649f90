/**
 * `runner pre-flash`: the running image's part of each chain toward the target's epochs,
 * the planned wipes, and the target's verification with the running image's keys;
 * then the target's boot. Under busybox ash and dash.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_REL,
  type BundleSpec,
  effects,
  epochOf,
  installBundle,
  type KeyPair,
  listState,
  makeKeyPair,
  makeRoot,
  putData,
  readState,
  runIds,
  runRunner,
  runs,
  SHELLS,
  status,
  type TestRoot,
  tarBundle,
  tempDir,
  writeBundle,
  writeState,
} from "./helpers.js";

let k1: KeyPair;
let k2: KeyPair;
beforeAll(() => {
  const dir = tempDir("stepstone-keys-");
  k1 = makeKeyPair(dir, "k1");
  k2 = makeKeyPair(dir, "k2");
});

const PATHS = ["etc/passwd", "etc/group"];

/** 2.10.0 ships the up and the down migration (so a failed flash can recover). */
function r210(signWith?: KeyPair): BundleSpec {
  return {
    release: "2.10.0",
    components: [
      { name: "users", epoch: 2, paths: PATHS },
      { name: "network", epoch: 1, onFailure: "isolate", paths: ["etc/systemd/network"] },
    ],
    scripts: [
      { id: "users-1-2", component: "users", from: 1, to: 2 },
      { id: "users-2-1", component: "users", from: 2, to: 1 },
    ],
    ...(signWith ? { signWith } : {}),
  };
}

/** 2.9.0, a golden image: users at 1, ships nothing. */
function r29(signWith?: KeyPair): BundleSpec {
  return {
    release: "2.9.0",
    components: [
      { name: "users", epoch: 1, paths: PATHS },
      { name: "network", epoch: 1, onFailure: "isolate", paths: ["etc/systemd/network"] },
    ],
    scripts: [],
    ...(signWith ? { signWith } : {}),
  };
}

/** A target image's root file system holding its bundle. */
function targetRootfs(spec: BundleSpec): string {
  const dir = tempDir("stepstone-target-");
  writeBundle(join(dir, BUNDLE_REL), spec);
  return dir;
}

/**
 * The durable marker the runner writes before a pre-flash script (as a cut inside the
 * script leaves it), for a script of the installed bundle.
 */
function markInterrupted(t: TestRoot, scriptId: string): { id: string; from: string; to: string } {
  const manifest = readFileSync(join(t.root, BUNDLE_REL, "manifest.tsv"), "utf8");
  const line = manifest.split("\n").find((l) => l.split("\t")[2] === scriptId) as string;
  const [, , id = "", sha, , from = "", to = "", file] = line.split("\t");
  writeState(
    t,
    `preflash/${line.split("\t")[4]}`,
    `script=${id} ${from} ${to} ${file} ${sha}\nend\n`,
  );
  return { id, from, to };
}

describe.each(SHELLS)("pre-flash under %s", (shell) => {
  it("runs the running image's down-migration before the flash; the target boots with nothing to do", async () => {
    const t = await makeRoot({ bundle: r210() });
    putData(t, "etc/passwd");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    const r = runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r29())]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(runs(t)).toEqual(["users-1-2 boot 1 2", "users-2-1 pre-flash 2 1"]);
    expect(readState(t, "epoch/users")).toBe("1\n");
    expect(readState(t, "applied/users-2-1")).toContain("phase=pre-flash\n");
    installBundle(t, r29());
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runs(t)).toHaveLength(2);
  });

  it("goes back and forth: pre-flash down, boot up, every time", async () => {
    const t = await makeRoot({ bundle: r210() });
    putData(t, "etc/passwd");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    for (let i = 0; i < 2; i++) {
      // On 2.10: flash 2.9.
      expect(runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r29())]).status).toBe(0);
      installBundle(t, r29());
      expect(runRunner(t, shell, ["boot"]).status).toBe(0);
      expect(epochOf(t, shell, "users")).toBe(1);
      // On 2.9 (it ships nothing): flash 2.10, which migrates at its boot.
      expect(runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r210())]).status).toBe(0);
      installBundle(t, r210());
      expect(runRunner(t, shell, ["boot"]).status).toBe(0);
      expect(epochOf(t, shell, "users")).toBe(2);
    }
    expect(runIds(t)).toEqual(["users-1-2", "users-2-1", "users-1-2", "users-2-1", "users-1-2"]);
    expect(effects(t, "users")).toEqual(["users-1-2", "users-2-1"]);
  });

  it("accepts the target as its bundle folder or as the bundle .tar.gz", async () => {
    for (const kind of ["folder", "tar"] as const) {
      const t = await makeRoot({ bundle: r210() });
      writeState(t, "epoch/users", "2\n");
      const folder = join(tempDir(), "b");
      writeBundle(folder, r29());
      const target = kind === "folder" ? folder : tarBundle(folder, join(tempDir(), "b.tar.gz"));
      const r = runRunner(t, shell, ["pre-flash", `--target=${target}`]);
      expect(r.stderr, kind).toBe("");
      expect(r.status, kind).toBe(0);
      expect(runIds(t), kind).toEqual(["users-2-1"]);
      // The private copy lived in the run's folder under the lock folder, which is gone.
      expect(
        readdirSync(join(t.root, "run/migration.lock")).filter((f) => f.startsWith("work.")),
        kind,
      ).toEqual([]);
    }
  });

  it("prefers the chain with fewer pre-flash scripts: the target's own script runs at its boot", async () => {
    const running = r210();
    const target: BundleSpec = {
      release: "2.9.9",
      components: [{ name: "users", epoch: 1, paths: PATHS }],
      scripts: [{ id: "users-2-1-new", component: "users", from: 2, to: 1 }],
    };
    const t = await makeRoot({ bundle: running });
    writeState(t, "epoch/users", "2\n");
    expect(runRunner(t, shell, ["pre-flash", "--target", targetRootfs(target)]).status).toBe(0);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "journal")).toContain("users: at 2.9.9's boot: users-2-1-new");
    installBundle(t, target);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-2-1-new"]);
  });

  it("splits a chain between the running image (now) and the target (at its boot)", async () => {
    const running: BundleSpec = {
      release: "3.0.0",
      components: [{ name: "users", epoch: 3 }],
      scripts: [{ id: "users-3-2", component: "users", from: 3, to: 2 }],
    };
    const target: BundleSpec = {
      release: "2.0.0",
      components: [{ name: "users", epoch: 1 }],
      scripts: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
    };
    const t = await makeRoot({ bundle: running });
    writeState(t, "epoch/users", "3\n");
    expect(runRunner(t, shell, ["pre-flash", "--target", targetRootfs(target)]).status).toBe(0);
    expect(runs(t)).toEqual(["users-3-2 pre-flash 3 2"]);
    installBundle(t, target);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-3-2", "users-2-1"]);
    expect(epochOf(t, shell, "users")).toBe(1);
  });

  it("refuses (exit 1, nothing run) when a component has no chain and no --wipe", async () => {
    const running: BundleSpec = {
      release: "2.10.0",
      components: [
        { name: "network", epoch: 2 },
        { name: "users", epoch: 2, paths: PATHS },
      ],
      scripts: [{ id: "network-2-1", component: "network", from: 2, to: 1 }],
    };
    const t = await makeRoot({ bundle: running });
    writeState(t, "epoch/users", "2\n");
    writeState(t, "epoch/network", "2\n");
    putData(t, "etc/passwd");
    const r = runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r29())]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/users\(no chain from epoch 2/);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "epoch/network")).toBe("2\n");

    // With the planned wipe: network migrates down, users is wiped in the upper dir.
    const w = runRunner(t, shell, [
      "pre-flash",
      "--target",
      targetRootfs(r29()),
      "--wipe",
      "users",
    ]);
    expect(w.status).toBe(0);
    expect(runIds(t)).toEqual(["network-2-1"]);
    expect(existsSync(join(t.upperDir, "etc/passwd"))).toBe(false);
    expect(readState(t, "epoch/users")).toBeUndefined();
    // The target sees fresh data and records its own epoch.
    installBundle(t, r29());
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(readState(t, "epoch/users")).toBe("1\n");
  });

  it("a failed pre-flash script exits 1 and stops; the running image recovers at its boot", async () => {
    const running = r210();
    running.scripts[1] = { id: "users-2-1", component: "users", from: 2, to: 1, body: "exit 4" };
    const t = await makeRoot({ bundle: running });
    writeState(t, "epoch/users", "2\n");
    const r = runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r29())]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/users-2-1 failed before the flash: do not flash 2\.9\.0/);
    expect(listState(t, "failed")).toEqual(["users-2-1"]);
    // Not flashed: 2.10 boots; users is at its epoch, so it is healthy again.
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runRunner(t, shell, ["boot", "--component", "users"]).status).toBe(0);
    expect(listState(t, "failed")).toEqual([]);
  });

  it("finishes a pre-flash script cut by a power loss when the same image boots again", async () => {
    const t = await makeRoot({ bundle: r210() });
    putData(t, "etc/passwd");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    // The cut: users-2-1 was announced (its durable marker) and may have run part-way,
    // but its record is still at 2. The flash never happened: 2.10 boots again.
    const { id, from, to } = markInterrupted(t, "users-2-1");
    // Status tells it before boot does: the interrupted script first, then the way back.
    expect(status(t, shell).components[0]).toMatchObject({
      name: "users",
      epoch: 2,
      pending: ["users-2-1", "users-1-2"],
      interrupted: "users-2-1",
    });
    expect(runRunner(t, shell, ["status"]).stdout).toMatch(
      /users\s+2\s+2\s+interrupted\s+users-2-1 users-1-2/,
    );
    const r = runRunner(t, shell, ["boot"]);
    expect(r.stderr).toContain("finishing users-2-1");
    expect(r.status).toBe(0);
    // Finished toward 1, then migrated back up by the image's own boot chain.
    expect(runs(t)).toEqual([
      "users-1-2 boot 1 2",
      "users-2-1 pre-flash 2 1",
      "users-1-2 boot 1 2",
    ]);
    expect(readState(t, "epoch/users")).toBe("2\n");
    expect(listState(t, "preflash")).toEqual([]);
    // A marker that was never made durable (no "end") means the script never started.
    writeState(t, "preflash/users", `script=${id} ${from}`);
    expect(status(t, shell).components[0]).toMatchObject({ pending: [], interrupted: null });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runs(t)).toHaveLength(3);
    expect(listState(t, "preflash")).toEqual([]);
    // A marker whose id no manifest could hold: status stays valid JSON and says corrupt.
    writeState(t, "preflash/users", `script=Bad"id" ${from} ${to} f.sh ${"0".repeat(64)}\nend\n`);
    expect(status(t, shell).components[0]).toMatchObject({ epoch: 2, interrupted: null });
    expect(runRunner(t, shell, ["status"]).stdout).toMatch(/users\s+2\s+2\s+corrupt/);
  });

  it("a pre-flash after an interrupted one finishes it first, whatever the new target", async () => {
    const t = await makeRoot({ bundle: r210() });
    writeState(t, "epoch/users", "2\n");
    markInterrupted(t, "users-2-1");
    // Now flashing 2.10 itself again (same epochs): the interrupted script is finished
    // first; the way back to 2 is shipped by the target too, so it runs at its boot.
    const r = runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r210())]);
    expect(r.status).toBe(0);
    expect(runIds(t)).toEqual(["users-2-1"]);
    expect(listState(t, "preflash")).toEqual([]);
    installBundle(t, r210());
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-2-1", "users-1-2"]);
    expect(readState(t, "epoch/users")).toBe("2\n");
    expect(listState(t, "preflash")).toEqual([]);
  });

  it("verifies the target with the running image's keys", async () => {
    const t = await makeRoot({ bundle: r210(k1), keys: [k1] });
    writeState(t, "epoch/users", "2\n");
    expect(runRunner(t, shell, ["pre-flash", "--target", targetRootfs(r29(k1))]).status).toBe(0);
    writeState(t, "epoch/users", "2\n");
    for (const target of [r29(k2), r29()]) {
      const r = runRunner(t, shell, ["pre-flash", "--target", targetRootfs(target)]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^runner: target: /m);
    }
    // A target script that does not match its manifest.
    const dir = targetRootfs(r210(k1));
    const f = join(dir, BUNDLE_REL, "0001-users-1-2-users-1-2.sh");
    writeFileSync(f, `${readFileSync(f, "utf8")}rm -rf "$MIGRATION_ROOT/etc"\n`);
    const r = runRunner(t, shell, ["pre-flash", "--target", dir]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/target: the sha256 of 0001-users-1-2-users-1-2\.sh does not match/);
    expect(runIds(t)).toEqual(["users-2-1"]);
  });

  it("exits 2 for a target that is not a bundle and for unknown --wipe components", async () => {
    const t = await makeRoot({ bundle: r210() });
    const empty = tempDir();
    mkdirSync(join(empty, "x"));
    expect(runRunner(t, shell, ["pre-flash", "--target", empty]).status).toBe(2);
    expect(runRunner(t, shell, ["pre-flash", "--target", join(empty, "nope")]).status).toBe(2);
    const r = runRunner(t, shell, [
      "pre-flash",
      "--target",
      targetRootfs(r29()),
      "--wipe",
      "nosuch",
    ]);
    expect(r.status).toBe(2);
  });
});
