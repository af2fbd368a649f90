/**
 * The lock (generations made by `ln -s`, the owner known from the first instant, stale
 * generations superseded, busy owners waited for), the
 * journal's cap and rotation, and migration scripts written the way DESIGN.md asks
 * (re-runnable, users and groups from $MIGRATION_ROOT/etc), each run twice.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BundleSpec,
  chain,
  effects,
  installBundle,
  makeRoot,
  putData,
  readState,
  runIds,
  runRunner,
  SHELLS,
  shellArgv,
  writeState,
} from "./helpers.js";

const BUNDLE: BundleSpec = {
  release: "1.0.0",
  components: [{ name: "a", epoch: 3 }],
  scripts: chain("a", 1, 3),
};

function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[19] as string;
}

describe.each(SHELLS)("lock under %s", (shell) => {
  const lockDir = (root: string) => join(root, "run/migration.lock");
  /** Generation n of the lock, owned by a runner whose folder says `owner` (none: no file). */
  function writeGen(root: string, n: number, pid: number, owner: string | undefined) {
    const dir = lockDir(root);
    mkdirSync(join(dir, `work.${pid}`), { recursive: true });
    if (owner !== undefined) writeFileSync(join(dir, `work.${pid}/owner`), owner);
    symlinkSync(`work.${pid}`, join(dir, `gen.${n}`));
  }

  it("takes over a generation whose owner is gone", async () => {
    const t = await makeRoot({ bundle: BUNDLE });
    const dead = deadPid();
    writeGen(t.root, 1, dead, `${dead}\n`);
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /taking over the lock .* \(generation 1\) left by pid \d+, which is gone/,
    );
    expect(runIds(t)).toEqual(["a-1-2", "a-2-3"]);
    // The superseded generation and its folder are cleaned up with ours.
    expect(readdirSync(lockDir(t.root)).sort()).toEqual(["done.2", "gen.2"]);
  });

  it("takes over a generation whose pid now belongs to another process (start time differs)", async () => {
    const t = await makeRoot({ bundle: BUNDLE });
    writeGen(t.root, 4, process.pid, `${process.pid} 1\n`);
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/taking over the lock .*generation 4/);
  });

  it("waits a bounded time for a live owner, then exits 1 with a message and runs nothing", async () => {
    const t = await makeRoot({ bundle: BUNDLE });
    const sleeper = spawn("sleep", ["30"]);
    try {
      const pid = sleeper.pid as number;
      writeGen(t.root, 1, pid, `${pid} ${startTime(pid)}\n`);
      const t0 = Date.now();
      const r = runRunner(t, shell, ["boot"], { MIGRATION_LOCK_TIMEOUT: "2" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /another runner \(pid \d+\) holds .*migration\.lock; gave up after 2s/,
      );
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(runIds(t)).toEqual([]);
      // Not ours: left alone, however long its owner takes.
      expect(readFileSync(join(lockDir(t.root), `gen.1/owner`), "utf8")).toBe(
        `${pid} ${startTime(pid)}\n`,
      );
      expect(readdirSync(lockDir(t.root)).filter((f) => f.startsWith("gen."))).toEqual(["gen.1"]);
    } finally {
      sleeper.kill();
    }
  });

  it("is never blocked by what killed runners leave behind (no takeover marker to get stuck on)", async () => {
    const t = await makeRoot({ bundle: BUNDLE });
    const dir = lockDir(t.root);
    const dead = deadPid();
    // A dangling generation, an owner-less folder, an older runner's pid file and takeover/.
    writeGen(t.root, 1, dead, `${dead}\n`);
    writeFileSync(join(dir, "done.1"), "");
    writeGen(t.root, 2, 4194301, undefined);
    mkdirSync(join(dir, "takeover"));
    writeFileSync(join(dir, "pid"), `${dead}\n`);
    const t0 = Date.now();
    const r = runRunner(t, shell, ["boot"], { MIGRATION_LOCK_TIMEOUT: "30" });
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(runIds(t)).toEqual(["a-1-2", "a-2-3"]);
  });

  it("serializes two runners started together: each script runs once", async () => {
    const slow: BundleSpec = {
      release: "1.0.0",
      components: [{ name: "a", epoch: 3 }],
      scripts: chain("a", 1, 3).map((s) => ({
        ...s,
        body: `sleep 1\necho "${s.id}" >> "$MIGRATION_ROOT/runs"`,
      })),
    };
    const t = await makeRoot({ bundle: slow });
    const start = () =>
      new Promise<number | null>((resolve) => {
        const argv = [...shellArgv(shell), t.runner, "--root", t.root, "boot"];
        const c = spawn(argv[0] as string, argv.slice(1), { stdio: "ignore" });
        c.on("exit", (code) => resolve(code));
      });
    expect(await Promise.all([start(), start()])).toEqual([0, 0]);
    expect(runIds(t)).toEqual(["a-1-2", "a-2-3"]);
  }, 20_000);

  it("removes its lock when done, also after a failure", async () => {
    const t = await makeRoot({
      bundle: {
        ...BUNDLE,
        scripts: [{ id: "a-1-2", component: "a", from: 1, to: 3, body: "exit 1" }],
      },
    });
    expect(runRunner(t, shell, ["boot"]).status).toBe(1);
    // Released: our generation is marked done and our folder is gone.
    expect(readdirSync(lockDir(t.root)).sort()).toEqual(["done.1", "gen.1"]);
    // The next runner takes generation 2 at once and cleans generation 1 up.
    expect(runRunner(t, shell, ["boot"], { MIGRATION_LOCK_TIMEOUT: "0" }).status).toBe(1);
    expect(readdirSync(lockDir(t.root)).sort()).toEqual(["done.2", "gen.2"]);
  });
});

describe.each(SHELLS)("journal under %s", (shell) => {
  it("rotates once to journal.1 when over 64 KiB, checked once a run", async () => {
    const t = await makeRoot({ bundle: BUNDLE });
    const old = `${"x".repeat(99)}\n`.repeat(700);
    writeState(t, "journal", old);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(readState(t, "journal.1")).toBe(old);
    const journal = readState(t, "journal") ?? "";
    expect(journal).toMatch(/^\d+ boot\[\d+\]: start: boot \(release 1\.0\.0\)\n/);
    expect(journal).toContain("run a-1-2 (a 1->2, boot)\n");
    expect(journal.length).toBeLessThan(1000);

    // Under the cap: appended, no rotation.
    writeState(t, "epoch/a", "1\n");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(readState(t, "journal.1")).toBe(old);
    expect(readState(t, "journal")?.startsWith(journal)).toBe(true);
  });
});

/**
 * A realistic pair: users 1 -> 2 adds the priv-* groups daemons need (gids allocated from
 * $MIGRATION_ROOT/etc/group, never the host's NSS); 2 -> 1 removes them. Both re-runnable.
 */
const PRIV_UP = `g="$MIGRATION_ROOT/etc/group"
for name in priv-admin priv-operator priv-user; do
	if ! grep -q "^$name:" "$g"; then
		gid=$(awk -F: 'BEGIN { m = 999 } $3 > m && $3 < 60000 { m = $3 } END { print m + 1 }' "$g")
		printf '%s:x:%s:\\n' "$name" "$gid" >>"$g"
	fi
done`;
const PRIV_DOWN = `g="$MIGRATION_ROOT/etc/group"
grep -v '^priv-' "$g" >"$g.new" || true
mv "$g.new" "$g"`;

describe.each(SHELLS)("re-runnable scripts under %s", (shell) => {
  const GROUP = "root:x:0:\nadmin:x:1000:alice\n";
  const up: BundleSpec = {
    release: "2.10.0",
    components: [{ name: "users", epoch: 2, paths: ["etc/group"] }],
    scripts: [{ id: "users-1-2-priv-groups", component: "users", from: 1, to: 2, body: PRIV_UP }],
  };
  const down: BundleSpec = {
    release: "2.9.9",
    components: [{ name: "users", epoch: 1, paths: ["etc/group"] }],
    scripts: [{ id: "users-2-1-priv-groups", component: "users", from: 2, to: 1, body: PRIV_DOWN }],
  };

  /** Runs the bundle's script with the runner's environment, directly (a rerun). */
  function rerun(root: string, bundleDir: string, file: string, from: number, to: number) {
    const argv = [...shellArgv(shell), "-c", `sh -e "${join(bundleDir, file)}"`];
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      encoding: "utf8",
      env: {
        ...process.env,
        MIGRATION_ROOT: root,
        MIGRATION_COMPONENT: "users",
        MIGRATION_FROM: String(from),
        MIGRATION_TO: String(to),
        MIGRATION_PHASE: "boot",
      },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }

  it("each script run twice gives the result of running it once", async () => {
    const t = await makeRoot({ bundle: up });
    putData(t, "etc/group", GROUP);
    const group = () => readFileSync(join(t.root, "etc/group"), "utf8");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    const once = group();
    expect(once).toBe(`${GROUP}priv-admin:x:1001:\npriv-operator:x:1002:\npriv-user:x:1003:\n`);
    rerun(t.root, t.bundleDir, "0001-users-1-2-users-1-2-priv-groups.sh", 1, 2);
    expect(group()).toBe(once);

    // An image that ships the down-migration (at its boot here; before a flash it is the
    // same script under the same rule).
    installBundle(t, down);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(group()).toBe(GROUP);
    rerun(t.root, t.bundleDir, "0001-users-2-1-users-2-1-priv-groups.sh", 2, 1);
    expect(group()).toBe(GROUP);

    installBundle(t, up);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(group()).toBe(once);
    expect(effects(t, "users")).toEqual([]);
  });
});
