#!/usr/bin/env node
// Power cuts in a real VM: `node test/powercut/run.mjs [N] [options]` boots the runner
// under qemu N times, cuts the power at a random instant while it migrates, checks the
// disk, boots again to completion and checks again. Progress goes to stderr; the last line
// on stdout is "N cuts, V violations" (V: cuts with at least one violation). Exit 0 when
// V is 0, 1 when not, 2 when the harness itself could not run. See README.md beside it.
import { writeFileSync } from "node:fs";
import { HarnessError } from "./lib/assets.mjs";
import { VARIANTS } from "./lib/fixture.mjs";
import { runHarness, SCENARIO_NAMES } from "./lib/harness.mjs";

const USAGE = `usage: node test/powercut/run.mjs [N] [--lanes L] [--seed S] [--variant V] [--scenarios A,B] [--wb W] [--cut-at MARK[+MS]] [--model M] [--boot B] [--report FILE] [--keep]
  N            cuts (default 100)
  --lanes      qemu lanes run side by side (default 2)
  --seed       seed of the random choices (scenario, cut instant), printed by every run
  --variant    runner under test: ${Object.keys(VARIANTS).join(", ")} (default correct)
  --scenarios  what the cuts interrupt, comma-separated: ${SCENARIO_NAMES.join(", ")} (default all)
  --wb         guest writeback: lazy (only syncs persist), eager (writeback every 50 ms, other
               fsyncs every 10-50 ms), mixed (default: lazy or eager, half each), harsh
               (eager without ext4's auto_da_alloc: shows scripts whose temp + mv lacks an fsync)
  --cut-at     cut MS ms (default 0) after the guest prints "@pc MARK" instead of at random,
               e.g. --cut-at "sync 32 logging-2-1" or --cut-at "start logging-1-2+5"
  --model      kill (default: SIGKILL of qemu, the guest's page cache is lost) or log-writes
               (dm-log-writes records the run; crash states of a disk with a volatile write
               cache, up to a flush plus some later writes, are replayed on the host)
  --boot       snapshot (default: every run resumes one snapshot of the booted guest, taken
               before any disk driver is loaded) or cold (every run boots the kernel)
  --report     write the full result (every cut) as JSON to FILE
  --keep       keep the work folder (disk images, dumps) and print its path`;

function parse(argv) {
  const o = { cuts: 100, lanes: 2, variant: "correct", keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new HarnessError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v, min) => {
      if (!/^[0-9]+$/.test(v) || Number(v) < min) {
        throw new HarnessError(`${a || "N"}: expected an integer >= ${min}, got ${v}\n${USAGE}`);
      }
      return Number(v);
    };
    if (a === "--lanes") o.lanes = int(value(), 1);
    else if (a === "--seed") o.seed = int(value(), 0);
    else if (a === "--variant") o.variant = value();
    else if (a === "--scenarios") o.scenarios = value().split(",").filter(Boolean);
    else if (a === "--wb") o.wb = value();
    else if (a === "--cut-at") o.cutAt = value();
    else if (a === "--model") o.model = value();
    else if (a === "--boot") o.boot = value();
    else if (a === "--report") o.report = value();
    else if (a === "--keep") o.keep = true;
    else if (a === "-h" || a === "--help") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (/^[0-9]+$/.test(a)) o.cuts = int(a, 1);
    else throw new HarnessError(`unknown argument ${a}\n${USAGE}`);
  }
  if (!VARIANTS[o.variant]) throw new HarnessError(`unknown --variant ${o.variant}\n${USAGE}`);
  return o;
}

const list = (pairs) => pairs.map(([k, n]) => `${n} ${k}`).join(", ") || "none";

try {
  const o = parse(process.argv.slice(2));
  const s = await runHarness(o);
  const err = (line) => process.stderr.write(`powercut: ${line}\n`);
  err(`runner ${s.variant}, seed ${s.seed}`);
  err(`scenarios: ${list(s.byScenario)}`);
  err(`cut landed: ${list(s.byWhere)}`);
  err(`durable at the cut: ${list(s.byFlag)}`);
  if (s.notes.length > 0) err(`notes (not violations): ${list(s.notes)}`);
  if (s.violations > 0) err(`violations: ${list(s.violationKinds)}`);
  err(
    `${s.cuts} cuts in ${s.minutes.toFixed(1)} min (${s.cutsPerMinute.toFixed(1)} cuts/min, ${s.cpuPerCut.toFixed(1)} qemu CPU-s a cut), ${s.totalMinutes.toFixed(1)} min with setup`,
  );
  if (s.work) err(`work folder kept: ${s.work}`);
  if (s.failures) err(`dumps of violating cuts (etc, var): ${s.failures}`);
  if (o.report) writeFileSync(o.report, `${JSON.stringify(s, null, 2)}\n`);
  process.stdout.write(`${s.cuts} cuts, ${s.violations} violations\n`);
  process.exitCode = s.violations === 0 ? 0 : 1;
} catch (e) {
  if (e instanceof HarnessError) {
    process.stderr.write(`powercut: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
