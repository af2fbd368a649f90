// The power-cut harness: boots the guest, cuts its power at a random instant while the
// runner migrates (boot) or prepares a downgrade (pre-flash), checks the disk, boots again
// to completion, checks again. Two qemu lanes share the trials.

import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { prng } from "../../../bench/generate.mjs";
import { ensureGuestParts, ensureTools, HarnessError, which } from "./assets.mjs";
import { checkCut, checkFinal, readBack, V } from "./check.mjs";
import { applyState, ensureDmParts, pickState, readLog } from "./dm.mjs";
import { buildFixture, HERE, NEXT, OLD, TRANSITION } from "./fixture.mjs";
import { COMPONENTS } from "./model.mjs";
import { bootVm, buildInitramfs, snapshotVm } from "./vm.mjs";

const all = (e) => Object.fromEntries(COMPONENTS.map((c) => [c, e]));
const ids = (from, to) => Object.fromEntries(COMPONENTS.map((c) => [c, `${c}-${from}-${to}`]));

/** The runner commands whose run a cut interrupts, with what they move. */
const STEPS = {
  boot: { guest: `${NEXT}:boot`, from: all(1), to: all(2), ids: ids(1, 2) },
  preflash: { guest: `${TRANSITION}:pre-flash:${OLD}`, from: all(2), to: all(1), ids: ids(2, 1) },
};

/** What a cut interrupts, and the boot that follows it (run to completion). */
const SCENARIOS = [
  {
    name: "boot",
    weight: 2,
    disk: "epoch1",
    cut: "boot",
    after: [`${NEXT}:boot`],
    final: { to: all(2), ids: ids(1, 2) },
    says: `boot of ${NEXT}, then ${NEXT} again`,
  },
  {
    name: "pre-flash/back",
    weight: 1,
    disk: "epoch2",
    cut: "preflash",
    after: [`${TRANSITION}:boot`],
    final: { to: all(2), ids: ids(1, 2) },
    says: `pre-flash of ${TRANSITION} toward ${OLD}, then ${TRANSITION} boots again`,
  },
  {
    name: "pre-flash/flash",
    weight: 1,
    disk: "epoch2",
    cut: "preflash",
    after: [`${TRANSITION}:pre-flash:${OLD}`, `${OLD}:boot`],
    final: { to: all(1), ids: ids(2, 1) },
    says: `pre-flash of ${TRANSITION} toward ${OLD}, then pre-flash again and ${OLD} boots`,
  },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

// Seeded (mulberry32, shared with the benchmark's graph generator), so a run's choices can
// be replayed with --seed.
const rng = prng;

function pick(random, items) {
  const total = items.reduce((s, x) => s + x.weight, 0);
  let r = random() * total;
  for (const x of items) {
    r -= x.weight;
    if (r < 0) return x;
  }
  return items[items.length - 1];
}

// qemu64 and no Spectre mitigations: the busybox guest needs no CPU feature, and under
// TCG both boot and run it about 12% faster than -cpu max (measured: a lazy boot run
// 12.3 s -> 10.9 s). The disk, the writeback settings and the cut are the same.
const CPU = "qemu64";
const APPEND = "mitigations=off";
// The kernel command line of the snapshot (--boot snapshot): every resumed run has it.
const RESUME_APPEND = `${APPEND} pc.resume=1`;

/**
 * The guest's snapshot (--boot snapshot): booted once per initramfs, stopped where
 * guest/init waits for its parameters, before any block driver is loaded. Its disks are
 * blank files of the runs' sizes (the guest never reads them: virtio_blk is not loaded).
 */
async function makeSnapshot(ctx, name, initrd, withLog) {
  const dir = join(ctx.work, `snapshot-${name}`);
  mkdirSync(dir, { recursive: true });
  const blank = (file, bytes) => {
    writeFileSync(file, "");
    truncateSync(file, bytes);
    return file;
  };
  const state = join(dir, "state");
  const r = await snapshotVm({
    qemu: ctx.qemu,
    kernel: ctx.parts.kernel,
    initrd,
    disk: blank(join(dir, "disk.img"), statSync(ctx.fixture.disk).size),
    logDisk: withLog ? blank(join(dir, "log.img"), LOG_BYTES) : undefined,
    cpuModel: CPU,
    append: RESUME_APPEND,
    state,
  });
  ctx.log(
    `snapshot ${name}: booted to the parameters' prompt and saved in ${(r.ms / 1000).toFixed(1)} s (${(r.bytes / 1048576).toFixed(1)} MiB of state)`,
  );
  return state;
}

const LOG_BYTES = 1024 * 1024 * 1024;

/** Boots once (or resumes the snapshot); collects marks, runner exit codes and status. */
async function boot(ctx, disk, steps, mode, wb, onMark, logDisk) {
  const marks = [];
  const rcs = [];
  let status;
  let halted = false;
  let runAt;
  const params = `pc.steps=${steps.join(",")} pc.mode=${mode} pc.wb=${wb} pc.dm=${logDisk ? "log-writes" : "none"}`;
  const snapshot = ctx.snapshots?.[logDisk ? "dm" : "plain"];
  ctx.bootSeq = (ctx.bootSeq ?? 0) + 1;
  const vm = bootVm({
    qemu: ctx.qemu,
    kernel: ctx.parts.kernel,
    initrd: logDisk ? ctx.dmInitrd : ctx.fixture.initrd,
    disk,
    logDisk,
    cpuModel: CPU,
    append: snapshot ? RESUME_APPEND : `${APPEND} ${params}`,
    incoming: snapshot,
    // A seed for the guest shell's RANDOM (the eager writeback's fsync daemon): every
    // resumed guest would otherwise draw the snapshot's sequence.
    input: snapshot ? `${params} pc.seed=${((ctx.bootSeq * 7919) % 32749) + 1}` : undefined,
    timeoutMs: mode === "cut" ? 90_000 : 180_000,
    onMark: (kind, rest, ms) => {
      if (kind === "run" && runAt === undefined) runAt = ms;
      const t = runAt === undefined ? 0 : ms - runAt;
      marks.push({ kind, rest, t });
      if (kind === "rc") rcs.push(Number(rest));
      if (kind === "halt") halted = true;
      if (kind === "status") {
        try {
          status = JSON.parse(rest);
        } catch {
          status = undefined;
        }
      }
      onMark?.(kind, rest, t, vm);
    },
  });
  ctx.vms.add(vm);
  const end = await vm.done.finally(() => ctx.vms.delete(vm));
  const error = marks.find((m) => m.kind === "error");
  if (error) throw new HarnessError(`guest: ${error.rest}\n${end.log.slice(-30).join("\n")}`);
  return { ...end, marks, rcs, status, halted, steps };
}

/** Timing of an uncut run: when each script starts and ends after the runner starts. */
function profile(marks) {
  const rc = marks.find((m) => m.kind === "rc")?.t ?? 0;
  const scripts = [];
  for (const m of marks) {
    if (m.kind === "start") scripts.push({ id: m.rest, start: m.t });
    if (m.kind === "end") {
      const s = scripts.find((x) => x.id === m.rest);
      if (s) s.end = m.t;
    }
  }
  scripts.forEach((s, i) => {
    s.next = scripts[i + 1]?.start ?? rc;
  });
  return { total: rc, scripts: scripts.filter((s) => s.end !== undefined) };
}

/**
 * Where the cut lands: anywhere in the run, inside a chosen script, or in its commit; or,
 * with --cut-at "MARK[+MS]", MS ms after the guest prints "@pc MARK" (reproducible cuts).
 */
function planCut(random, prof, at) {
  if (at) return { kind: "at", mark: at.mark, delay: at.delay };
  const kind = pick(random, [
    { kind: "uniform", weight: 4 },
    { kind: "inside", weight: 3 },
    { kind: "commit", weight: 3 },
  ]).kind;
  if (kind === "uniform" || prof.scripts.length === 0) {
    return { kind: "uniform", delay: random() * prof.total * 1.05 };
  }
  const s = prof.scripts[Math.floor(random() * prof.scripts.length)];
  if (kind === "inside") return { kind, id: s.id, delay: random() * (s.end - s.start) };
  return { kind, id: s.id, delay: random() * (s.next - s.end) * 1.2 };
}

function where(marks) {
  let w = "before the first script";
  for (const m of marks) {
    if (m.kind === "start") w = `in ${m.rest}`;
    else if (m.kind === "end") w = `commit of ${m.rest}`;
    else if (m.kind === "rc") w = "after the run";
  }
  return w;
}

function short(o) {
  return COMPONENTS.map((c) => {
    const s = o[c];
    const d = s.data.state === "partial" ? "p" : s.data.state === "damaged" ? "X" : s.data.state;
    return `${c} ${s.epoch ?? "?"}${s.rec.torn ? "~" : ""}/${d}`;
  }).join(", ");
}

/** One cut: returns the trial's record. */
async function trial(ctx, n, lane, random) {
  const t0 = performance.now();
  const sc = pick(random, ctx.scenarios);
  const wb = ctx.wb === "mixed" ? (random() < 0.5 ? "lazy" : "eager") : ctx.wb;
  const step = { ...STEPS[sc.cut], appliedBefore: {} };
  const dir = join(ctx.work, `lane-${lane}`);
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, "disk.img");
  await copyFile(ctx.templates[sc.disk], disk);
  const plan = planCut(random, ctx.profiles[sc.cut], ctx.cutAt);

  let cutMs;
  let cutWhere;
  let armed = false;
  // Armed by a mark seen T ms after the runner started: the cut comes DELAY ms later.
  const arm = (vm, delay, t, marksSoFar) => {
    if (armed) return;
    armed = true;
    const start = performance.now();
    setTimeout(() => {
      cutMs = t + performance.now() - start;
      cutWhere = where(marksSoFar);
      vm.kill();
    }, delay);
  };
  const seen = [];
  const first = await boot(ctx, disk, [step.guest], "cut", wb, (kind, rest, t, vm) => {
    seen.push({ kind, rest, t });
    if (kind === "run" && plan.kind === "uniform") arm(vm, plan.delay, t, seen);
    if (kind === "start" && plan.kind === "inside" && rest === plan.id)
      arm(vm, plan.delay, t, seen);
    if (kind === "end" && plan.kind === "commit" && rest === plan.id) arm(vm, plan.delay, t, seen);
    if (plan.kind === "at" && `${kind} ${rest}` === plan.mark) arm(vm, plan.delay, t, seen);
    // A script that never came (a failure before it): cut after the run, at once.
    if (kind === "rc") arm(vm, 0, t, seen);
  });
  if (!first.killed || first.timedOut) {
    throw new HarnessError(
      `cut ${n}: the guest ${first.timedOut ? "never reached the cut" : `ended before the cut (exit ${first.code})`}\n${first.log.slice(-30).join("\n")}`,
    );
  }
  const violations = [];
  const rc1 = first.rcs[0];
  if (rc1 !== undefined && rc1 !== 0) {
    violations.push(V("runner-failed", `the runner failed before the cut (exit ${rc1})`));
  }

  const back1 = await readBack(disk, join(dir, "check-cut"));
  const cut = checkCut(back1.root, step, back1.problems);
  violations.push(...cut.violations.map((v) => ({ ...v, when: "after the cut" })));
  if (violations.length > 0) keep(ctx, n, "after-cut", join(dir, "check-cut"));

  const second = await boot(ctx, disk, sc.after, "full", wb);
  const back2 = await readBack(disk, join(dir, "check-final"));
  const fin = checkFinal(back2.root, { ...sc.final, appliedBefore: {} }, back2.problems, second);
  violations.push(...fin.violations.map((v) => ({ ...v, when: "after the next boot" })));
  if (fin.violations.length > 0) {
    keep(ctx, n, "final", join(dir, "check-final"), undefined, second.log);
  }

  const flags = flagsOf(cut.observed, step);
  return {
    n,
    lane,
    scenario: sc.name,
    wb,
    plan,
    where: cutWhere ?? where(seen),
    cutMs,
    durable: short(cut.observed),
    flags,
    violations,
    notes: fin.notes,
    ms: performance.now() - t0,
    cpu: first.cpuSeconds + second.cpuSeconds,
    _firstMs: first.ms,
    _secondMs: second.ms,
  };
}

/**
 * One crash state of the log-writes model: a run logged by dm-log-writes (one per
 * STATES_PER_LOG states, per lane), replayed on the host up to a flush plus some of the
 * writes after it; checked, booted again to completion, checked again.
 */
const STATES_PER_LOG = 4;
async function trialLog(ctx, n, lane, random) {
  const t0 = performance.now();
  const dir = join(ctx.work, `lane-${lane}`);
  mkdirSync(dir, { recursive: true });
  let cur = ctx.logs.get(lane);
  if (!cur || cur.left === 0) {
    const sc = pick(random, ctx.scenarios);
    const wb = ctx.wb === "mixed" ? (random() < 0.5 ? "lazy" : "eager") : ctx.wb;
    const base = join(dir, "base.img");
    await copyFile(ctx.templates[sc.disk], base);
    const logged = join(dir, "logged.img");
    await copyFile(base, logged);
    const logPath = join(dir, "log.img");
    rmSync(logPath, { force: true });
    writeFileSync(logPath, "");
    truncateSync(logPath, LOG_BYTES);
    const run = await boot(ctx, logged, [STEPS[sc.cut].guest], "full", wb, undefined, logPath);
    if (!run.halted || run.rcs[0] !== 0) {
      throw new HarnessError(
        `the logged ${sc.name} run failed (rc ${run.rcs[0]})\n${run.log.slice(-30).join("\n")}`,
      );
    }
    cur = { sc, wb, base, logPath, entries: readLog(logPath), left: STATES_PER_LOG };
    // The logged run's qemu CPU time, counted with the first state drawn from it.
    cur.logCpu = run.cpuSeconds;
    ctx.logs.set(lane, cur);
  }
  cur.left--;
  const { sc, wb } = cur;
  const logCpu = cur.logCpu;
  cur.logCpu = 0;
  const step = { ...STEPS[sc.cut], appliedBefore: {} };
  const state = pickState(cur.entries, random, "run", "rc");
  const disk = join(dir, "disk.img");
  await copyFile(cur.base, disk);
  applyState(cur.entries, cur.logPath, disk, state);
  const violations = [];
  const back1 = await readBack(disk, join(dir, "check-cut"));
  const cut = checkCut(back1.root, step, back1.problems);
  violations.push(...cut.violations.map((v) => ({ ...v, when: "after the cut" })));
  const logged = { base: cur.base, logPath: cur.logPath, state };
  if (violations.length > 0) keep(ctx, n, "after-cut", join(dir, "check-cut"), logged);
  const second = await boot(ctx, disk, sc.after, "full", wb);
  const back2 = await readBack(disk, join(dir, "check-final"));
  const fin = checkFinal(back2.root, { ...sc.final, appliedBefore: {} }, back2.problems, second);
  violations.push(...fin.violations.map((v) => ({ ...v, when: "after the next boot" })));
  if (fin.violations.length > 0) keep(ctx, n, "final", join(dir, "check-final"));
  return {
    n,
    lane,
    scenario: sc.name,
    wb,
    plan: { kind: "log-writes" },
    where: `after flush ${state.at + 1}/${state.flushes} of the run, ${state.extra.length} of ${state.pending} later writes`,
    whereKind:
      state.extra.length === 0
        ? "at a flush"
        : state.extra.length === state.pending
          ? "all later writes"
          : "some later writes",
    cutMs: undefined,
    durable: short(cut.observed),
    flags: flagsOf(cut.observed, step),
    violations,
    notes: fin.notes,
    ms: performance.now() - t0,
    cpu: (logCpu ?? 0) + second.cpuSeconds,
  };
}

function flagsOf(observed, step) {
  const flags = [];
  for (const c of COMPONENTS) {
    const s = observed[c];
    if (s.data.state === "partial") flags.push(`partial:${c}`);
    if (s.rec.torn) flags.push(`torn-record:${c}`);
    if (s.data.state === step.to[c] && s.epoch === step.from[c]) flags.push(`unrecorded:${c}`);
  }
  return flags;
}

/**
 * Keeps the dump of a violating cut's disk (the first few) and e2fsck's report for a look
 * afterwards; in the log-writes model also what rebuilds the state exactly: the disk before
 * the logged run, the log (sparse copies) and the state (see lib/dm.mjs, applyState).
 */
function keep(ctx, n, what, checkDir, logged, consoleLog) {
  if (ctx.kept >= 6) return;
  ctx.kept++;
  ctx.failures ??= mkdtempSync(join(tmpdir(), "stepstone-powercut-failures-"));
  const dest = join(ctx.failures, `cut-${n}-${what}`);
  try {
    renameSync(join(checkDir, "root"), dest);
    copyFileSync(join(checkDir, "e2fsck.txt"), join(dest, "e2fsck.txt"));
  } catch {
    // nothing to keep
  }
  if (consoleLog) {
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, "console.txt"), `${consoleLog.join("\n")}\n`);
  }
  if (logged && ctx.keptLogs++ < 2) {
    const r = spawnSync("cp", ["--sparse=always", logged.base, logged.logPath, dest]);
    if (r.status === 0)
      writeFileSync(join(dest, "state.json"), `${JSON.stringify(logged.state)}\n`);
  }
}

/**
 * Runs the harness: N cuts over LANES qemu lanes. Returns the summary; progress on stderr.
 * options: { cuts, lanes, seed, variant, keep, log }.
 */
export async function runHarness(options) {
  const t0 = performance.now();
  const log =
    options.log ??
    ((s) =>
      process.stderr.write(`powercut: [${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`));
  ensureTools(log);
  const qemu = which("qemu-system-x86_64");
  const parts = ensureGuestParts(log, join(HERE, ".cache"));
  log(`kernel ${parts.kernelPackage}, ${parts.busybox}`);
  const work = mkdtempSync(join(tmpdir(), "stepstone-powercut-"));
  const scenarios = options.scenarios
    ? options.scenarios.map((name) => {
        const sc = SCENARIOS.find((x) => x.name === name);
        if (!sc) throw new HarnessError(`unknown scenario ${name} (${SCENARIO_NAMES.join(", ")})`);
        return sc;
      })
    : SCENARIOS;
  const wbMode = options.wb ?? "mixed";
  if (!["lazy", "eager", "harsh", "mixed"].includes(wbMode)) {
    throw new HarnessError(`--wb ${wbMode}: lazy, eager, harsh or mixed`);
  }
  let cutAt;
  if (options.cutAt) {
    const m = /^(.*?)(?:\+([0-9]+))?$/.exec(options.cutAt.trim());
    cutAt = { mark: m?.[1]?.trim() ?? "", delay: Number(m?.[2] ?? 0) };
  }
  const ctx = {
    qemu,
    parts,
    work,
    scenarios,
    cutAt,
    wb: wbMode,
    kept: 0,
    keptLogs: 0,
    keepWork: Boolean(options.keep),
    vms: new Set(),
    model: options.model ?? "kill",
    logs: new Map(),
    log,
    bootMode: options.boot ?? "snapshot",
  };
  if (!["snapshot", "cold"].includes(ctx.bootMode)) {
    throw new HarnessError(`--boot ${ctx.bootMode}: snapshot or cold`);
  }
  if (!["kill", "log-writes"].includes(ctx.model)) {
    throw new HarnessError(`--model ${ctx.model}: kill or log-writes`);
  }
  // Interrupted: no qemu may outlive the harness (a guest waiting for its cut never ends).
  const onSignal = (signal) => {
    ctx.stopped = true;
    for (const vm of ctx.vms) vm.kill();
    if (!ctx.keepWork) rmSync(work, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    ctx.fixture = buildFixture({ work, variant: options.variant, parts, log });
    if (ctx.model === "log-writes") {
      const dm = ensureDmParts(log, join(HERE, ".cache"), parts);
      ctx.dmInitrd = join(work, "initrd-dm.cpio");
      buildInitramfs({
        busybox: parts.busybox,
        modules: [...parts.modules, ...dm.modules],
        init: join(HERE, "guest/init"),
        out: ctx.dmInitrd,
        work,
        extra: dm.files,
      });
    }

    if (ctx.bootMode === "snapshot") {
      ctx.snapshots = { plain: await makeSnapshot(ctx, "plain", ctx.fixture.initrd, false) };
      if (ctx.model === "log-writes") {
        ctx.snapshots.dm = await makeSnapshot(ctx, "dm", ctx.dmInitrd, true);
      }
    }

    // Uncut runs: the epoch-2 disk for pre-flash, each run's timing, and a sanity check that
    // the fixture migrates cleanly when nothing cuts it.
    log("uncut runs (timing and the epoch-2 disk)");
    const epoch2 = join(work, "epoch2.img");
    copyFileSync(ctx.fixture.disk, epoch2);
    const up = await boot(ctx, epoch2, [STEPS.boot.guest], "full", "lazy");
    await sanity(up, epoch2, work, { to: all(2), ids: ids(1, 2) }, "boot");
    const down = join(work, "uncut-down.img");
    copyFileSync(epoch2, down);
    const pre = await boot(ctx, down, [STEPS.preflash.guest], "full", "lazy");
    await sanity(pre, down, work, { to: all(1), ids: ids(2, 1) }, "pre-flash");
    rmSync(down, { force: true });
    ctx.templates = { epoch1: ctx.fixture.disk, epoch2 };
    ctx.profiles = { boot: profile(up.marks), preflash: profile(pre.marks) };
    for (const [k, p] of Object.entries(ctx.profiles)) {
      log(
        `${k}: runner ${Math.round(p.total)} ms: ${p.scripts
          .map(
            (s) =>
              `${s.id} ${Math.round(s.end - s.start)} ms + ${Math.round(s.next - s.end)} ms commit`,
          )
          .join(", ")}`,
      );
    }

    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    log(
      `${options.cuts} cuts (${ctx.model}), ${options.lanes} lanes, seed ${seed}, runner ${options.variant}, writeback ${wbMode}, scenarios ${scenarios.map((x) => x.name).join(" ")}`,
    );
    const tCuts = performance.now();
    const results = [];
    let next = 1;
    const laneLoop = async (lane) => {
      const random = rng(seed + lane * 7919);
      while (next <= options.cuts && !ctx.stopped) {
        const n = next++;
        const r =
          ctx.model === "log-writes"
            ? await trialLog(ctx, n, lane, random)
            : await trial(ctx, n, lane, random);
        results.push(r);
        const verdict = r.violations.length === 0 ? "ok" : `${r.violations.length} VIOLATION(S)`;
        const at =
          r.cutMs === undefined ? r.plan.kind : `+${Math.round(r.cutMs)} ms, ${r.plan.kind}`;
        log(
          `cut ${n}/${options.cuts} [lane ${lane}] ${r.scenario} (${r.wb}): ${r.where} (${at}); durable: ${r.durable}${r.flags.length ? ` [${r.flags.join(" ")}]` : ""}: ${verdict} (${(r.ms / 1000).toFixed(1)} s, ${r.cpu.toFixed(1)} qemu CPU-s)`,
        );
        for (const v of r.violations) log(`  ✗ ${v.when ?? ""}: [${v.code}] ${v.msg}`);
      }
    };
    await Promise.all(Array.from({ length: options.lanes }, (_, i) => laneLoop(i + 1)));
    const minutes = (performance.now() - tCuts) / 60000;
    results.sort((a, b) => a.n - b.n);
    const summary = summarize(results, minutes, (performance.now() - t0) / 60000, seed, options);
    return { ...summary, work: ctx.keepWork ? work : undefined, failures: ctx.failures };
  } finally {
    ctx.stopped = true;
    for (const vm of ctx.vms) vm.kill();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!ctx.keepWork) rmSync(work, { recursive: true, force: true });
  }
}

async function sanity(run, disk, work, final, what) {
  const back = await readBack(disk, join(work, `check-uncut-${what}`));
  const r = checkFinal(back.root, { ...final, appliedBefore: {} }, back.problems, run);
  rmSync(join(work, `check-uncut-${what}`), { recursive: true, force: true });
  if (r.violations.length > 0 || r.notes.length > 0) {
    throw new HarnessError(
      `the uncut ${what} run is wrong, so cuts would prove nothing:\n  ${[...r.violations.map((v) => `[${v.code}] ${v.msg}`), ...r.notes].join("\n  ")}\n${run.log.slice(-30).join("\n")}`,
    );
  }
}

function count(list) {
  const m = new Map();
  for (const x of list) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function summarize(results, minutes, totalMinutes, seed, options) {
  const violating = results.filter((r) => r.violations.length > 0);
  return {
    cuts: results.length,
    violations: violating.length,
    seed,
    variant: options.variant,
    minutes,
    totalMinutes,
    cutsPerMinute: results.length / minutes,
    cpuPerCut: results.reduce((t, r) => t + (r.cpu ?? 0), 0) / Math.max(1, results.length),
    byScenario: count(results.map((r) => `${r.scenario} (${r.wb})`)),
    byWhere: count(results.map((r) => r.whereKind ?? r.where)),
    byFlag: count(results.flatMap((r) => r.flags.map((f) => f.split(":")[0]))),
    notes: count(results.flatMap((r) => r.notes.map((x) => x.replace(/\(\d+ bytes\)/, "")))),
    violationKinds: count(
      violating.flatMap((r) => r.violations.map((v) => `${v.when}: ${v.code}`)),
    ),
    results,
  };
}
