import type { Migration, Release, ReleaseGraph } from "./model.js";
import { type Interval, rangeIntervals } from "./ranges.js";

/**
 * Which release ships which migration, answered without listing every pair (a vendor's
 * history has thousands of releases and tens of thousands of migrations, and each
 * `shippedIn` range typically covers hundreds of releases).
 *
 * A release ships a migration when it has a runner and its version satisfies the
 * migration's `shippedIn`, or its `ships` names it. Releases are addressed by their
 * index in `graph.releases` (sorted by precedence), so a range is a few index intervals.
 */
export class ShippingIndex {
  private readonly graph: ReleaseGraph;
  private readonly intervals: Map<Migration, readonly Interval[]>;
  private readonly explicit: (ReadonlySet<Migration> | null)[];
  /** The releases whose `ships` names each migration. */
  private readonly namedBy: Map<Migration, number[]>;

  constructor(graph: ReleaseGraph) {
    this.graph = graph;
    const sorted = graph.releases.map((r) => r.semver);
    const indexOf = new Map(sorted.map((v, i) => [v.version, i]));
    this.intervals = new Map();
    const migrations = graph.migrations;
    for (let i = 0; i < migrations.length; i++) {
      const m = migrations[i] as Migration;
      if (m.shippedIn !== null) this.intervals.set(m, rangeIntervals(m.shippedIn, sorted, indexOf));
    }
    // Only the ids some release names in `ships` (few) are looked up: one pass over the
    // migrations for those, not a map of every id.
    const named = new Map<string, Migration | undefined>();
    for (let r = 0; r < graph.releases.length; r++) {
      const ships = (graph.releases[r] as Release).ships;
      for (let i = 0; i < ships.length; i++) named.set(ships[i] as string, undefined);
    }
    if (named.size > 0) {
      for (let i = 0; i < migrations.length; i++) {
        const m = migrations[i] as Migration;
        if (named.has(m.id)) named.set(m.id, m);
      }
    }
    this.explicit = graph.releases.map((r) => {
      if (r.ships.length === 0) return null;
      const set = new Set<Migration>();
      for (const id of r.ships) {
        const m = named.get(id);
        if (m !== undefined) set.add(m);
      }
      return set;
    });
    this.namedBy = new Map();
    for (let r = 0; r < this.explicit.length; r++) {
      const set = this.explicit[r];
      if (!set) continue;
      for (const m of set) {
        const list = this.namedBy.get(m);
        if (list) list.push(r);
        else this.namedBy.set(m, [r]);
      }
    }
  }

  /** Does release r (an index into graph.releases) ship m? */
  ships(r: number, m: Migration): boolean {
    if (!this.graph.releases[r]?.runner) return false;
    if (this.explicit[r]?.has(m)) return true;
    const ivs = this.intervals.get(m);
    if (ivs === undefined) return false;
    for (let i = 0; i < ivs.length; i++) {
      const iv = ivs[i] as Interval;
      if (r >= iv[0] && r < iv[1]) return true;
    }
    return false;
  }

  /** The index intervals of releases whose version satisfies m's shippedIn. */
  intervalsOf(m: Migration): readonly Interval[] {
    return this.intervals.get(m) ?? [];
  }

  /** The migrations release r names in `ships` (null when none). */
  explicitOf(r: number): ReadonlySet<Migration> | null {
    return this.explicit[r] ?? null;
  }

  /** Every release that ships m, ascending. */
  releasesShipping(m: Migration): number[] {
    const out = new Set<number>();
    for (const [lo, hi] of this.intervals.get(m) ?? []) for (let r = lo; r < hi; r++) out.add(r);
    for (const r of this.namedBy.get(m) ?? []) out.add(r);
    return [...out].filter((r) => this.graph.releases[r]?.runner).sort((a, b) => a - b);
  }

  /** The migrations release r ships, ordered by id. */
  shippedBy(r: number): Migration[] {
    return this.graph.migrations.filter((m) => this.ships(r, m)).sort(byId);
  }
}

const byId = (a: Migration, b: Migration) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const cache = new WeakMap<ReleaseGraph, ShippingIndex>();

/** The graph's shipping index, built once per graph. */
export function shippingIndex(graph: ReleaseGraph): ShippingIndex {
  let index = cache.get(graph);
  if (!index) {
    index = new ShippingIndex(graph);
    cache.set(graph, index);
  }
  return index;
}
