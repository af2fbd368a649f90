#!/usr/bin/env node
// A device walks the plan, for real: `node test/device/run.mjs [N] [options]` (or
// `pnpm test:device [N]`). For every ordered pair of golden releases (the first N), it
// takes `stepstone plan --format json` and carries one qemu device along it: each hop
// pre-flashed and flashed by RAUC, booted under systemd with OpenBMC's layout, and checked
// (data, runner status, the rest of the plan from the device's status, the boot's journal).
// With --failures it also boots the failure cases. Progress on stderr; the last line on
// stdout is "P pairs, H hops walked, B boots, V violations". Exit 0 when V is 0, 1 when
// not, 2 when the stage could not run. V counts the boots of the walks, the failure boots
// and the cuts with at least one thing wrong (each is listed on stderr). See README.md.
import { rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { HarnessError } from "../powercut/lib/assets.mjs";
import { makeContext } from "./lib/context.mjs";
import { cutBoots } from "./lib/cuts.mjs";
import { failureBoots } from "./lib/failures.mjs";
import { stageGraphs } from "./lib/graphs.mjs";
import { buildImage } from "./lib/images.mjs";
import { goldens, imagesOf, pairPlan, pairsOf, planTours, walkTour } from "./lib/walk.mjs";

const USAGE = `usage: node test/device/run.mjs [N] [--graphs G,...] [--pairs A>B,...] [--lanes L] [--layout L] [--failures] [--cuts C] [--seed S] [--no-walk] [--no-tours] [--cpu M] [--keep]
  N           walk the first N golden pairs of each graph (default: all)
  --graphs    bundled (the repository's release-graph.json), rotation (the stage's own), default both
  --pairs     walk these pairs only, e.g. "2.8.0>2.13.0,2.13.0>2.8.0" (with one graph)
  --lanes     qemu lanes side by side (default 2)
  --layout    premounted (OpenBMC: mounted by an init script before systemd) or fstab (default premounted)
  --failures  also boot the failure cases (halt, isolate, no scripts, both layouts)
  --cuts      C power cuts during a systemd boot of the power-cut stage's fixture (default 0)
  --seed      seed of the cuts' random instants (printed)
  --no-walk   no walk: only the failure boots and cuts
  --no-tours  walk every pair on a fresh device (default: pairs chained into tours, the
              target's boot of one pair flashing the next pair's first stop)
  --cpu       qemu's CPU model for the guests: qemu64 (default, with mitigations=off) or max
  --keep      keep the work folder`;

function parse(argv) {
  const o = {
    graphs: ["bundled", "rotation"],
    lanes: 2,
    layout: "premounted",
    failures: false,
    walk: true,
    tours: true,
    cuts: 0,
    cpu: "qemu64",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new HarnessError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--graphs") o.graphs = value().split(",");
    else if (a === "--pairs")
      o.pairs = value()
        .split(",")
        .map((p) => p.split(">"));
    else if (a === "--lanes") o.lanes = Number(value());
    else if (a === "--layout") o.layout = value();
    else if (a === "--failures") o.failures = true;
    else if (a === "--no-walk") o.walk = false;
    else if (a === "--no-tours") o.tours = false;
    else if (a === "--cuts") o.cuts = Number(value());
    else if (a === "--seed") o.seed = Number(value());
    else if (a === "--cpu") o.cpu = value();
    else if (a === "--keep") o.keep = true;
    else if (a === "-h" || a === "--help") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (/^[0-9]+$/.test(a)) o.n = Number(a);
    else throw new HarnessError(`unknown argument ${a}\n${USAGE}`);
  }
  if (!["premounted", "fstab"].includes(o.layout))
    throw new HarnessError(`--layout ${o.layout}: premounted or fstab`);
  if (!["qemu64", "max"].includes(o.cpu)) throw new HarnessError(`--cpu ${o.cpu}: qemu64 or max`);
  if (!(o.lanes >= 1)) throw new HarnessError(`--lanes: at least 1`);
  return o;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const ctx = makeContext({ cpu: o.cpu });
  const onSignal = (signal) => {
    for (const vm of ctx.vms) vm.kill();
    if (!o.keep) rmSync(ctx.work, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const graphs = stageGraphs(ctx.work, ctx.keys);
    const jobs = [];
    for (const name of o.walk ? o.graphs : []) {
      const g = graphs[name];
      if (!g) throw new HarnessError(`unknown graph ${name} (bundled, rotation)`);
      let pairs = o.pairs ?? pairsOf(goldens(g));
      if (o.n !== undefined) pairs = pairs.slice(0, o.n);
      for (const [a, b] of pairs) jobs.push({ g, p: pairPlan(g, a, b) });
    }
    ctx.log(
      `${jobs.length} pairs, ${jobs.reduce((s, j) => s + j.p.hops, 0)} hops planned; layout ${o.layout}; CLI ${ctx.cliHasLayout ? "emits units per --layout" : "has no --layout (one set of units)"}`,
    );
    // Every image first, on the host, once per release.
    const t0 = performance.now();
    for (const { g, p } of jobs)
      for (const v of imagesOf(p)) buildImage(ctx, g, v, { layout: o.layout });
    ctx.log(`images ready in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // Tours (lib/walk.mjs, planTours): pairs chained where the device allows, the longest
    // tours first, each lane taking the next tour as it gets free.
    const tours = [];
    for (const g of new Set(jobs.map((j) => j.g))) {
      const plans = jobs.filter((j) => j.g === g).map((j) => j.p);
      for (const t of o.tours ? planTours(g, plans) : plans.map((p) => [p])) tours.push({ g, t });
    }
    const weight = ({ t }) => t.reduce((s, p) => s + p.hops, 0);
    tours.sort((a, b) => weight(b) - weight(a));
    ctx.log(
      `${tours.length} tours: ${tours.map(({ g, t }) => `${g.name} ${[t[0].from, ...t.map((p) => p.to)].join(" > ")}`).join("; ")}`,
    );
    const results = [];
    let next = 0;
    const lane = async () => {
      while (next < tours.length) {
        const { g, t } = tours[next++];
        await walkTour(ctx, g, t, o.layout, (r) => {
          results.push(r);
          const p = r.plan;
          ctx.log(
            `${g.name} ${p.from} -> ${p.to}: ${r.hops}/${p.hops} hops, ${r.boots} boots, ${r.violations.length ? `${r.violations.length} VIOLATION(S)` : "ok"}`,
          );
          for (const v of r.violations) ctx.log(`  ✗ ${v}`);
        });
      }
    };
    const tw = performance.now();
    await Promise.all(Array.from({ length: o.lanes }, lane));
    const walkMin = (performance.now() - tw) / 60000;
    let failures = [];
    if (o.failures) {
      failures = await failureBoots(ctx, graphs, o);
      for (const f of failures) {
        ctx.log(
          `failure boot "${f.name}": ${f.violations.length ? `${f.violations.length} VIOLATION(S)` : "ok"}`,
        );
        for (const v of f.violations) ctx.log(`  ✗ ${v}`);
      }
    }
    if (o.cuts > 0) {
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
      ctx.log(`${o.cuts} power cuts at systemd boots, seed ${seed}`);
      const cuts = await cutBoots(ctx, o.cuts, o.lanes, seed);
      for (const c of cuts) for (const v of c.violations) ctx.log(`  ✗ ${c.name}: ${v}`);
      failures = [...failures, ...cuts];
    }
    const boots = ctx.boots.length;
    const per = ctx.boots.reduce((s, b) => s + b.ms, 0) / Math.max(1, boots) / 1000;
    const cpu = ctx.boots.reduce((s, b) => s + b.cpu, 0) / Math.max(1, boots);
    const fl = ctx.boots.filter((b) => b.flash);
    const nf = ctx.boots.filter((b) => !b.flash);
    const avg = (xs, k) => (xs.length ? xs.reduce((s, b) => s + b[k], 0) / xs.length : 0);
    ctx.log(
      `boots: ${boots}, ${per.toFixed(1)} s and ${cpu.toFixed(1)} CPU-s each on average (with a flash: ${(avg(fl, "ms") / 1000).toFixed(1)} s / ${avg(fl, "cpu").toFixed(1)} CPU-s over ${fl.length}; without: ${(avg(nf, "ms") / 1000).toFixed(1)} s / ${avg(nf, "cpu").toFixed(1)} CPU-s over ${nf.length}); walk ${walkMin.toFixed(1)} min on ${o.lanes} lanes; ${((performance.now() - ctx.t0) / 60000).toFixed(1)} min in all`,
    );
    if (o.keep) ctx.log(`work folder kept: ${ctx.work}`);
    // A violation: a boot of a walk, a failure boot or a cut with at least one thing wrong.
    const violations =
      new Set(results.flatMap((r) => [...r.bad])).size +
      failures.filter((f) => f.violations.length > 0).length;
    const hops = results.reduce((s, r) => s + r.hops, 0);
    process.stdout.write(
      `${results.length} pairs, ${hops} hops walked, ${boots} boots, ${violations} violations\n`,
    );
    process.exitCode = violations === 0 ? 0 : 1;
  } finally {
    for (const vm of ctx.vms) vm.kill();
    if (!o.keep) rmSync(ctx.work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  if (e instanceof HarnessError) {
    process.stderr.write(`device: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
