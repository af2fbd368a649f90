import type { Epoch, Migration, Release, ShippingIndex } from "@stepstone/graph";
import { andInto, type Bits, bitsFor, orInto } from "../bits.js";
import type { EpochEdges } from "../chain.js";
import { IndexBuilder } from "./builder.js";
import { type EdgeList, edgeList, safeIdOf } from "./edge-list.js";

const NO_MIGRATIONS: readonly Migration[] = Object.freeze([]);

/** What the arrival index is built from: the context's releases, epochs and migrations. */
export interface IndexInput {
  readonly releases: readonly Release[];
  /** epochs[r * c + ci], platform overrides applied. */
  readonly epochs: Int32Array;
  readonly c: number;
  readonly shipping: ShippingIndex;
  /** Per component, all its migrations. */
  readonly migrationsOf: readonly (readonly Migration[])[];
  /** How many migrations the graph has (all components). */
  readonly migrations: number;
}

/**
 * Per (release, component), the epochs from which that release's own scripts reach its
 * epoch, with the fewest scripts from each ("arrivals"), and the epochs they take its data
 * to ("departures"); and per (component, epoch), the bitset of releases whose arrivals
 * hold that epoch ("reachers"). Complete when constructed: the constructor is the one pass
 * over the whole graph a plan pays for. Per component, the releases are cut into segments
 * that ship the same scripts, and each segment gets one search back from its epoch over
 * the migrations its releases ship (arrivals) and one forward (departures), shared by the
 * segment's releases.
 */
export class ArrivalIndex {
  private readonly n: number;
  private readonly c: number;
  private readonly shipping: ShippingIndex;
  /** Per cell k = (r, ci): its segment. */
  private readonly segmentOf: Int32Array;
  /** A segment s's arrivals (epochs and distances) are arrivalEpoch/arrivalDist[arrivalStart[s], arrivalEnd[s]). */
  private readonly arrivalStart: Int32Array;
  private readonly arrivalEnd: Int32Array;
  private readonly arrivalEpoch: Int32Array<ArrayBufferLike>;
  private readonly arrivalDist: Int32Array<ArrayBufferLike>;
  /** Its departures likewise. */
  private readonly depStart: Int32Array;
  private readonly depEnd: Int32Array;
  private readonly depEpoch: Int32Array<ArrayBufferLike>;
  private readonly depDist: Int32Array<ArrayBufferLike>;
  /** Per component: epoch -> releases that can convert data from that epoch at boot. */
  private readonly reachers: readonly Map<Epoch, Bits>[];
  /** Per component: its migrations by the epoch id they leave. */
  private readonly outgoingOf: readonly EdgeList[];
  /** Per component: an epoch's id in its edge lists, -1 if none. */
  private readonly epochIdOf: readonly ((e: Epoch) => number)[];
  private readonly runnerAt: Uint8Array;
  private readonly explicitAt: readonly (ReadonlySet<Migration> | null)[];
  /** Per segment, made on first use: ownReach, and the departures from its own epoch. */
  private readonly reach: (Bits | null | undefined)[];
  private readonly departures: (readonly number[] | undefined)[];

  constructor(input: IndexInput) {
    const { releases, epochs, c, shipping } = input;
    const n = releases.length;
    const runner = Uint8Array.from(releases, (r) => (r.runner ? 1 : 0));
    const explicit = releases.map((_, r) => shipping.explicitOf(r));
    const index = new IndexBuilder(n, c, epochs, runner, explicit, shipping);
    const reachers = Array.from({ length: c }, () => new Map<Epoch, Bits>());
    const outgoingOf: EdgeList[] = [];
    const epochIdOf: ((e: Epoch) => number)[] = [];
    for (let ci = 0; ci < c; ci++) {
      const migs = input.migrationsOf[ci] as readonly Migration[];
      const { k, idOf, values } = index.epochIds(ci, migs, input.migrations);
      // Each migration's shipping interval, when it has exactly one (nearly always):
      // looked up once here for the cuts and both edge lists.
      const lo = new Int32Array(migs.length);
      const hi = new Int32Array(migs.length);
      const multi = index.shippingBounds(migs, lo, hi);
      const edges = edgeList(k, idOf, migs, "to", lo, hi);
      const outgoing = edgeList(k, idOf, migs, "from", lo, hi);
      outgoingOf[ci] = outgoing;
      epochIdOf[ci] = safeIdOf(k, values, idOf);
      const cut = index.cuts(ci, lo, hi, multi);
      const bits = index.segments(ci, k, idOf, values, edges, outgoing, cut);
      const byEpoch = reachers[ci] as Map<Epoch, Bits>;
      for (let id = 0; id < k; id++) {
        const b = bits[id];
        if (b) byEpoch.set(values[id] as number, b);
      }
    }
    this.n = n;
    this.c = c;
    this.shipping = shipping;
    this.outgoingOf = outgoingOf;
    this.epochIdOf = epochIdOf;
    this.runnerAt = runner;
    this.explicitAt = explicit;
    this.arrivalStart = index.start;
    this.arrivalEnd = index.end;
    this.arrivalEpoch = index.epochs.subarray(0, index.len);
    this.arrivalDist = index.dists.subarray(0, index.len);
    this.reachers = reachers;
    this.segmentOf = index.segment;
    this.depStart = index.depStart;
    this.depEnd = index.depEnd;
    this.depEpoch = index.depEpochs.subarray(0, index.dlen);
    this.depDist = index.depDists.subarray(0, index.dlen);
    this.reach = new Array(index.count).fill(undefined);
    this.departures = new Array(index.count).fill(undefined);
  }

  /** r's shipped migrations of ci leaving each epoch, both ends passing `keep` if given. */
  shippedEdges(r: number, ci: number, keep: ((e: Epoch) => boolean) | null): EpochEdges {
    const g = this.outgoingOf[ci] as EdgeList;
    const idOf = this.epochIdOf[ci] as (e: Epoch) => number;
    return (e) => {
      const id = idOf(e);
      if (id < 0 || (keep !== null && !keep(e))) return NO_MIGRATIONS;
      const out: Migration[] = [];
      const stop = g.first[id + 1] as number;
      for (let j = g.first[id] as number; j < stop; j++) {
        if (this.shipsEdge(g, j, r) && (keep === null || keep((g.mig[j] as Migration).to)))
          out.push(g.mig[j] as Migration);
      }
      return out;
    };
  }

  /** Does release r ship edge j of g? (What search() tests, the runner included.) */
  private shipsEdge(g: EdgeList, j: number, r: number): boolean {
    if (this.runnerAt[r] !== 1) return false;
    const l = g.lo[j] as number;
    return l >= 0
      ? (r >= l && r < (g.hi[j] as number)) ||
          this.explicitAt[r]?.has(g.mig[j] as Migration) === true
      : this.shipping.ships(r, g.mig[j] as Migration);
  }

  /**
   * The chain bestChain picks when the source can only run nothing (its scripts take its
   * data nowhere from `start`): the target's scripts alone, fewest first, then the
   * smallest id sequence, which along shortest paths is the smallest id at each step (ids
   * are unique). Walks r's arrival distances instead of searching; null when r's scripts
   * cannot reach its epoch from `start`.
   */
  bootChain(r: number, ci: number, start: Epoch): Migration[] | null {
    const s = this.segmentOf[r * this.c + ci] as number;
    const lo = this.arrivalStart[s] as number;
    const hi = this.arrivalEnd[s] as number;
    const epochs = this.arrivalEpoch;
    const dists = this.arrivalDist;
    let d = -1;
    for (let j = lo; j < hi; j++) {
      if (epochs[j] === start) {
        d = dists[j] as number;
        break;
      }
    }
    if (d < 0) return null;
    // r's arrivals are in breadth-first order from its epoch: the epochs at distance x
    // are the entries [first[x], first[x + 1]).
    const first = new Int32Array(d + 2).fill(hi);
    for (let j = hi - 1; j >= lo; j--) {
      const x = dists[j] as number;
      if (x <= d + 1) first[x] = j;
    }
    const g = this.outgoingOf[ci] as EdgeList;
    const idOf = this.epochIdOf[ci] as (e: Epoch) => number;
    const out: Migration[] = [];
    let x = start;
    while (d > 0) {
      let best: Migration | null = null;
      const id = idOf(x);
      const stop = id < 0 ? 0 : (g.first[id + 1] as number);
      const from = first[d - 1] as number;
      const to = first[d] as number;
      for (let j = id < 0 ? 0 : (g.first[id] as number); j < stop; j++) {
        const m = g.mig[j] as Migration;
        if (best !== null && m.id >= best.id) continue;
        let next = false;
        for (let q = from; q < to; q++) {
          if (epochs[q] === m.to) {
            next = true;
            break;
          }
        }
        if (next && this.shipsEdge(g, j, r)) best = m;
      }
      if (best === null) return null;
      out.push(best);
      x = best.to;
      d--;
    }
    return out;
  }

  /**
   * The epochs r's scripts take ci's data to from r's own epoch, as a flat
   * [epoch, dist, epoch, dist...] list (r's epoch first, at 0).
   */
  ownDepartures(r: number, ci: number): readonly number[] {
    // Releases of one segment ship the same scripts of ci from the same epoch: one list.
    const key = this.segmentOf[r * this.c + ci] as number;
    let list = this.departures[key];
    if (!list) {
      const out: number[] = [];
      for (let j = this.depStart[key] as number; j < (this.depEnd[key] as number); j++)
        out.push(this.depEpoch[j] as number, this.depDist[j] as number);
      list = out;
      this.departures[key] = list;
    }
    return list;
  }

  /** Fewest of r's own scripts from epoch e to r's epoch of ci; -1 when they cannot. */
  arrivalDistance(r: number, ci: number, e: number): number {
    const s = this.segmentOf[r * this.c + ci] as number;
    const hi = this.arrivalEnd[s] as number;
    // Arrival lists are short (a release ships a window of its history).
    for (let j = this.arrivalStart[s] as number; j < hi; j++)
      if (this.arrivalEpoch[j] === e) return this.arrivalDist[j] as number;
    return -1;
  }

  /** The releases that can take ci from release u's own data without wiping; null: none. */
  ownReach(u: number, ci: number): Bits | null {
    const k = u * this.c + ci;
    const key = this.segmentOf[k] as number;
    let reach = this.reach[key];
    if (reach === undefined) {
      const lo = this.depStart[key] as number;
      if ((this.depEnd[key] as number) - lo === 1)
        reach = this.reachers[ci]?.get(this.depEpoch[lo] as Epoch) ?? null;
      else {
        reach = bitsFor(this.n);
        this.reachableFor(this.ownDepartures(u, ci), ci, reach);
      }
      this.reach[key] = reach;
    }
    return reach;
  }

  /**
   * zero &= the releases that can take ci from what `departures` reach (reachableFor),
   * without building the union when there is one epoch, as there nearly always is.
   */
  andReachable(zero: Bits, departures: readonly number[], ci: number, scratch: Bits): void {
    if (departures.length === 2) {
      const b = this.reachers[ci]?.get(departures[0] as Epoch);
      if (b) andInto(zero, b);
      else zero.fill(0);
      return;
    }
    this.reachableFor(departures, ci, scratch);
    andInto(zero, scratch);
  }

  /**
   * The releases that can take component ci from data that `departures` can reach,
   * without wiping it: the union of the per-epoch bitsets, into `out`.
   */
  reachableFor(departures: readonly number[], ci: number, out: Bits): void {
    out.fill(0);
    const bits = this.reachers[ci] as Map<Epoch, Bits>;
    for (let i = 0; i < departures.length; i += 2) {
      const b = bits.get(departures[i] as Epoch);
      if (b) orInto(out, b);
    }
  }
}
