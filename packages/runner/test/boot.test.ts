/**
 * `runner boot` and `runner status`, under busybox ash and dash: what runs, in which order,
 * what is recorded, and what each failure policy does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BundleSpec,
  chain,
  effects,
  epochOf,
  installBundle,
  listState,
  makeRoot,
  putData,
  readState,
  runIds,
  runRunner,
  runs,
  SHELLS,
  status,
  writeState,
} from "./helpers.js";

const USERS_PATHS = ["etc/passwd", "etc/group"];

/** 2.10.0: users at epoch 3 (chain 1->2->3), network at 1. */
function release210(extra: Partial<BundleSpec> = {}): BundleSpec {
  return {
    release: "2.10.0",
    components: [
      { name: "users", epoch: 3, paths: USERS_PATHS },
      { name: "network", epoch: 1, onFailure: "isolate", paths: ["etc/systemd/network"] },
    ],
    scripts: chain("users", 1, 3),
    ...extra,
  };
}

describe.each(SHELLS)("boot under %s", (shell) => {
  it("runs the chain in order from the baseline, records each script, then does nothing", async () => {
    const t = await makeRoot({ bundle: release210() });
    putData(t, "etc/passwd");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(runs(t)).toEqual(["users-1-2 boot 1 2", "users-2-3 boot 2 3"]);
    expect(readState(t, "epoch/users")).toBe("3\n");
    const applied = readState(t, "applied/users-2-3") ?? "";
    expect(applied).toMatch(
      /^id=users-2-3\nsha256=[0-9a-f]{64}\ncomponent=users\nfrom=2\nto=3\ntime=\d+\nrelease=2\.10\.0\n/,
    );
    expect(listState(t, "applied")).toEqual(["users-1-2", "users-2-3"]);
    expect(listState(t, "failed")).toEqual([]);

    // Second boot: nothing runs, nothing is written.
    const journal = readState(t, "journal");
    const mtime = statSync(join(t.stateDir, "epoch/users")).mtimeMs;
    const again = runRunner(t, shell, ["boot"]);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe("");
    expect(runs(t)).toHaveLength(2);
    expect(readState(t, "journal")).toBe(journal);
    expect(statSync(join(t.stateDir, "epoch/users")).mtimeMs).toBe(mtime);
  });

  it("passes MIGRATION_* to scripts, stdin from /dev/null, output to the journal", async () => {
    const body = [
      'echo "root=[$MIGRATION_ROOT] c=$MIGRATION_COMPONENT $MIGRATION_FROM->$MIGRATION_TO $MIGRATION_PHASE"',
      'if read -r x; then echo "stdin had data"; else echo "stdin empty"; fi',
      'echo "to stderr" >&2',
      'echo ok > "$MIGRATION_ROOT/ran"',
    ].join("\n");
    const t = await makeRoot({
      bundle: {
        release: "1.0.0",
        components: [{ name: "users", epoch: 2 }],
        scripts: [{ id: "users-1-2", component: "users", from: 1, to: 2, body }],
      },
    });
    const child = spawnSync(
      "sh",
      [
        "-c",
        `echo data | "$@"`,
        "sh",
        ...(shell === "dash" ? ["dash"] : ["busybox", "ash"]),
        t.runner,
        "--root",
        t.root,
        "boot",
      ],
      { encoding: "utf8" },
    );
    expect(child.status).toBe(0);
    const journal = readState(t, "journal") ?? "";
    expect(journal).toContain(`root=[${t.root}] c=users 1->2 boot\n`);
    expect(journal).toContain("stdin empty\n");
    expect(journal).toContain("to stderr\n");
    expect(readFileSync(join(t.root, "ran"), "utf8")).toBe("ok\n");
  });

  it("treats data without a record as fresh when none of its paths exist", async () => {
    const t = await makeRoot({ bundle: release210() });
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "epoch/users")).toBe("3\n");
    // network: its path does not exist either, so it is fresh at epoch 1.
    expect(readState(t, "epoch/network")).toBe("1\n");
  });

  it("treats data without a record at the component's baseline when a path exists", async () => {
    const bundle = release210();
    bundle.components[0] = { name: "users", epoch: 3, baseline: 2, paths: USERS_PATHS };
    const t = await makeRoot({ bundle });
    putData(t, "etc/group");
    expect(status(t, shell).components[0]).toEqual({
      name: "users",
      epoch: 2,
      imageEpoch: 3,
      pending: ["users-2-3"],
      interrupted: null,
      failed: false,
    });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-2-3"]);
  });

  it("treats a component without paths as at its baseline", async () => {
    const t = await makeRoot({
      bundle: {
        release: "1.0.0",
        components: [{ name: "settings", epoch: 2 }],
        scripts: chain("settings", 1, 2),
      },
    });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["settings-1-2"]);
  });

  it("chooses the chain with the fewest scripts, then the smallest ids (byte-wise, element by element)", async () => {
    const t = await makeRoot({
      bundle: {
        release: "1.0.0",
        components: [
          { name: "a", epoch: 3 },
          { name: "b", epoch: 4 },
        ],
        scripts: [
          ...chain("a", 1, 3),
          { id: "a-direct", component: "a", from: 1, to: 3 },
          // b: 1->2->4 ["a", "zz"] or 1->3->4 ["a.b", "c"]; element-wise "a" < "a.b" wins,
          // although "azz" > "a.bc" as joined strings.
          { id: "a.b", component: "b", from: 1, to: 3 },
          { id: "c", component: "b", from: 3, to: 4 },
          { id: "a", component: "b", from: 1, to: 2 },
          { id: "zz", component: "b", from: 2, to: 4 },
        ],
      },
    });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["a-direct", "a", "zz"]);
  });

  it("runs the current epoch's chain whatever the history (a record says where data is)", async () => {
    const t = await makeRoot({ bundle: release210() });
    writeState(t, "epoch/users", "2\n");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-2-3"]);
  });

  it("runs components in manifest order, each to the image's epoch", async () => {
    const t = await makeRoot({
      bundle: {
        release: "3.0.0",
        components: [
          { name: "zeta", epoch: 2 },
          { name: "alpha", epoch: 3 },
        ],
        scripts: [...chain("alpha", 1, 3), ...chain("zeta", 1, 2)],
      },
    });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["zeta-1-2", "alpha-1-2", "alpha-2-3"]);
  });

  it("never runs a script on data newer than the image (halt: exit 1, failure recorded)", async () => {
    const t = await makeRoot({ bundle: release210() });
    writeState(t, "epoch/users", "4\n");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/users: no chain .* from epoch 4 to 3; policy halt/);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "epoch/users")).toBe("4\n");
    expect(readState(t, "failed/@users")).toMatch(/^component=users\nreason=no chain/);
    // network comes after users: a halt stops everything.
    expect(readState(t, "epoch/network")).toBeUndefined();
    const [f, ...more] = status(t, shell).failures;
    expect(more).toEqual([]);
    expect(f).toMatchObject({ id: "@users", component: "users", status: null, journal: [] });
    expect(f?.reason).toMatch(/^no chain .*from epoch 4 to 3/);
  });

  it("halt: a failed script stops everything and exits 1", async () => {
    const t = await makeRoot({
      bundle: {
        release: "2.0.0",
        components: [
          { name: "a", epoch: 3 },
          { name: "b", epoch: 2 },
        ],
        scripts: [
          { id: "a-1-2", component: "a", from: 1, to: 2 },
          { id: "a-2-3", component: "a", from: 2, to: 3, body: 'echo "broken" >&2\nexit 7' },
          ...chain("b", 1, 2),
        ],
      },
    });
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a: a-2-3 failed \(exit status \d+\); policy halt: stopping/);
    expect(runIds(t)).toEqual(["a-1-2"]);
    expect(readState(t, "epoch/a")).toBe("2\n");
    expect(readState(t, "failed/a-2-3")).toMatch(
      /^id=a-2-3\ncomponent=a\nfrom=2\nto=3\n.*status=7\n/s,
    );
    expect(readState(t, "journal")).toContain("broken\n");
    expect(listState(t, "applied")).toEqual(["a-1-2"]);
    expect(readState(t, "epoch/b")).toBeUndefined();
  });

  it("isolate: records the failure, continues, full boot exits 0 and --component exits 1", async () => {
    const flaky = `if [ -e "$MIGRATION_ROOT/broken" ]; then exit 1; fi\n${'echo fixed >> "$MIGRATION_ROOT/runs"'}`;
    const t = await makeRoot({
      bundle: {
        release: "2.0.0",
        components: [
          { name: "a", epoch: 2, onFailure: "isolate" },
          { name: "b", epoch: 2 },
        ],
        scripts: [
          { id: "a-1-2", component: "a", from: 1, to: 2, body: flaky },
          ...chain("b", 1, 2),
        ],
      },
    });
    writeFileSync(join(t.root, "broken"), "");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/a: a-1-2 failed \(exit status \d+\); policy isolate/);
    expect(runIds(t)).toEqual(["b-1-2"]);
    expect(listState(t, "failed")).toEqual(["a-1-2"]);

    // Same boot: the unit of a reports the failure without running the script again.
    const ra = runRunner(t, shell, ["boot", "--component", "a"]);
    expect(ra.status).toBe(1);
    expect(ra.stderr).toMatch(/a failed earlier in this boot/);
    expect(runRunner(t, shell, ["boot", "--component", "b"]).status).toBe(0);

    const st = status(t, shell);
    expect(st.components.map((c) => [c.name, c.failed, c.pending])).toEqual([
      ["a", true, ["a-1-2"]],
      ["b", false, []],
    ]);
    expect(st.failures).toMatchObject([
      { id: "a-1-2", component: "a", phase: "boot", from: 1, to: 2, status: 1, reason: null },
    ]);

    // A later boot: --component retries; still broken, still 1.
    writeState(
      t,
      "failed/a-1-2",
      (readState(t, "failed/a-1-2") ?? "").replace(/^boot=.*$/m, "boot=an-earlier-boot"),
    );
    expect(runRunner(t, shell, ["boot", "--component", "a"]).status).toBe(1);

    // Fixed: the next full boot succeeds and clears the failure.
    writeState(
      t,
      "failed/a-1-2",
      (readState(t, "failed/a-1-2") ?? "").replace(/^boot=.*$/m, "boot=x"),
    );
    spawnSync("rm", [join(t.root, "broken")]);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(listState(t, "failed")).toEqual([]);
    expect(runRunner(t, shell, ["boot", "--component", "a"]).status).toBe(0);
    expect(status(t, shell).failures).toEqual([]);
  });

  it("wipe: deletes the component's paths from the upper dir only, records the image epoch, exits 0", async () => {
    const t = await makeRoot({
      upper: "/persist/upper",
      bundle: {
        release: "2.0.0",
        components: [
          { name: "users", epoch: 3, onFailure: "wipe", paths: ["etc/passwd", "etc/ssh"] },
        ],
        scripts: [
          { id: "users-1-2", component: "users", from: 1, to: 2 },
          { id: "users-2-3", component: "users", from: 2, to: 3, body: "exit 1" },
        ],
      },
    });
    putData(t, "etc/passwd", "user data\n");
    putData(t, "etc/ssh/key", "key\n");
    putData(t, "etc/other", "kept\n");
    // The merged view (what / shows through the overlay) also has the files: it must not
    // be touched, or whiteouts would hide the image's own files.
    mkdirSync(join(t.root, "etc"), { recursive: true });
    writeFileSync(join(t.root, "etc/passwd"), "image default\n");

    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/policy wipe/);
    expect(existsSync(join(t.upperDir, "etc/passwd"))).toBe(false);
    expect(existsSync(join(t.upperDir, "etc/ssh"))).toBe(false);
    expect(readFileSync(join(t.upperDir, "etc/other"), "utf8")).toBe("kept\n");
    expect(readFileSync(join(t.root, "etc/passwd"), "utf8")).toBe("image default\n");
    expect(readState(t, "epoch/users")).toBe("3\n");
    expect(listState(t, "failed")).toEqual([]);
    expect(listState(t, "wiping")).toEqual([]);
    // The failing script left no run line; after the wipe nothing is pending.
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["users-1-2"]);
  });

  it("wipe: data newer than the image is reset, not migrated", async () => {
    const t = await makeRoot({
      bundle: {
        release: "2.0.0",
        components: [{ name: "users", epoch: 2, onFailure: "wipe", paths: ["etc/passwd"] }],
        scripts: chain("users", 1, 2),
      },
    });
    putData(t, "etc/passwd");
    writeState(t, "epoch/users", "5\n");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runs(t)).toEqual([]);
    expect(existsSync(join(t.upperDir, "etc/passwd"))).toBe(false);
    expect(readState(t, "epoch/users")).toBe("2\n");
  });

  it("isolate: data newer than the image is a failure of that component only", async () => {
    const t = await makeRoot({ bundle: release210() });
    putData(t, "etc/passwd");
    writeState(t, "epoch/network", "9\n");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(runIds(t)).toEqual(["users-1-2", "users-2-3"]);
    expect(readState(t, "failed/@network")).toContain("reason=no chain");
    expect(runRunner(t, shell, ["boot", "--component", "network"]).status).toBe(1);
    expect(runRunner(t, shell, ["boot", "--component", "users"]).status).toBe(0);
  });

  it("--component runs that component only", async () => {
    const t = await makeRoot({
      bundle: {
        release: "1.0.0",
        components: [
          { name: "a", epoch: 2 },
          { name: "b", epoch: 2 },
        ],
        scripts: [...chain("a", 1, 2), ...chain("b", 1, 2)],
      },
    });
    expect(runRunner(t, shell, ["boot", "--component", "b"]).status).toBe(0);
    expect(runIds(t)).toEqual(["b-1-2"]);
    expect(runRunner(t, shell, ["--component", "a", "boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(["b-1-2", "a-1-2"]);
  });

  it("reports status as a table and as the JSON `plan --device` reads", async () => {
    const t = await makeRoot({
      bundle: {
        release: "2.10.0",
        platform: "qemuarm",
        components: [
          { name: "users", epoch: 2, paths: USERS_PATHS },
          { name: "network", epoch: 1, onFailure: "isolate", paths: ["etc/systemd/network"] },
        ],
        scripts: chain("users", 1, 2),
      },
    });
    putData(t, "etc/passwd");
    writeState(t, "epoch/network", "1\n");
    writeState(t, "failed/users-1-2", "id=users-1-2\ncomponent=users\n");
    const json = runRunner(t, shell, ["status", "--json"]);
    expect(json.status).toBe(0);
    expect(json.stdout).toBe(
      '{"release":"2.10.0","platform":"qemuarm","components":[' +
        '{"name":"users","epoch":1,"imageEpoch":2,"pending":["users-1-2"],"interrupted":null,"failed":true},' +
        '{"name":"network","epoch":1,"imageEpoch":1,"pending":[],"interrupted":null,"failed":false}],' +
        '"failures":[{"id":"users-1-2","component":"users","phase":null,"from":null,"to":null,' +
        '"status":null,"reason":null,"journal":[]}]}\n',
    );
    const text = runRunner(t, shell, ["status"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toBe(
      [
        "release 2.10.0, platform qemuarm",
        "COMPONENT  EPOCH  IMAGE  STATE           PENDING",
        "users      1      2      pending,failed  users-1-2",
        "network    1      1      ok              -",
        "failures:",
        "  users-1-2 (users)",
        "",
      ].join("\n"),
    );
    // status writes nothing.
    expect(readState(t, "journal")).toBeUndefined();
    expect(readState(t, "epoch/users")).toBeUndefined();
  });

  it("status: platform null, fresh data shown at the image's epoch", async () => {
    const t = await makeRoot({ bundle: release210() });
    expect(status(t, shell)).toEqual({
      release: "2.10.0",
      platform: null,
      components: [
        { name: "users", epoch: 3, imageEpoch: 3, pending: [], interrupted: null, failed: false },
        { name: "network", epoch: 1, imageEpoch: 1, pending: [], interrupted: null, failed: false },
      ],
      failures: [],
    });
  });

  it("an image without a bundle has nothing to do", async () => {
    const t = await makeRoot();
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runRunner(t, shell, ["status", "--json"]).stdout).toBe(
      '{"release":null,"platform":null,"components":[],"failures":[]}\n',
    );
  });

  it("exits 2 on usage and configuration errors", async () => {
    const t = await makeRoot({ bundle: release210() });
    for (const args of [
      [],
      ["reboot"],
      ["boot", "--frobnicate"],
      ["boot", "--component"],
      ["boot", "--component", "nosuch"],
      ["status", "--component", "users"],
      ["pre-flash"],
      ["boot", "extra"],
    ]) {
      const r = runRunner(t, shell, args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^runner: /);
    }
    writeFileSync(
      join(t.bundleDir, "manifest.tsv"),
      `${readFileSync(join(t.bundleDir, "manifest.tsv"), "utf8")}component\tbroken\n`,
    );
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/manifest\.tsv: line \d+: a component line has 6 fields/);
  });

  it("goes back and forth between images by the current epoch (2.9 -> 2.10 -> 2.9 -> 2.10)", async () => {
    const up: BundleSpec = {
      release: "2.10.0",
      components: [{ name: "users", epoch: 2, paths: USERS_PATHS }],
      scripts: [{ id: "users-1-2", component: "users", from: 1, to: 2 }],
    };
    const down: BundleSpec = {
      release: "2.9.5",
      components: [{ name: "users", epoch: 1, paths: USERS_PATHS }],
      scripts: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
    };
    const t = await makeRoot({ bundle: up });
    putData(t, "etc/passwd");
    for (let i = 0; i < 2; i++) {
      installBundle(t, up);
      expect(runRunner(t, shell, ["boot"]).status).toBe(0);
      expect(epochOf(t, shell, "users")).toBe(2);
      installBundle(t, down);
      expect(runRunner(t, shell, ["boot"]).status).toBe(0);
      expect(epochOf(t, shell, "users")).toBe(1);
    }
    expect(runIds(t)).toEqual(["users-1-2", "users-2-1", "users-1-2", "users-2-1"]);
    expect(effects(t, "users")).toEqual(["users-1-2", "users-2-1"]);
  });
});
