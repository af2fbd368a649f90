#!/usr/bin/env node
/**
 * Runner benchmark: 200 no-op scripts under dash, run by the emitted runner, against floors
 * measured in the same run and environment (LC_ALL=C everywhere: the runner sets it itself,
 * and a floor must not pay for locale loading the runner avoids):
 * - protocol floor: the commit protocol as a bare loop, nothing else:
 *   `sh -e "$f" && sync && printf record > epoch && sync -- epoch` per script;
 * - records floor: the same files the runner's contract writes per script (the companion,
 *   applied/<id>, the epoch record) around the same two barriers, as a bare loop;
 * - naive floor: `sh -e "$f" && sync` per script (no record: below what durability needs);
 * - rename: the literal "temp file + mv + sync" record scheme as a bare loop, for comparison.
 * And counts, which unlike times are the same on every machine (strace -f): processes and
 * execs of a boot with nothing to do, of a boot that runs 100 and 200 scripts (their
 * difference / 100 is the cost per script, the rest is the cost per run).
 *
 * And, as root, the device I/O of a run on a loop-mounted ext4 disk (block writes, cache
 * flushes), the runner's and the protocol floor's.
 *
 * Prints one JSON line. Goals (issue "The runner, hardened and lean"): ratio to the protocol
 * floor <= 1.1, 0 processes for a boot with nothing to do, 3 per script (the script and the
 * two barriers). Usage: node packages/runner/bench/runner-bench.mjs [--reps N] (after a build)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitRunner, writeTree } from "../dist/index.js";

const SCRIPTS = 200;
const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 9;
const ENV = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };

const work = mkdtempSync(join(tmpdir(), "stepstone-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function bundle(dir, scripts) {
  mkdirSync(dir, { recursive: true });
  const lines = ["release\t1.0.0", "platform\t-", `component\tbench\t${scripts + 1}\t1\thalt\t-`];
  for (let i = 1; i <= scripts; i++) {
    const file = `${String(i).padStart(4, "0")}-bench-${i}-${i + 1}.sh`;
    const content = "#!/bin/sh\nset -e\n:\n";
    writeFileSync(join(dir, file), content, { mode: 0o755 });
    const sha = createHash("sha256").update(content).digest("hex");
    lines.push(`script\t${i}\tbench-${i}-${i + 1}\t${sha}\tbench\t${i}\t${i + 1}\t${file}`);
  }
  writeFileSync(join(dir, "manifest.tsv"), `${lines.join("\n")}\n`);
}

// On a device /run is a tmpfs (the lock, the run's private copies, the FIFOs and each
// script's output live there): the bench's is in /dev/shm, so that the disk sees only
// what it sees on a device.
const shm = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/stepstone-bench-") : null;
process.on("exit", () => shm && rmSync(shm, { recursive: true, force: true }));

async function root(name, scripts) {
  const r = join(work, name);
  await writeTree(r, emitRunner({}));
  bundle(join(r, "usr/share/migration.d"), scripts);
  if (shm) {
    mkdirSync(join(shm, name));
    symlinkSync(join(shm, name), join(r, "run"));
  } else {
    mkdirSync(join(r, "run"), { recursive: true });
  }
  return r;
}

function time(argv) {
  // Each sample starts from a clean disk: a global sync pays for whatever is dirty, and the
  // removal of the previous run's state (or a floor's files) must not be billed to the next.
  spawnSync("sync");
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: ENV, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    const at = argv.indexOf("--root");
    const journal = at > 0 ? join(argv[at + 1], "var/lib/migration/journal") : "";
    const tail = journal && existsSync(journal) ? readFileSync(journal, "utf8").slice(-3000) : "";
    throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}\n${tail}`);
  }
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const FLOORS = {
  protocol:
    'd=$(mktemp -d); for f in "$1"/*.sh; do sh -e "$f" && sync && printf "%s\\n" "$f" > "$d/epoch" && sync -- "$d/epoch" || exit 1; done; rm -rf "$d"',
  // The same writes the runner's contract makes per script, as a bare loop: the companion,
  // the script, barrier 1, applied/<id> and the epoch record, barrier 2. What the runner
  // costs beyond this is its own shell work.
  records:
    'd=$(mktemp -d); e=1; for f in "$1"/*.sh; do printf "%s\\n" "$e" > "$d/prev" && sh -e "$f" && sync && printf "id=%s\\nto=%s\\n" "$f" "$e" > "$d/a.$e" && e=$((e + 1)) && printf "%s\\n" "$e" > "$d/epoch" && sync -- "$d/epoch" || exit 1; done; rm -rf "$d"',
  naive: 'for f in "$1"/*.sh; do sh -e "$f" && sync || exit 1; done',
  rename:
    'd=$(mktemp -d); for f in "$1"/*.sh; do sh -e "$f" && sync && printf "%s\\n" "$f" > "$d/epoch.tmp" && mv -f "$d/epoch.tmp" "$d/epoch" && sync -- "$d/epoch" "$d" || exit 1; done; rm -rf "$d"',
};

function compare(shell, r) {
  const scripts = join(r, "usr/share/migration.d");
  const samples = { runner: [], ...Object.fromEntries(Object.keys(FLOORS).map((k) => [k, []])) };
  for (let i = 0; i < REPS; i++) {
    // Interleaved, so drifts of the machine hit every variant alike.
    for (const [name, loop] of Object.entries(FLOORS)) {
      samples[name].push(time([...shell, "-c", loop, name, scripts]));
    }
    rmSync(join(r, "var"), { recursive: true, force: true });
    samples.runner.push(
      time([...shell, join(r, "usr/libexec/migration/runner"), "--root", r, "boot"]),
    );
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  // The ratio of each round (runner and floor measured back to back), then the median: a
  // busy moment of the machine moves both sides of a round.
  const ratios = samples.runner.map((x, i) => x / samples.protocol[i]);
  const out = {
    runnerMs: round(m.runner),
    protocolFloorMs: round(m.protocol),
    recordsFloorMs: round(m.records),
    ratioToRecords: round(median(samples.runner.map((x, i) => x / samples.records[i])), 2),
    naiveMs: round(m.naive),
    renameMs: round(m.rename),
    ratio: round(median(ratios), 2),
    ratioToNaive: round(m.runner / m.naive, 2),
    runOnTmpfs: shm !== null,
  };
  // All applied: nothing to run.
  const applied = [];
  for (let i = 0; i < Math.max(REPS, 9); i++) {
    applied.push(time([...shell, join(r, "usr/libexec/migration/runner"), "--root", r, "boot"]));
  }
  out.appliedBootMs = round(median(applied));
  return out;
}

/** Processes (distinct pids beyond the shell) and execs (beyond the shell's) of one run. */
function count(shell, r, fresh) {
  if (fresh) rmSync(join(r, "var"), { recursive: true, force: true });
  const log = join(work, "strace.log");
  const s = spawnSync(
    "strace",
    [
      "-f",
      "-qq",
      "-e",
      "trace=execve",
      "-o",
      log,
      ...shell,
      join(r, "usr/libexec/migration/runner"),
      "--root",
      r,
      "boot",
    ],
    { env: ENV, encoding: "utf8" },
  );
  if (s.status !== 0) throw new Error(`strace run exited ${s.status}: ${s.stderr}`);
  const lines = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => /execve\(/.test(l) && !/= -1 /.test(l));
  const pids = new Set(
    readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[0]),
  );
  return {
    processes: pids.size - 1,
    execs: lines.length - 1,
    programs: lines.slice(1).map((l) =>
      l
        .match(/execve\("([^"]+)"/)?.[1]
        ?.split("/")
        .pop(),
    ),
  };
}

function counts(shell) {
  const idleRoot = join(work, "count-200");
  const r100 = join(work, "count-100");
  const full200 = count(shell, idleRoot, true);
  const full100 = count(shell, r100, true);
  const idle = count(shell, idleRoot, false);
  const perScriptProcesses = (full200.processes - full100.processes) / 100;
  const perScriptExecs = (full200.execs - full100.execs) / 100;
  const perRun = full200.processes - perScriptProcesses * 200;
  const perRunPrograms = {};
  for (const p of full100.programs) perRunPrograms[p] = (perRunPrograms[p] ?? 0) + 1;
  for (const k of Object.keys(perRunPrograms)) {
    const each = (full200.programs.filter((x) => x === k).length - perRunPrograms[k]) / 100;
    perRunPrograms[k] -= each * 100;
    if (perRunPrograms[k] === 0) delete perRunPrograms[k];
  }
  return {
    idleBootProcesses: idle.processes,
    idleBootPrograms: idle.programs,
    perScriptProcesses,
    perScriptExecs,
    perRunProcesses: perRun,
    perRunPrograms,
  };
}

/**
 * Device I/O of one run, counted on a loop-mounted ext4 disk (root only: the counts need a
 * mount of their own, so nothing else writes to that disk): block writes and cache
 * flushes of the runner and of the protocol floor, 200 scripts each, from
 * /sys/block/loopN/stat (fields 5 and 16). A flush is what a barrier costs on real storage.
 */
async function io() {
  if (process.getuid?.() !== 0) return { skipped: "needs root (a loop device)" };
  const img = join(shm ?? work, "io.img");
  const mnt = join(work, "io");
  mkdirSync(mnt);
  const sh = (cmd) => {
    const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    return r.stdout.trim();
  };
  sh(`truncate -s 256M ${img} && mkfs.ext4 -q -F ${img} && mount -o loop ${img} ${mnt}`);
  try {
    const dev = sh(`basename "$(findmnt -n -o SOURCE ${mnt})"`);
    const stat = () =>
      readFileSync(`/sys/block/${dev}/stat`, "utf8").trim().split(/\s+/).map(Number);
    const measure = (argv) => {
      spawnSync("sync");
      const a = stat();
      // TMPDIR: the floor's record goes to the counted disk too.
      const r = spawnSync(argv[0], argv.slice(1), {
        env: { ...ENV, TMPDIR: mnt },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
      spawnSync("sync");
      const b = stat();
      return { writes: b[4] - a[4], flushes: b[15] - a[15] };
    };
    const r = join(mnt, "r");
    await writeTree(r, emitRunner({}));
    bundle(join(r, "usr/share/migration.d"), SCRIPTS);
    const run = mkdtempSync(join(shm ?? work, "io-run-"));
    symlinkSync(run, join(r, "run"));
    const scripts = join(r, "usr/share/migration.d");
    // Once each first: the first read of a new file updates its atime.
    measure(["dash", "-c", FLOORS.protocol, "protocol", scripts]);
    const floor = measure(["dash", "-c", FLOORS.protocol, "protocol", scripts]);
    const runner = measure(["dash", join(r, "usr/libexec/migration/runner"), "--root", r, "boot"]);
    return {
      runnerWrites: runner.writes,
      runnerFlushes: runner.flushes,
      protocolWrites: floor.writes,
      protocolFlushes: floor.flushes,
    };
  } finally {
    spawnSync("umount", [mnt]);
    rmSync(img, { force: true });
  }
}

const r200 = await root("companion", SCRIPTS);
await root("count-200", 200);
await root("count-100", 100);
const dash = { ...compare(["dash"], r200), ...counts(["dash"]) };
const busybox = { ...compare(["busybox", "ash"], r200), ...counts(["busybox", "ash"]) };
const result = {
  bench: "runner",
  scripts: SCRIPTS,
  reps: REPS,
  dash,
  busybox,
  io: await io(),
  goal: { ratio: 1.1, idleBootProcesses: 0, perScriptProcesses: 3 },
  pass: {
    ratio: dash.ratio <= 1.1,
    idleBootProcesses: dash.idleBootProcesses === 0 && busybox.idleBootProcesses === 0,
    perScriptProcesses: dash.perScriptProcesses <= 3 && busybox.perScriptProcesses <= 3,
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
