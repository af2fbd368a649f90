import type { Epoch, Migration, ShippingIndex } from "@stepstone/graph";

/**
 * One component's migrations as edges between dense epoch ids, grouped by one end and
 * flattened: the edges of epoch t are [first[t], first[t + 1]), `next` their other end.
 */
export interface EdgeList {
  readonly first: Int32Array;
  readonly next: Int32Array;
  /** The one shipping interval [lo, hi) of each edge's migration ([0, 0) for none); lo -1 when it has several. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly mig: readonly Migration[];
}

export function edgeList(
  k: number,
  idOf: (e: Epoch) => number,
  migrations: readonly Migration[],
  /** The end that groups the edges: "to" for arrivals (searched backward), "from" for departures. */
  at: "from" | "to",
  /** Each migration's one shipping interval [lo, hi) ([0, 0) for none); lo -1 when it has several. */
  migLo: Int32Array,
  migHi: Int32Array,
): EdgeList {
  const other = at === "to" ? "from" : "to";
  const first = new Int32Array(k + 1);
  for (let i = 0; i < migrations.length; i++) {
    const t = idOf((migrations[i] as Migration)[at]) + 1;
    first[t] = (first[t] as number) + 1;
  }
  for (let t = 0; t < k; t++) first[t + 1] = (first[t + 1] as number) + (first[t] as number);
  const m = first[k] as number;
  const fill = first.slice(0, k);
  const next = new Int32Array(m);
  const lo = new Int32Array(m);
  const hi = new Int32Array(m);
  const mig: Migration[] = new Array(m);
  for (let i = 0; i < migrations.length; i++) {
    const x = migrations[i] as Migration;
    const t = idOf(x[at]);
    const j = fill[t] as number;
    fill[t] = j + 1;
    next[j] = idOf(x[other]);
    lo[j] = migLo[i] as number;
    hi[j] = migHi[i] as number;
    mig[j] = x;
  }
  return { first, next, lo, hi, mig };
}

/**
 * Breadth-first search from `goal` over the edges release r ships: with incoming edges,
 * the epochs from which r's own scripts reach its epoch; with outgoing ones, the epochs
 * r's scripts convert its data to; with the fewest scripts. The queue is queue[len..]
 * (epoch ids) with dists beside it; returns its end. Small and monomorphic on purpose:
 * it runs once per segment, tens of thousands of times, and must get optimized early in
 * a command that runs once.
 */
export function search(
  g: EdgeList,
  goal: number,
  r: number,
  runs: boolean,
  named: ReadonlySet<Migration> | null,
  shipping: ShippingIndex,
  queue: Int32Array,
  dists: Int32Array,
  len: number,
  stamp: Int32Array,
): number {
  queue[len] = goal;
  dists[len] = 0;
  stamp[goal] = r;
  let tail = len + 1;
  if (!runs) return tail;
  const { first, next, lo, hi, mig } = g;
  for (let i = len; i < tail; i++) {
    const e = queue[i] as number;
    const d = (dists[i] as number) + 1;
    const stop = first[e + 1] as number;
    for (let j = first[e] as number; j < stop; j++) {
      const f = next[j] as number;
      if (stamp[f] === r) continue;
      const l = lo[j] as number;
      const shipped =
        l >= 0
          ? (r >= l && r < (hi[j] as number)) || named?.has(mig[j] as Migration) === true
          : shipping.ships(r, mig[j] as Migration);
      if (!shipped) continue;
      stamp[f] = r;
      queue[tail] = f;
      dists[tail] = d;
      tail++;
    }
  }
  return tail;
}

/** idOf for any epoch: -1 for one the component's releases and migrations never name. */
export function safeIdOf(
  k: number,
  values: Int32Array,
  idOf: (e: Epoch) => number,
): (e: Epoch) => number {
  return (e) => {
    if (k === 0) return -1;
    const id = idOf(e);
    return id !== undefined && id >= 0 && id < k && values[id] === e ? id : -1;
  };
}
