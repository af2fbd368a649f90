import type { Epoch, Interval, Migration, ShippingIndex } from "@stepstone/graph";
import { type Bits, bitsFor, setRange } from "../bits.js";
import { type EdgeList, search } from "./edge-list.js";

function grow(a: Int32Array, min: number): Int32Array {
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/**
 * ArrivalIndex's arrays and its passes over one component, as small methods: V8 then
 * optimizes each after a few components, where one function doing it all took longer to
 * compile (in the background) than to run.
 */
export class IndexBuilder {
  // Per segment (at most one per cell): its slices of the arrivals and departures.
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly depStart: Int32Array;
  readonly depEnd: Int32Array;
  /** Per cell (r, ci): its segment. */
  readonly segment: Int32Array;
  count = 0;
  epochs: Int32Array;
  dists: Int32Array;
  len = 0;
  depEpochs: Int32Array;
  depDists: Int32Array;
  dlen = 0;

  constructor(
    readonly n: number,
    readonly c: number,
    /** epochs[r * c + ci] of the releases. */
    readonly releaseEpochs: Int32Array,
    readonly runner: Uint8Array,
    readonly explicit: (ReadonlySet<Migration> | null)[],
    readonly shipping: ShippingIndex,
  ) {
    this.start = new Int32Array(n * c);
    this.end = new Int32Array(n * c);
    this.depStart = new Int32Array(n * c);
    this.depEnd = new Int32Array(n * c);
    this.segment = new Int32Array(n * c);
    // Roomy from the start: a large typed array is zero pages until written, while each
    // grow() copies everything so far (a vendor's releases reach ~10 epochs back each).
    this.epochs = new Int32Array(n * c * 16 + 1024);
    this.dists = new Int32Array(n * c * 16 + 1024);
    this.depEpochs = new Int32Array(n * c * 2 + 1024);
    this.depDists = new Int32Array(n * c * 2 + 1024);
  }

  /**
   * Component ci's epochs as dense ids: the epoch minus the lowest when they span a small
   * range (they nearly always do), else in order of appearance.
   */
  epochIds(
    ci: number,
    migs: readonly Migration[],
    migrations: number,
  ): { k: number; idOf: (e: Epoch) => number; values: Int32Array } {
    const { n, c } = this;
    let lowest = Number.POSITIVE_INFINITY;
    let highest = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < n; r++) {
      const e = this.releaseEpochs[r * c + ci] as Epoch;
      if (e < lowest) lowest = e;
      if (e > highest) highest = e;
    }
    for (let i = 0; i < migs.length; i++) {
      const m = migs[i] as Migration;
      lowest = Math.min(lowest, m.from, m.to);
      highest = Math.max(highest, m.from, m.to);
    }
    // No release and no migration: nothing to index.
    if (lowest > highest) return { k: 0, idOf: () => 0, values: new Int32Array(0) };
    if (highest - lowest < 4 * (n + 2 * migrations) + 64) {
      const k = highest - lowest + 1;
      const base = lowest;
      const values = new Int32Array(k);
      for (let id = 0; id < k; id++) values[id] = id + base;
      return { k, idOf: (e) => e - base, values };
    }
    const ids = new Map<Epoch, number>();
    const add = (e: Epoch) => {
      if (!ids.has(e)) ids.set(e, ids.size);
    };
    for (let r = 0; r < n; r++) add(this.releaseEpochs[r * c + ci] as Epoch);
    for (const m of migs) {
      add(m.to);
      add(m.from);
    }
    const values = new Int32Array(ids.size);
    for (const [e, id] of ids) values[id] = e;
    return { k: ids.size, idOf: (e) => ids.get(e) as number, values };
  }

  /**
   * Fills each migration's one shipping interval [lo, hi): [0, 0) for none (a script only
   * `ships` names, like most down-migrations: the fast test answers for it too), lo -1
   * for several. Returns the interval lists of those with several.
   */
  shippingBounds(
    migs: readonly Migration[],
    lo: Int32Array,
    hi: Int32Array,
  ): (readonly Interval[])[] {
    const multi: (readonly Interval[])[] = [];
    for (let i = 0; i < migs.length; i++) {
      const ivs = this.shipping.intervalsOf(migs[i] as Migration);
      lo[i] = ivs.length === 1 ? (ivs[0] as Interval)[0] : ivs.length === 0 ? 0 : -1;
      hi[i] = ivs.length === 1 ? (ivs[0] as Interval)[1] : ivs.length === 0 ? 0 : -1;
      if (ivs.length > 1) multi.push(ivs);
    }
    return multi;
  }

  /**
   * Where component ci's segments start (cut[r] = 1). Releases of one segment have the
   * same arrivals: nothing that decides them (the epoch, the runner, which of the
   * component's migrations are shipped) changes between two cuts, and shipping changes
   * only where some interval starts or ends, or at a release that names extra scripts.
   */
  cuts(
    ci: number,
    lo: Int32Array,
    hi: Int32Array,
    multi: readonly (readonly Interval[])[],
  ): Uint8Array {
    const { n, c, runner, explicit } = this;
    const cut = new Uint8Array(n + 1);
    cut[0] = 1;
    cut[n] = 1;
    for (let r = 1; r < n; r++) {
      if (
        this.releaseEpochs[r * c + ci] !== this.releaseEpochs[(r - 1) * c + ci] ||
        runner[r] !== runner[r - 1] ||
        explicit[r] !== null ||
        explicit[r - 1] !== null
      )
        cut[r] = 1;
    }
    for (let i = 0; i < lo.length; i++) {
      if ((lo[i] as number) < 0) continue;
      cut[lo[i] as number] = 1;
      cut[hi[i] as number] = 1;
    }
    for (let i = 0; i < multi.length; i++) {
      const ivs = multi[i] as readonly Interval[];
      for (let j = 0; j < ivs.length; j++) {
        cut[(ivs[j] as Interval)[0]] = 1;
        cut[(ivs[j] as Interval)[1]] = 1;
      }
    }
    return cut;
  }

  /**
   * One search back (arrivals) and one forward (departures) per segment of component
   * ci; returns, per epoch id, the bitset of releases whose arrivals hold it.
   */
  segments(
    ci: number,
    k: number,
    idOf: (e: Epoch) => number,
    values: Int32Array,
    edges: EdgeList,
    outgoing: EdgeList,
    cut: Uint8Array,
  ): (Bits | undefined)[] {
    const { n, c, runner, explicit, shipping } = this;
    const bits: (Bits | undefined)[] = new Array(k);
    const stamp = new Int32Array(k).fill(-1);
    const stampOut = new Int32Array(k).fill(-1);
    // Per epoch id, the run of releases [runStart, runEnd) whose arrivals hold it so far:
    // consecutive segments mostly share their arrivals, so each run is one setRange.
    const runStart = new Int32Array(k);
    const runEnd = new Int32Array(k).fill(-1);
    for (let r = 0; r < n; ) {
      let next = r + 1;
      while (cut[next] === 0) next++;
      if (this.len + k > this.epochs.length) {
        this.epochs = grow(this.epochs, this.len + k);
        this.dists = grow(this.dists, this.len + k);
      }
      if (this.dlen + k > this.depEpochs.length) {
        this.depEpochs = grow(this.depEpochs, this.dlen + k);
        this.depDists = grow(this.depDists, this.dlen + k);
      }
      const goal = idOf(this.releaseEpochs[r * c + ci] as Epoch);
      const runs = runner[r] === 1;
      const named = explicit[r] ?? null;
      const len = this.len;
      const tail = search(
        edges,
        goal,
        r,
        runs,
        named,
        shipping,
        this.epochs,
        this.dists,
        len,
        stamp,
      );
      extendRuns(this.epochs, len, tail, values, runStart, runEnd, bits, r, next, n);
      // And the other way: where r's own scripts take data at r's epoch (departures).
      const dlen = this.dlen;
      const dtail = search(
        outgoing,
        goal,
        r,
        runs,
        named,
        shipping,
        this.depEpochs,
        this.depDists,
        dlen,
        stampOut,
      );
      toEpochs(this.depEpochs, dlen, dtail, values);
      const s = this.count++;
      this.start[s] = len;
      this.end[s] = tail;
      this.depStart[s] = dlen;
      this.depEnd[s] = dtail;
      // Every release of the segment shares the slices.
      for (let q = r; q < next; q++) this.segment[q * c + ci] = s;
      this.len = tail;
      this.dlen = dtail;
      r = next;
    }
    for (let id = 0; id < k; id++)
      if ((runEnd[id] as number) >= 0) closeRun(bits, id, runStart, runEnd, n);
    return bits;
  }
}

/** Epoch ids in queue[from, to) turned into epochs, in place. */
function toEpochs(queue: Int32Array, from: number, to: number, values: Int32Array): void {
  for (let i = from; i < to; i++) queue[i] = values[queue[i] as number] as number;
}

/**
 * The arrivals of the segment [r, next) (epoch ids in queue[from, to)): extends each
 * epoch's run of releases, closing the runs that a gap ends, and turns the ids into
 * epochs in place. Its own function so it gets optimized early (it runs per segment).
 */
function extendRuns(
  queue: Int32Array,
  from: number,
  to: number,
  values: Int32Array,
  runStart: Int32Array,
  runEnd: Int32Array,
  bits: (Bits | undefined)[],
  r: number,
  next: number,
  n: number,
): void {
  for (let i = from; i < to; i++) {
    const id = queue[i] as number;
    if (runEnd[id] !== r) {
      if ((runEnd[id] as number) >= 0) closeRun(bits, id, runStart, runEnd, n);
      runStart[id] = r;
    }
    runEnd[id] = next;
    queue[i] = values[id] as number;
  }
}

/** Sets the run of releases of epoch id in its bitset. */
function closeRun(
  bits: (Bits | undefined)[],
  id: number,
  runStart: Int32Array,
  runEnd: Int32Array,
  n: number,
): void {
  let b = bits[id];
  if (!b) {
    b = bitsFor(n);
    bits[id] = b;
  }
  setRange(b, runStart[id] as number, runEnd[id] as number);
  runEnd[id] = -1;
}
