import type { Migration, ReleaseGraph } from "./model.js";
import { rangeIntervals } from "./ranges.js";

/**
 * `shipped[r]`: the migrations release r's image carries (r indexes graph.releases).
 * A release ships a migration when it has a runner and its version satisfies the
 * migration's `shippedIn`, or its `ships` names it. Ordered by id for determinism.
 */
export function shippedByRelease(graph: ReleaseGraph): readonly (readonly Migration[])[] {
  const cached = cache.get(graph);
  if (cached) return cached;
  const { releases, migrations } = graph;
  const sets: Set<Migration>[] = releases.map(() => new Set());
  const sorted = releases.map((r) => r.semver);
  for (const m of migrations) {
    if (m.shippedIn === null) continue;
    for (const [lo, hi] of rangeIntervals(m.shippedIn, sorted)) {
      for (let i = lo; i < hi; i++) (sets[i] as Set<Migration>).add(m);
    }
  }
  const byId = new Map(migrations.map((m) => [m.id, m]));
  releases.forEach((r, i) => {
    for (const id of r.ships) {
      const m = byId.get(id);
      if (m) (sets[i] as Set<Migration>).add(m);
    }
  });
  const result = releases.map((r, i) =>
    r.runner
      ? [...(sets[i] as Set<Migration>)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      : [],
  );
  cache.set(graph, result);
  return result;
}

const cache = new WeakMap<ReleaseGraph, readonly (readonly Migration[])[]>();
