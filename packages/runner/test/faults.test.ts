/**
 * Faults: the runner killed (SIGKILL of its whole process tree) at random instants, sync
 * failing (strace fault injection), a read-only state dir, a full disk (tiny tmpfs in a
 * mount namespace), and torn records as a power cut can leave them. After each fault the
 * invariant holds (no script recorded without its effect; the epoch recovery computes is
 * consistent with the data), and the next run completes.
 *
 * SIGKILL tests crash atomicity, not durability (the page cache survives): torn records
 * are therefore also written by hand below. RUNNER_CRASH_TRIALS sets the trials per shell
 * (default 150).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BundleSpec,
  chain,
  effects,
  epochOf,
  listState,
  makeRoot,
  putData,
  type RunResult,
  readState,
  runIds,
  runRunner,
  runs,
  SHELLS,
  type Shell,
  shellArgv,
  status,
  type TestRoot,
  tempDir,
  tool,
  writeState,
} from "./helpers.js";

const TRIALS = Number(process.env.RUNNER_CRASH_TRIALS ?? 150);

const A_IDS = chain("a", 1, 6).map((s) => s.id);
const B_IDS = chain("b", 1, 3).map((s) => s.id);

/** a: 5 scripts, b: 2 scripts, c: a failing script under the wipe policy, two paths. */
const CRASH_BUNDLE: BundleSpec = {
  release: "9.0.0",
  components: [
    { name: "a", epoch: 6 },
    { name: "b", epoch: 3 },
    { name: "c", epoch: 2, onFailure: "wipe", paths: ["cdata1", "cdata2"] },
  ],
  scripts: [
    ...chain("a", 1, 6),
    ...chain("b", 1, 3),
    { id: "c-1-2", component: "c", from: 1, to: 2, body: "exit 1" },
  ],
};

/** One trial root: its own state and data; the image (usr/) shared by a symlink. */
function trialRoot(template: TestRoot): TestRoot {
  const root = tempDir("stepstone-crash-");
  symlinkSync(join(template.root, "usr"), join(root, "usr"));
  mkdirSync(join(root, "run"));
  writeFileSync(join(root, "cdata1"), "c1\n");
  writeFileSync(join(root, "cdata2"), "c2\n");
  return {
    root,
    runner: template.runner,
    bundleDir: template.bundleDir,
    stateDir: join(root, "var/lib/migration"),
    upperDir: root,
  };
}

function runAsync(t: TestRoot, shell: Shell, killAfterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // A pid namespace of its own: killing its first process kills every process in it, the
    // scripts too (they run in a session of their own, out of the runner's process group),
    // as a power cut would. detached: one kill of the group reaches unshare itself.
    const argv = [
      tool("unshare"),
      "--pid",
      "--fork",
      "--kill-child=SIGKILL",
      "--mount-proc",
      ...shellArgv(shell),
      t.runner,
      "--root",
      t.root,
      "boot",
    ];
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: "ignore" });
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // Already gone: the run completed before the cut.
      }
    }, killAfterMs);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Checks the invariant after a cut; true when the cut left work half done. */
function checkInvariant(t: TestRoot, shell: Shell, label: string): boolean {
  const st = status(t, shell);
  for (const [name, ids] of [
    ["a", A_IDS],
    ["b", B_IDS],
  ] as const) {
    const epoch = st.components.find((c) => c.name === name)?.epoch;
    expect(epoch, `${label}: ${name} epoch`).not.toBeNull();
    const committed = (epoch as number) - 1;
    const done = effects(t, name);
    // Effects are the chain's prefix; all committed scripts' effects are there, and at most
    // one more script (the interrupted one) has left effects.
    expect(done, `${label}: ${name} effects in order`).toEqual(ids.slice(0, done.length));
    expect(done.length, `${label}: ${name} committed ${committed}`).toBeGreaterThanOrEqual(
      committed,
    );
    expect(done.length, `${label}: ${name} committed ${committed}`).toBeLessThanOrEqual(
      committed + 1,
    );
    for (const id of listState(t, "applied").filter((x) => x.startsWith(`${name}-`))) {
      expect(done, `${label}: applied/${id} without its effect`).toContain(id);
    }
  }
  // A partly wiped component must have its wipe marker (the next run finishes the wipe).
  const c1 = existsSync(join(t.root, "cdata1"));
  const c2 = existsSync(join(t.root, "cdata2"));
  if (c1 !== c2) expect(listState(t, "wiping"), `${label}: partial wipe`).toEqual(["c"]);
  const done = effects(t, "a").length + effects(t, "b").length;
  return done > 0 && (done < A_IDS.length + B_IDS.length || c1 || c2);
}

function checkComplete(t: TestRoot, shell: Shell, label: string, cut = false): void {
  const st = status(t, shell);
  expect(
    st.components.map((c) => [c.name, c.epoch, c.pending.length]),
    label,
  ).toEqual([
    ["a", 6, 0],
    ["b", 3, 0],
    ["c", 2, 0],
  ]);
  expect(st.failures, label).toEqual([]);
  expect(effects(t, "a"), label).toEqual(A_IDS);
  expect(effects(t, "b"), label).toEqual(B_IDS);
  expect(existsSync(join(t.root, "cdata1")) || existsSync(join(t.root, "cdata2")), label).toBe(
    false,
  );
  expect(listState(t, "wiping"), label).toEqual([]);
  // Every script that ran has its whole record, even when the cut came before the records
  // of its chain were written (the completing run writes them from the list of chains).
  const applied = listState(t, "applied");
  expect(applied, `${label}: applied records`).toEqual([...A_IDS, ...B_IDS].sort());
  for (const id of applied) {
    expect(readState(t, `applied/${id}`), `${label}: applied/${id}`).toMatch(
      new RegExp(`^id=${id}\n(?:.*\n)*phase=(?:boot|pre-flash)\n`),
    );
  }
  expect(readState(t, "applying") ?? "", `${label}: list of chains left`).toBe("");
  // A run removes its own folder. After a cut, the killed runner's may stay until the next
  // run that takes the lock (a boot with nothing left to do takes none; /run is a tmpfs).
  const lock = join(t.root, "run/migration.lock");
  const left = existsSync(lock) ? readdirSync(lock).filter((f) => f.startsWith("work.")) : [];
  if (!cut) expect(left, `${label}: a run's folder left`).toEqual([]);
}

async function crashTrials(shell: Shell, trials: number) {
  const template = await makeRoot({ bundle: CRASH_BUNDLE });
  // How long an uninterrupted run takes (started as the cut runs are): cuts are spread over
  // it. The shortest of three
  // runs, so that one slow moment of a busy machine does not spread the cuts past the end.
  let full = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const probe = trialRoot(template);
    const t0 = performance.now();
    await runAsync(probe, shell, 60_000);
    full = Math.min(full, performance.now() - t0);
    checkComplete(probe, shell, "uninterrupted");
    if (!process.env.KEEP_TEST_ROOTS) rmSync(probe.root, { recursive: true, force: true });
  }

  let next = 0;
  let midway = 0;
  const lane = async () => {
    while (next < trials) {
      const i = next++;
      const t = trialRoot(template);
      // Half the cuts anywhere (start-up, lock, verification included), half in the later
      // part of the run, where the scripts and their commits are.
      const cut = i % 2 === 0 ? Math.random() * full * 1.2 : (0.4 + 0.6 * Math.random()) * full;
      await runAsync(t, shell, cut);
      const label = `${shell} trial ${i} (cut at ${cut.toFixed(1)} ms of ${full.toFixed(1)})`;
      if (checkInvariant(t, shell, label)) midway++;
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status, `${label}: completing run: ${r.stderr}`).toBe(0);
      checkComplete(t, shell, label, true);
      if (!process.env.KEEP_TEST_ROOTS) rmSync(t.root, { recursive: true, force: true });
    }
  };
  await Promise.all([lane(), lane(), lane()]);
  // The cuts must really land inside runs, not only before or after them (a floor loose
  // enough for a loaded machine, where a run's length varies most).
  expect(midway, `${midway} of ${trials} cuts left work half done`).toBeGreaterThanOrEqual(
    Math.ceil(trials / 40),
  );
  return midway;
}

describe.each(SHELLS)("faults under %s", (shell) => {
  it(`survives ${TRIALS} SIGKILLs of the whole runner tree at random instants`, async () => {
    const midway = await crashTrials(shell, TRIALS);
    console.info(`${shell}: ${midway} of ${TRIALS} cuts landed mid-run`);
  }, 120_000);

  it("records nothing when the records' fsync fails (what `sync FILE` calls), and completes later", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    // strace injects only into traced calls: trace exactly the ones to fail.
    const strace = (calls: string) => [
      tool("strace"),
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      `trace=${calls}`,
      "-e",
      `inject=${calls}:error=EIO`,
    ];
    const r = runRunner(t, shell, ["boot"], {}, strace("fsync"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/storage error: sync of the records of a-1-2 failed: not recorded/);
    expect(runIds(t)).toEqual(["a-1-2"]);
    expect(listState(t, "applied")).toEqual([]);
    expect(readState(t, "epoch/a")).toBeUndefined();
    expect(epochOf(t, shell, "a")).toBe(1);

    // Every sync-family call failing: still nothing recorded.
    const all = runRunner(t, shell, ["boot"], {}, strace("sync,fsync,fdatasync,syncfs"));
    expect(all.status).toBe(1);
    expect(listState(t, "applied")).toEqual([]);

    const ok = runRunner(t, shell, ["boot"]);
    expect(ok.status).toBe(0);
    expect(effects(t, "a")).toEqual(A_IDS);
    expect(runIds(t).filter((x) => x === "a-1-2")).toHaveLength(3);
  });

  it("fails the fsync of a later record too (another component's, after others committed)", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    // -P: only calls on that path are traced, so only its fsync fails.
    const r = runRunner(t, shell, ["boot"], {}, [
      tool("strace"),
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-P",
      join(t.stateDir, "epoch/b"),
      "-e",
      "trace=fsync",
      "-e",
      "inject=fsync:error=EIO",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sync of the records of b-1-2 failed/);
    expect(listState(t, "applied")).toEqual(A_IDS);
    expect(readState(t, "epoch/a")).toBe("6\n");
    expect(readState(t, "epoch/b")).toBeUndefined();
    expect(epochOf(t, shell, "b")).toBe(1);
  });

  it("stops with a clear message and no record on a read-only state dir", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    for (const d of ["epoch", "epoch.prev", "applied", "failed"]) {
      mkdirSync(join(t.stateDir, d), { recursive: true });
    }
    const ro = [
      tool("unshare"),
      "-m",
      "sh",
      "-c",
      'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"',
      "sh",
      t.stateDir,
    ];
    const r = runRunner(t, shell, ["boot"], {}, ro);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stderr).toMatch(/cannot write .*journal .*: nothing run/);
    expect(runs(t)).toEqual([]);
    expect(listState(t, "applied")).toEqual([]);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
  });

  /**
   * The state dir on a tiny tmpfs filled to the last byte, in a private mount namespace.
   * `before` prepares the state; the runner runs, the filler is removed, it runs again.
   */
  function fullDisk(
    t: TestRoot,
    before: string,
  ): {
    first: RunResult;
    second: RunResult;
    snap: string;
    state: (rel: string) => string | undefined;
  } {
    const out = tempDir();
    const script = `
set -u
st=$1; out=$2; shift 2
mount -t tmpfs -o size=256k,nr_inodes=64 none "$st" || exit 90
mkdir -p "$st/epoch" "$st/epoch.prev" "$st/applied" "$st/failed"
${before}
dd if=/dev/zero of="$st/fill" bs=1024 2>/dev/null
"$@" >"$out/o1" 2>"$out/e1"; echo $? >"$out/rc1"
{ ls "$st/applied"; echo "--"; cat "$st/epoch/a" 2>/dev/null; echo "--"; } >"$out/snap"
rm -f "$st/fill"
"$@" >"$out/o2" 2>"$out/e2"; echo $? >"$out/rc2"
cp -r "$st/." "$out/state"
`;
    const argv = [
      tool("unshare"),
      "-m",
      "sh",
      "-c",
      script,
      "sh",
      t.stateDir,
      out,
      ...shellArgv(shell),
      t.runner,
      "--root",
      t.root,
      "boot",
    ];
    mkdirSync(t.stateDir, { recursive: true });
    const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => readFileSync(join(out, f), "utf8");
    return {
      first: { status: Number(read("rc1")), stdout: read("o1"), stderr: read("e1") },
      second: { status: Number(read("rc2")), stdout: read("o2"), stderr: read("e2") },
      snap: read("snap"),
      state: (rel) => {
        const p = join(out, "state", rel);
        return existsSync(p) ? readFileSync(p, "utf8") : undefined;
      },
    };
  }

  it("stops before running anything when the full disk cannot take the list of chains", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    const { first, second, snap } = fullDisk(t, "");
    expect(first.status).toBe(1);
    // dash says "I/O error", busybox "No space left on device": the runner's line is the same.
    expect(first.stderr).toMatch(/cannot write .*applying .*nothing run/);
    expect(snap).toBe("--\n--\n");
    expect(second.status, second.stderr).toBe(0);
    // The first run ran nothing: each script ran exactly once, in the second run.
    expect(runIds(t)).toEqual([...A_IDS, ...B_IDS]);
  });

  it("stops before running anything when the full disk cannot take the companion record", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    // A list of chains left by an earlier cut (unreadable: nothing to repair) keeps a page
    // the new list reuses; the companion is the first new file.
    const { first, second, snap } = fullDisk(t, 'printf "%4000s\\n" "" >"$st/applying"');
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/cannot write .*epoch\.prev\/a .*nothing run/);
    expect(snap).toBe("--\n--\n");
    expect(second.status, second.stderr).toBe(0);
    expect(runIds(t)).toEqual([...A_IDS, ...B_IDS]);
  });

  it("records nothing when the full disk refuses the companion slot after the script ran, and completes later", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    // An older runner's companion: the commit's slot is a new file the disk refuses.
    const { first, second, snap } = fullDisk(
      t,
      'printf "1\\n" >"$st/epoch/a"; printf "1\\n" >"$st/epoch.prev/a"; printf "%4000s\\n" "" >"$st/applying"',
    );
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(
      /cannot write .*epoch\.prev\/a\.b .*a-1-2 not recorded; it runs again next time/,
    );
    expect(snap).toBe("--\n1\n--\n");
    expect(second.status, second.stderr).toBe(0);
    expect(runIds(t).slice(0, 2)).toEqual(["a-1-2", "a-1-2"]);
    expect(effects(t, "a")).toEqual(A_IDS);
  });

  it("keeps the list when the full disk refuses the records after the chain ran; the next run writes them", async () => {
    const t = await makeRoot({ bundle: CRASH_BUNDLE });
    // Both slots of a exist: its commits rewrite them in place.
    const { first, second, snap, state } = fullDisk(
      t,
      'printf "1\\n" >"$st/epoch/a"; printf "1\\n" >"$st/epoch.prev/a"; printf "0 1\\n" >"$st/epoch.prev/a.b"; printf "%4000s\\n" "" >"$st/applying"',
    );
    expect(first.status).toBe(1);
    // a's scripts committed (each epoch rewrite reuses its page); their records could not
    // be written, and b's companion could not be made.
    expect(first.stderr).toMatch(
      /warning: cannot write .*applied\/a-1-2 \(full\?\): the next run writes it from .*applying/,
    );
    expect(first.stderr).toMatch(/cannot write .*epoch\.prev\/b .*nothing run/);
    expect(snap).toBe("--\n6\n--\n");
    expect(second.status, second.stderr).toBe(0);
    // Nothing ran twice: a's records came from the list.
    expect(runIds(t)).toEqual([...A_IDS, ...B_IDS]);
    for (const id of A_IDS) expect(state(`applied/${id}`)).toMatch(/\nrepaired=1\n$/);
    for (const id of B_IDS) expect(state(`applied/${id}`)).toMatch(/\nphase=boot\n$/);
    expect(effects(t, "a")).toEqual(A_IDS);
  });
});

describe.each(SHELLS)("torn and leftover state under %s", (shell) => {
  const bundle: BundleSpec = {
    release: "1.0.0",
    components: [{ name: "a", epoch: 6 }],
    scripts: chain("a", 1, 6),
  };
  let t: TestRoot;
  beforeAll(async () => {
    t = await makeRoot({ bundle });
  });

  it.each([
    ["an empty record", "", "3\n", 3],
    ["a record without its newline", "4", "3\n", 3],
    ["a record of zero bytes", "\0\0\0", "3\n", 3],
    ["an empty first record (companion: none)", "", "none\n", 1],
    ["a valid record (it wins over the companion)", "5\n", "3\n", 5],
    ["an empty record (companion padded, as the runner writes it)", "", "3        \n", 3],
    ["an empty record (companion none, padded)", "", "none     \n", 1],
  ])("recovers from %s", (_what, main, prev, epoch) => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    writeState(t, "epoch/a", main);
    writeState(t, "epoch.prev/a", prev);
    expect(epochOf(t, shell, "a")).toBe(epoch);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(A_IDS.slice(epoch - 1));
    expect(readState(t, "epoch/a")).toBe("6\n");
  });

  // The companion is never consulted unless epoch/<c> is torn; then only one whole line
  // of its fixed width counts (an overwrite in place covers the whole line before it).
  it.each([["3\nx\n"], ["3  x     \n"], ["3"], ["\0\0\0"]])(
    "treats a torn record with an unreadable companion %j as corrupt",
    (prev) => {
      rmSync(t.stateDir, { recursive: true, force: true });
      rmSync(join(t.root, "runs"), { force: true });
      writeState(t, "epoch/a", "");
      writeState(t, "epoch.prev/a", prev);
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/a: its epoch record .* is torn and its companion is unreadable/);
      expect(runs(t)).toEqual([]);
    },
  );

  it("writes the companion beside a record that is created, then marks it once when the record is rewritten in place", () => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    // A line no runner writes is replaced whole; the runner's own are rewritten in place.
    writeState(t, "epoch.prev/a", "1234567890123\n");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(A_IDS);
    // "none" before the first script (seq 1: no record yet), the created record's value
    // beside it (seq 2); 2 -> 3 is the first rewrite in place: it marks the companion
    // (seq 3), and 3 -> 4 ... 5 -> 6 write the record alone.
    expect(readState(t, "epoch.prev/a")).toBe("3         inplace  \n");
    expect(readState(t, "epoch.prev/a.b")).toBe("2         2        \n");
    expect(readState(t, "epoch/a")).toBe("6\n");
  });

  it("takes the slot of the higher seq when a cut tore the record, and rewrites the record", () => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    writeState(t, "epoch/a", "");
    writeState(t, "epoch.prev/a", "7         3        \n");
    writeState(t, "epoch.prev/a.b", "6         2        \n");
    expect(epochOf(t, shell, "a")).toBe(3);
    // The record is whole again at the end (the chain's commits rewrite it).
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(runIds(t)).toEqual(A_IDS.slice(2));
    expect(readState(t, "epoch/a")).toBe("6\n");
    // Torn at the image's epoch right after its companion took the value: nothing runs,
    // the boot rewrites the record (not idle).
    writeState(t, "epoch/a", "");
    writeState(t, "epoch.prev/a", "9         6        \n");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/nothing to do/);
    expect(readState(t, "epoch/a")).toBe("6\n");
    expect(readState(t, "journal")).toMatch(/a: epoch record torn by a power cut: rewritten \(6\)/);
    expect(runRunner(t, shell, ["boot"]).stdout).toMatch(/nothing to do/);
  });

  // A record rewritten in place keeps its size, which a power cut does not tear; found torn
  // all the same (a storage fault), it is reported: the companion is marked "inplace" and
  // holds no value, so no older epoch is taken and no script runs twice over newer data.
  it("reports a record found torn after it was rewritten in place, and runs nothing", () => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(readState(t, "epoch.prev/a")).toMatch(/^3 +inplace +\n$/);
    rmSync(join(t.root, "runs"), { force: true });
    writeState(t, "epoch/a", "");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a: its epoch record .* is damaged: it was last rewritten in place/);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "failed/@a")).toMatch(/rewritten in place/);
  });

  // 9 -> 10 changes the record's length: it is written beside the companion, whose durable
  // slot holds 9 before that script starts; the in-place rewrites around it mark it.
  it("makes the companion hold the epoch before a rewrite that changes the record's length", async () => {
    const w = await makeRoot({
      bundle: {
        release: "1.0.0",
        components: [{ name: "w", epoch: 12 }],
        scripts: chain("w", 8, 12).map((x) =>
          x.from === 9
            ? {
                ...x,
                body: 'cat "$MIGRATION_ROOT/var/lib/migration/epoch.prev/w"* >"$MIGRATION_ROOT/slots-at-9"',
              }
            : x,
        ),
      },
    });
    writeState(w, "epoch/w", "8\n");
    expect(runRunner(w, shell, ["boot"]).status).toBe(0);
    expect(readState(w, "epoch/w")).toBe("12\n");
    // 8 -> 9 in place marks the (new) companion, 9 is written before 9 -> 10 runs...
    expect(readFileSync(join(w.root, "slots-at-9"), "utf8")).toBe(
      "1         inplace  \n2         9        \n",
    );
    // ... 10 beside the record, then 10 -> 11 in place marks the other slot.
    expect(readState(w, "epoch.prev/w")).toBe("3         10       \n");
    expect(readState(w, "epoch.prev/w.b")).toBe("4         inplace  \n");
    // What a cut during 9 -> 10's record write leaves: either slot's value is consistent.
    writeState(w, "epoch/w", "1");
    writeState(w, "epoch.prev/w", "3         10       \n");
    writeState(w, "epoch.prev/w.b", "2         9        \n");
    expect(epochOf(w, shell, "w")).toBe(10);
    writeState(w, "epoch.prev/w", "3         1");
    expect(epochOf(w, shell, "w")).toBe(9);
  });

  // The records of a chain are written when it ends: a cut before that loses none of them.
  it("writes the records a cut lost from the list of chains, and only those of scripts that committed", () => {
    const cut: BundleSpec = {
      release: "1.0.0",
      components: [{ name: "a", epoch: 6 }],
      scripts: chain("a", 1, 6).map((s) =>
        s.id === "a-4-5"
          ? {
              ...s,
              // The cut, once: the runner (the executor's parent) and the executor die
              // before this script ends, as in a power loss after a-3-4 committed.
              body: `[ -e "$MIGRATION_ROOT/cut" ] && exit 0
: >"$MIGRATION_ROOT/cut"
read -r st </proc/$PPID/stat; set -- \${st##*) }
kill -9 "-$2" "-$PPID"
sleep 5`,
            }
          : s,
      ),
    };
    return makeRoot({ bundle: cut }).then((u) => {
      // In a session of its own: the cut kills its process group (the watchdog too).
      const r1 = runRunner(u, shell, ["boot"], {}, [tool("setsid")]);
      expect(r1.status).toBeNull();
      expect(readState(u, "epoch/a")).toBe("4\n");
      // Nothing written yet of the chain's records; the list says what ran.
      expect(listState(u, "applied")).toEqual([]);
      expect(readState(u, "applying")).toMatch(
        /^run [0-9]+ 1\.0\.0\nchain a boot\na-1-2 [0-9a-f]{64} 1 2\n/,
      );
      // A boot with a list is not idle: it writes a-1-2..a-3-4 (repaired), then runs on.
      const r2 = runRunner(u, shell, ["boot"]);
      expect(r2.status, r2.stderr).toBe(0);
      expect(listState(u, "applied"), readState(u, "journal")).toEqual(A_IDS);
      for (const id of ["a-1-2", "a-2-3", "a-3-4"]) {
        expect(readState(u, `applied/${id}`)).toMatch(/\nphase=boot\nrepaired=1\n$/);
      }
      for (const id of ["a-4-5", "a-5-6"]) {
        expect(readState(u, `applied/${id}`)).toMatch(/\nphase=boot\n$/);
      }
      expect(readState(u, "journal")).toMatch(/a-3-4: applied record lost to a power cut/);
      expect(readState(u, "journal")).not.toMatch(/a-4-5: applied record lost/);
      expect(readState(u, "applying")).toBe("");
      // And then a boot is idle again: nothing left to repair.
      const r3 = runRunner(u, shell, ["boot"]);
      expect(r3.stdout).toMatch(/nothing to do/);
    });
  });

  // What the list cannot vouch for is not written: never a record early.
  it.each([
    ["a reset after the chain (a wipe or an epoch recorded without a script)", "reset a\n", 6, []],
    ["the chain's first epoch (nothing committed)", "", 1, []],
    ["an epoch the chain never reaches", "", 5, []],
    ["a torn last line (its chain never committed)", "a-3-4 ab", 3, ["a-1-2", "a-2-3"]],
    ["the epoch it reached", "", 3, ["a-1-2", "a-2-3"]],
  ])("repairs from the list only what it vouches for: %s", (_what, tail, epoch, want) => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    const sha = (id: string) =>
      readFileSync(join(t.bundleDir, "manifest.tsv"), "utf8")
        .split("\n")
        .find((l) => l.split("\t")[2] === id)
        ?.split("\t")[3];
    const lines = ["a-1-2 1 2", "a-2-3 2 3"].map((l) => {
      const [id, from, to] = l.split(" ");
      return `${id} ${sha(id as string)} ${from} ${to}`;
    });
    writeState(t, "epoch/a", `${epoch}\n`);
    writeState(t, "applying", `run 1700000000 1.0.0\nchain a boot\n${lines.join("\n")}\n${tail}`);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    const repaired = listState(t, "applied").filter((id) =>
      /repaired=1/.test(readState(t, `applied/${id}`) ?? ""),
    );
    expect(repaired).toEqual(want);
    expect(readState(t, "applying")).toBe("");
  });

  it("treats a torn record without a companion as corrupt: a failure under the policy", () => {
    rmSync(t.stateDir, { recursive: true, force: true });
    rmSync(join(t.root, "runs"), { force: true });
    writeState(t, "epoch/a", "5");
    expect(status(t, shell).components[0]?.epoch).toBeNull();
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a: its epoch record .* is torn and has no companion; policy halt/);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "failed/@a")).toMatch(/reason=its epoch record .* is torn/);
  });

  // What no crash can leave is reported, never replaced by the companion (whose value is
  // a durable one, but not necessarily the data's: somebody wrote this file).
  it.each([["abc\n"], ["-1\n"], ["\n"], ["4\n5\n"], ["4 \n"], ["04\n"], ["ab"]])(
    "reports a garbage epoch record %j as failed/@a, even with a companion",
    (content) => {
      rmSync(t.stateDir, { recursive: true, force: true });
      rmSync(join(t.root, "runs"), { force: true });
      writeState(t, "epoch/a", content);
      writeState(t, "epoch.prev/a", "4\n");
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/a: its epoch record .* is not one integer line/);
      expect(runs(t)).toEqual([]);
      expect(readState(t, "failed/@a")).toMatch(
        /reason=its epoch record .* is not one integer line/,
      );
      expect(readState(t, "epoch/a")).toBe(content);
      const st = status(t, shell).components[0];
      expect(st?.epoch).toBeNull();
      expect(st?.failed).toBe(true);
    },
  );

  it("removes leftover temp files at start", () => {
    rmSync(t.stateDir, { recursive: true, force: true });
    writeState(t, "epoch/a", "6\n");
    writeState(t, "epoch/a.tmp", "7");
    writeState(t, "applied/a-5-6.tmp", "id=");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    expect(listState(t, "epoch")).toEqual(["a"]);
    expect(listState(t, "applied")).toEqual([]);
  });
});

describe.each(SHELLS)("interrupted wipes under %s", (shell) => {
  const bundle: BundleSpec = {
    release: "1.0.0",
    components: [{ name: "c", epoch: 2, onFailure: "wipe", paths: ["cdata1", "cdata2"] }],
    scripts: chain("c", 1, 2),
  };

  it("finishes an interrupted wipe before anything else", async () => {
    const t = await makeRoot({ bundle });
    putData(t, "cdata2");
    writeState(t, "epoch/c", "1\n");
    writeState(t, "wiping/c", "component=c\npaths=cdata1 cdata2\nend\n");
    expect(epochOf(t, shell, "c")).toBe(2);
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/c: finishing an interrupted wipe/);
    expect(existsSync(join(t.root, "cdata2"))).toBe(false);
    expect(runs(t)).toEqual([]);
    expect(readState(t, "epoch/c")).toBe("2\n");
    expect(listState(t, "wiping")).toEqual([]);
  });

  it("discards a torn wipe marker: nothing had been deleted", async () => {
    const t = await makeRoot({ bundle });
    putData(t, "cdata1");
    writeState(t, "epoch/c", "1\n");
    writeState(t, "wiping/c", "component=c\npaths=cda");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(0);
    expect(existsSync(join(t.root, "cdata1"))).toBe(true);
    expect(runIds(t)).toEqual(["c-1-2"]);
  });

  it("refuses a marker naming a path outside the persistent layer", async () => {
    const t = await makeRoot({ bundle });
    writeState(t, "wiping/c", "component=c\npaths=../../etc\nend\n");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refusing to wipe the suspicious path/);
  });
});

describe("sync(2) reports nothing", () => {
  it("neither coreutils nor busybox `sync` can see an injected sync(2) error, hence the fsync barrier", () => {
    for (const argv of [[tool("sync")], [tool("busybox"), "sync"]]) {
      const r = spawnSync(
        tool("strace"),
        ["-qq", "-o", "/dev/null", "-e", "trace=sync", "-e", "inject=sync:error=EIO", ...argv],
        { encoding: "utf8" },
      );
      expect(r.status, argv.join(" ")).toBe(0);
    }
    // `sync FILE` fsyncs it and does report.
    const f = join(tempDir(), "f");
    writeFileSync(f, "x");
    for (const argv of [
      [tool("sync"), f],
      [tool("busybox"), "sync", f],
    ]) {
      const r = spawnSync(
        tool("strace"),
        ["-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:error=EIO", ...argv],
        { encoding: "utf8" },
      );
      expect(r.status, argv.join(" ")).toBe(1);
    }
  });
});
