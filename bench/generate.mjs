// Synthetic release graphs at the scale of a vendor's whole history, deterministic per
// seed: lines of patch releases, components whose format changes every few releases,
// up-migrations kept for a window and then retired, down-migrations shipped only by one
// transition release per line, required stops (upgradeFrom) every few lines, key
// rotations with bridge releases, golden releases spread over the history.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** mulberry32: a tiny deterministic PRNG, so every run benchmarks the same graph. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generate({
  releases = 1000,
  components = 40,
  migrations = 15000,
  golden = 100,
  seed = 1,
} = {}) {
  const rand = prng(seed);
  const perLine = 20;
  const lines = Math.ceil(releases / perLine);
  const comps = Array.from({ length: components }, (_, i) => `c${String(i).padStart(2, "0")}`);
  const versions = [];
  for (let l = 0; l < lines && versions.length < releases; l++) {
    const major = 1 + Math.floor(l / 10);
    const minor = l % 10;
    for (let p = 0; p < perLine && versions.length < releases; p++) {
      // The last release of a line is its transition build.
      versions.push({
        v: `${major}.${minor}.${p === perLine - 1 ? `${p}-transition.1` : p}`,
        line: l,
        last: p === perLine - 1,
      });
    }
  }
  // Each component's format changes at random releases: as many changes as the
  // migration budget allows (one up and one down migration per change).
  const totalChanges = Math.floor(migrations / 2);
  const epochAt = comps.map(() => new Int32Array(versions.length).fill(1));
  const changes = comps.map(() => []);
  comps.forEach((_, ci) => {
    const changesPer =
      Math.floor(totalChanges / components) + (ci < totalChanges % components ? 1 : 0);
    const at = new Set();
    while (at.size < changesPer) at.add(1 + Math.floor(rand() * (versions.length - 1)));
    const sorted = [...at].sort((a, b) => a - b);
    let e = 1;
    let k = 0;
    for (let r = 0; r < versions.length; r++) {
      while (k < sorted.length && sorted[k] === r) {
        e++;
        changes[ci].push({ r, from: e - 1, to: e });
        k++;
      }
      epochAt[ci][r] = e;
    }
  });
  // Transition releases sit at the end of their line but keep the line's data format.
  versions.forEach((rv, r) => {
    if (rv.last && r > 0)
      for (let ci = 0; ci < comps.length; ci++) epochAt[ci][r] = epochAt[ci][r - 1];
  });
  const stopEvery = 5; // every 5th line's .0 is a required stop
  const migs = [];
  const transitionShips = new Map();
  comps.forEach((c, ci) => {
    for (const ch of changes[ci]) {
      const intro = versions[ch.r].v;
      const retireAt = ch.r + 100 + Math.floor(rand() * 200);
      const retire = retireAt < versions.length ? versions[retireAt].v : null;
      migs.push({
        id: `${c}-${ch.from}-${ch.to}`,
        component: c,
        from: ch.from,
        to: ch.to,
        script: `migrations/${c}/${ch.from}-${ch.to}.sh`,
        shippedIn: retire ? `>=${intro} <${retire}` : `>=${intro}`,
      });
      migs.push({
        id: `${c}-${ch.to}-${ch.from}`,
        component: c,
        from: ch.to,
        to: ch.from,
        script: `migrations/${c}/${ch.to}-${ch.from}.sh`,
      });
      // The transition build of the change's line carries the way back.
      const line = versions[ch.r].line;
      const list = transitionShips.get(line) ?? [];
      list.push(`${c}-${ch.to}-${ch.from}`);
      transitionShips.set(line, list);
    }
  });
  const keyOf = (r) => `k${Math.floor(r / 250)}`;
  const rels = versions.map((rv, r) => {
    const epochs = {};
    for (const [ci, c] of comps.entries()) epochs[c] = epochAt[ci][r];
    const stopLine = Math.floor(rv.line / stopEvery) * stopEvery;
    const stop = stopLine > 0 && rv.line > stopLine ? versions[stopLine * perLine]?.v : undefined;
    const key = keyOf(r);
    // The last 10 releases before a rotation already trust the next key.
    const bridge = r % 250 >= 240;
    const rel = {
      version: rv.v,
      ...(r % Math.floor(versions.length / golden) === 0 && !rv.last && { golden: true }),
      ...(rv.last && { transition: true, ships: (transitionShips.get(rv.line) ?? []).sort() }),
      epochs,
      ...(stop && { upgradeFrom: `>=${stop}` }),
      signedBy: key,
      trusts:
        bridge || rv.last
          ? [
              key,
              `k${Math.floor(r / 250) + 1}`,
              ...(r >= 250 ? [`k${Math.floor(r / 250) - 1}`] : []),
            ].sort()
          : [key],
    };
    return rel;
  });
  const graph = {
    schemaVersion: 1,
    components: Object.fromEntries(
      comps.map((c, i) => [c, { paths: [`var/lib/${c}`], wipeable: i % 4 !== 0 }]),
    ),
    releases: rels,
    migrations: migs,
  };
  return graph;
}

/** Writes release-graph.json and its scripts into dir; returns the graph file's path. */
export function writeGraph(dir, graph) {
  mkdirSync(dir, { recursive: true });
  const made = new Set();
  for (const m of graph.migrations) {
    const d = join(dir, "migrations", m.component);
    if (!made.has(d)) {
      mkdirSync(d, { recursive: true });
      made.add(d);
    }
    writeFileSync(join(dir, m.script), `#!/bin/sh\nset -eu\n# ${m.id}\n`);
  }
  const file = join(dir, "release-graph.json");
  writeFileSync(file, JSON.stringify(graph, null, 1));
  return file;
}
