#!/usr/bin/env node
// `stepstone fleet --to <newest golden>` on an inventory of 1,000,000 devices over the
// bench graph (1,000 releases, 40 components), against a floor measured in the same run:
// node reading the same file line by line (readline) and JSON.parse of each line.
//
// The fleet (deterministic per seed): most devices on the newest releases (Zipf over the
// releases, newest first, so a few releases hold most devices and every release has some:
// the long tail), 3% with a failed migration (the data of a component that changed at
// their release left at the epoch before, and the failure record), 2% more reporting a
// healthy `runner status --json`; the rest in the short form {"id","release"}.
//
// Prints JSON lines: {"bench":"fleet.1m","ms","floorMs","ratio","rssMB","floorRssMB","classes",...}
// Goal: <= 2x the floor, memory < 300 MB, at 1,000,000 and 10,000,000 devices.
// `pnpm bench --fleet-10m` adds the 10,000,000-device run (one round, a 2.3 GB file).
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, prng, writeGraph } from "./generate.mjs";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "apps/cli/dist/bundle/bin.js");
// A third of the planner's rounds (a round reads a 230 MB file twice): 3 by default.
const rounds = Math.max(1, Math.round(Number(process.env.BENCH_ROUNDS ?? 9) / 3));
const tenMillion = process.argv.includes("--fleet-10m");

/** Writes the inventory; returns the newest golden release. */
export function writeFleet(file, graph, devices, seed = 7) {
  const rand = prng(seed);
  const comps = Object.keys(graph.components);
  const releases = graph.releases.filter((r) => !r.withdrawn && !r.transition);
  // Newest first, a little shuffled: popularity follows recency, not exactly.
  const order = releases
    .map((r, i) => ({ r, k: releases.length - i + rand() * 40 }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.r);
  const weights = order.map((_, i) => 1 / (i + 1) ** 1.1);
  const cumulative = [];
  let sum = 0;
  for (const w of weights) {
    sum += w;
    cumulative.push(sum);
  }
  const pick = () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo];
  };
  const index = new Map(graph.releases.map((r, i) => [r.version, i]));
  const status = (r, failedComp) => {
    const i = index.get(r.version);
    const prev = graph.releases[i - 1];
    const components = comps.map((c) => {
      const image = r.epochs[c];
      const epoch = c === failedComp ? prev.epochs[c] : image;
      const pending = epoch === image ? [] : [`${c}-${epoch}-${image}`];
      return `{"name":"${c}","epoch":${epoch},"imageEpoch":${image},"pending":${JSON.stringify(pending)},"interrupted":null,"failed":${c === failedComp}}`;
    });
    const failures = failedComp
      ? `{"id":"${failedComp}-${prev.epochs[failedComp]}-${r.epochs[failedComp]}","component":"${failedComp}"}`
      : "";
    return `{"release":"${r.version}","platform":null,"components":[${components.join(",")}],"failures":[${failures}]}`;
  };
  const fd = openSync(file, "w");
  let buf = "";
  for (let d = 0; d < devices; d++) {
    const r = pick();
    const id = `bmc-${String(d).padStart(8, "0")}`;
    const x = rand();
    let line;
    if (x < 0.03) {
      // A failed migration: a component that changed at this release, left behind.
      const i = index.get(r.version);
      const prev = graph.releases[i - 1];
      const changed = prev ? comps.filter((c) => r.epochs[c] > prev.epochs[c]) : [];
      line =
        changed.length > 0
          ? `{"id":"${id}","status":${status(r, changed[Math.floor(rand() * changed.length)])}}`
          : `{"id":"${id}","status":${status(r, null)}}`;
    } else if (x < 0.05) line = `{"id":"${id}","status":${status(r, null)}}`;
    else line = `{"id":"${id}","release":"${r.version}"}`;
    buf += `${line}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = "";
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  const golden = graph.releases.filter((r) => r.golden && !r.withdrawn);
  return golden[golden.length - 1].version;
}

/** Wall time and peak memory (GNU time's maximum resident set) of one run. */
function run(args) {
  const t = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split("\n").pop());
  return { ms, rssMB: kb / 1024, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bench(dir, graphFile, graph, devices, n) {
  const inventory = join(dir, `fleet-${devices}.jsonl`);
  process.stderr.write(`fleet: writing ${devices.toLocaleString("en-US")} devices...\n`);
  const to = writeFleet(inventory, graph, devices);
  const floorJs = join(dir, "floor.cjs");
  writeFileSync(
    floorJs,
    `const rl = require("node:readline").createInterface({ input: require("node:fs").createReadStream(process.argv[2]), crlfDelay: Infinity });
let n = 0;
rl.on("line", (l) => { if (l !== "") { JSON.parse(l); n++; } });
rl.on("close", () => console.log(n));`,
  );
  const fleetArgs = [bin, "fleet", "--inventory", inventory, "--to", to, "--graph", graphFile];
  const floor = [];
  const fleet = [];
  let out = "";
  for (let i = 0; i < n; i++) {
    floor.push(run([floorJs, inventory]));
    const f = run([...fleetArgs, "--format", "json"]);
    fleet.push(f);
    out = f.stdout;
    process.stderr.write(`\rfleet ${devices}: round ${i + 1}/${n}`);
  }
  process.stderr.write("\n");
  const json = JSON.parse(out);
  const ms = median(fleet.map((x) => x.ms));
  const floorMs = median(floor.map((x) => x.ms));
  rmSync(inventory, { force: true });
  const rssMB = Math.round(Math.max(...fleet.map((x) => x.rssMB)));
  return {
    bench: `fleet.${devices >= 1e6 ? `${devices / 1e6}m` : devices}`,
    ms: Math.round(ms),
    floorMs: Math.round(floorMs),
    ratio: +(ms / floorMs).toFixed(2),
    rssMB,
    floorRssMB: Math.round(Math.max(...floor.map((x) => x.rssMB))),
    devices: json.summary.devices,
    classes: json.summary.classes,
    waves: json.waves.length,
    to,
    goal: `<= 2x floor (readline + JSON.parse); ${rssMB} MB (goal < 300); ${json.summary.classes} classes`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main();

function main() {
  const dir = mkdtempSync(join(tmpdir(), "stepstone-fleet-bench-"));
  try {
    const graph = generate({ releases: 1000, components: 40, migrations: 15000, golden: 100 });
    const graphFile = writeGraph(dir, graph);
    console.log(JSON.stringify(bench(dir, graphFile, graph, 1_000_000, rounds)));
    if (tenMillion) console.log(JSON.stringify(bench(dir, graphFile, graph, 10_000_000, 1)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
