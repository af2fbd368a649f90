#!/usr/bin/env node
// `pnpm bench`: stepstone's performance as ratios against a floor measured in the same
// run (these machines are noisy; absolute times are printed for context only).
//
// Planner scale (issue: 1,000 releases, 40 components, 15,000 migrations, 100 golden):
//   floor    = node start + JSON.parse of the same graph file
//   validate = `stepstone validate` (reads the 15,000 scripts too)
//   plan     = `stepstone plan` from the oldest release to the newest
//   matrix   = `stepstone matrix` of the 100 golden releases
// Goals: plan <= 3x floor, matrix in seconds.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, writeGraph } from "./generate.mjs";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "apps/cli/dist/bundle/bin.js");
// Nine interleaved rounds: a median of five moved by ±0.15 between runs on these machines.
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);

function time(args, cwd) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(cases, cwd) {
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // Interleaved rounds: a noisy moment hits every case, not one.
  for (let i = 0; i < rounds; i++) {
    for (const [name, args] of Object.entries(cases)) samples[name].push(time(args, cwd));
    process.stderr.write(`\rplanner: round ${i + 1}/${rounds}`);
  }
  process.stderr.write("\n");
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const results = [];
const dir = mkdtempSync(join(tmpdir(), "stepstone-bench-"));
try {
  process.stderr.write("generating 1,000 releases, 40 components, 15,000 migrations...\n");
  const graph = generate({ releases: 1000, components: 40, migrations: 15000, golden: 100 });
  const file = writeGraph(dir, graph);
  const oldest = graph.releases[0].version;
  const newest = graph.releases[graph.releases.length - 1].version;
  const t = measure(
    {
      floor: ["-e", `JSON.parse(require("node:fs").readFileSync(${JSON.stringify(file)}, "utf8"))`],
      validate: [bin, "validate", "--graph", file],
      plan: [bin, "plan", "--from", oldest, "--to", newest, "--graph", file, "--format", "json"],
      matrix: [bin, "matrix", "--graph", file, "--format", "json"],
    },
    dir,
  );
  const scale = {
    releases: graph.releases.length,
    components: Object.keys(graph.components).length,
    migrations: graph.migrations.length,
    golden: graph.releases.filter((r) => r.golden).length,
  };
  for (const name of ["validate", "plan", "matrix"]) {
    results.push({
      bench: `planner.${name}`,
      ms: +t[name].toFixed(1),
      floorMs: +t.floor.toFixed(1),
      ratio: +(t[name] / t.floor).toFixed(2),
      ...scale,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Benchmarks of other packages register here as scripts printing JSON lines.
for (const extra of [
  "packages/runner/bench/runner-bench.mjs",
  "packages/bundle/bench/bundle-bench.mjs",
  "bench/git-bench.mjs",
  "bench/fleet-bench.mjs",
]) {
  const path = join(root, extra);
  if (!existsSync(path)) continue;
  // Options of `pnpm bench` (e.g. --fleet-10m) go to every script; each takes its own.
  const r = spawnSync(process.execPath, [path, ...process.argv.slice(2)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${extra} failed (exit ${r.status})`);
  for (const line of r.stdout.split("\n"))
    if (line.trim().startsWith("{")) results.push(...rows(JSON.parse(line)));
}

/** One table row per measured ratio (the runner reports several in one line). */
function rows(r) {
  if (r.bench !== "runner") return [r];
  return [
    {
      bench: "runner.dash.200",
      ms: r.dash.runnerMs,
      floorMs: r.dash.protocolFloorMs,
      ratio: r.dash.ratio,
      goal: "<= 1.1x the protocol floor (sh -e f && sync && record && sync)",
    },
    {
      bench: "runner.dash.records",
      ms: r.dash.runnerMs,
      floorMs: r.dash.recordsFloorMs,
      ratio: r.dash.ratioToRecords,
      goal: "(against a bare loop writing the same records: the runner's own cost)",
    },
    {
      bench: "runner.dash.naive",
      ms: r.dash.runnerMs,
      floorMs: r.dash.naiveMs,
      ratio: r.dash.ratioToNaive,
      goal: "(against sh -e f && sync, no record: for information)",
    },
    {
      bench: "runner.dash.rename",
      ms: r.dash.renameMs,
      floorMs: r.dash.protocolFloorMs,
      ratio: Math.round((r.dash.renameMs / r.dash.protocolFloorMs) * 100) / 100,
      goal: "(a bare loop with temp file + mv records, for comparison)",
    },
    {
      bench: "runner.ash.200",
      ms: r.busybox.runnerMs,
      floorMs: r.busybox.protocolFloorMs,
      ratio: r.busybox.ratio,
      goal: "(busybox ash, for information)",
    },
    { bench: "runner.applied-boot", ms: r.dash.appliedBootMs, goal: "(all 200 applied)" },
    {
      bench: "runner.processes.idle",
      count: r.dash.idleBootProcesses,
      goal: "processes of a boot with nothing to do (goal 0)",
    },
    {
      bench: "runner.processes.script",
      count: r.dash.perScriptProcesses,
      goal: "processes per script (goal 3: the script and two syncs)",
    },
    {
      bench: "runner.processes.run",
      count: r.dash.perRunProcesses,
      goal: "processes once per run that works",
    },
  ];
}

const goals = { "planner.plan": "<= 3x floor", "planner.matrix": "seconds" };
console.log("benchmark                 ms|count  floor ms  ratio   goal");
for (const r of results) {
  console.log(
    `${String(r.bench).padEnd(24)}  ${String(r.ms ?? r.count ?? "").padStart(8)}  ${String(r.floorMs ?? "").padStart(8)}  ${String(r.ratio ?? "").padStart(5)}   ${goals[r.bench] ?? r.goal ?? ""}`,
  );
}
if (process.env.BENCH_JSON) for (const r of results) console.log(JSON.stringify(r));
