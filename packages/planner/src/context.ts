import {
  type Component,
  type Epoch,
  type Interval,
  type Migration,
  type Release,
  type ReleaseGraph,
  rangeIntervals,
  type ShippingIndex,
  shippingIndex,
  type VersionRange,
} from "@stepstone/graph";
import type { SemVer } from "semver";
import { andInto, type Bits, bitsFor, copyBits, orInto, setBit, setRange } from "./bits.js";

function grow(a: Int32Array, min: number): Int32Array {
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

import { type EpochEdges, groupByFrom, groupByTo } from "./chain.js";

/**
 * Everything about a graph that hop legality needs, indexed once per (graph, platform),
 * so planning over thousands of releases never recomputes it per pair:
 *
 * - epochs as a flat array (platform overrides applied);
 * - which release ships which script (index intervals, see ShippingIndex);
 * - per (release, component), the epochs from which that release's own scripts reach its
 *   epoch, with the fewest scripts from each ("arrivals"), and the epochs they take its
 *   data to ("departures"); both are searched once per segment of consecutive releases
 *   that ship the same scripts of the component, and shared by its releases;
 * - per (component, epoch), the bitset of releases whose arrivals contain that epoch: a
 *   device whose data can be brought (by its own image, before flashing) to one of those
 *   epochs can flash any release in the set without wiping the component. The releases a
 *   hop can reach are then a few bitset ANDs, and only those are costed exactly.
 *
 * Releases are addressed by their index in `graph.releases` (sorted by precedence, so
 * "B is higher than A" is `b > a`).
 */
export class PlanContext {
  readonly graph: ReleaseGraph;
  readonly platform: string | null;
  readonly releases: readonly Release[];
  readonly components: readonly Component[];
  readonly n: number;
  readonly c: number;
  /** epochs[r * c + ci], platform overrides applied. */
  readonly epochs: Int32Array;
  readonly wipeable: Uint8Array;
  readonly shipping: ShippingIndex;
  /** Per component, all its migrations by the epoch they leave / reach. */
  private readonly migrationsOf: readonly (readonly Migration[])[];
  /** Per component, its migrations by the epoch they leave (built on first use). */
  private readonly leaving: (Map<Epoch, Migration[]> | undefined)[];
  /** By the epoch they reach: only `suggest` asks, so built on first use. */
  private arriving: Map<Epoch, Migration[]>[] | null = null;
  /**
   * Per cell k = (r, ci): its segment s (releases that ship the same scripts of ci, see
   * buildArrivals); null until indexed. A segment's arrivals (epochs and distances) are
   * arrivalEpoch/arrivalDist[arrivalStart[s], arrivalEnd[s]), its departures likewise.
   */
  private segmentOf: Int32Array | null = null;
  private arrivalStart: Int32Array = new Int32Array(0);
  private arrivalEnd: Int32Array = new Int32Array(0);
  private arrivalEpoch: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private arrivalDist: Int32Array<ArrayBufferLike> = new Int32Array(0);
  /** Per component: epoch -> releases that can convert data from that epoch at boot. */
  private reachers: Map<Epoch, Bits>[] | null = null;
  private depStart: Int32Array = new Int32Array(0);
  private depEnd: Int32Array = new Int32Array(0);
  private depEpoch: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private depDist: Int32Array<ArrayBufferLike> = new Int32Array(0);
  /** Per component (after indexing): its migrations by the epoch id they leave. */
  private outgoingOf: EdgeList[] = [];
  /** Per component (after indexing): an epoch's id in its edge lists, -1 if none. */
  private epochIdOf: ((e: Epoch) => number)[] = [];
  private runnerAt: Uint8Array = new Uint8Array(0);
  private explicitAt: (ReadonlySet<Migration> | null)[] = [];
  /** ownReach and departures from its own epoch, per segment. */
  private reach: (Bits | null | undefined)[] = [];
  private departures: (readonly number[] | undefined)[] = [];
  private readonly upgradeSources: (Uint8Array | null | undefined)[];
  private readonly trusts: (ReadonlySet<string> | null)[];
  private readonly versions: readonly SemVer[];
  private readonly baseBits: (Bits | undefined)[];
  /** baseTargets of every release, row by row (built on first use). */
  private base: Uint32Array | null = null;
  private readonly admitted = new Map<string, Uint8Array>();

  constructor(graph: ReleaseGraph, platform: string | null) {
    this.graph = graph;
    this.platform = platform;
    this.releases = graph.releases;
    this.components = graph.components;
    this.n = graph.releases.length;
    this.c = graph.components.length;
    this.epochs = new Int32Array(this.n * this.c);
    const names = graph.components.map((comp) => comp.name);
    for (let ri = 0; ri < this.n; ri++)
      releaseEpochsInto(this.epochs, ri * this.c, graph.releases[ri] as Release, names, platform);
    this.wipeable = Uint8Array.from(graph.components, (comp) => (comp.wipeable ? 1 : 0));
    this.shipping = shippingIndex(graph);
    const byComponent: Migration[][] = graph.components.map(() => []);
    const indexOf = new Map(graph.components.map((comp, ci) => [comp.name, ci]));
    for (let i = 0; i < graph.migrations.length; i++) {
      const m = graph.migrations[i] as Migration;
      byComponent[indexOf.get(m.component) as number]?.push(m);
    }
    this.migrationsOf = byComponent;
    this.leaving = new Array(this.c);
    this.upgradeSources = new Array(this.n);
    this.trusts = graph.releases.map((r) => (r.trusts === null ? null : new Set(r.trusts)));
    this.versions = graph.releases.map((r) => r.semver);
    this.baseBits = new Array(this.n);
  }

  private leavingOf(ci: number): Map<Epoch, Migration[]> {
    let leaving = this.leaving[ci];
    if (leaving === undefined) {
      leaving = groupByFrom(this.migrationsOf[ci] as readonly Migration[]);
      this.leaving[ci] = leaving;
    }
    return leaving;
  }

  componentIndex(name: string): number {
    return this.components.findIndex((c) => c.name === name);
  }

  releaseEpochs(r: number): Int32Array {
    return this.epochs.subarray(r * this.c, (r + 1) * this.c);
  }

  epoch(r: number, ci: number): Epoch {
    return this.epochs[r * this.c + ci] as Epoch;
  }

  /** Component ci's migrations that release r ships, by the epoch they leave. */
  forwardEdges(r: number, ci: number): EpochEdges {
    return this.shippedEdges(r, ci, null);
  }

  /**
   * Like forwardEdges, keeping only the scripts that stay on a way to r's own epoch (both
   * ends among r's arrivals): the target side of a chain never needs the others, and a
   * target that ships a long history would otherwise send the chain search down all of it.
   */
  towardOwnEpoch(r: number, ci: number): EpochEdges {
    return this.shippedEdges(r, ci, (e) => this.arrivalDistance(r, ci, e) >= 0);
  }

  /** r's shipped migrations of ci leaving each epoch, both ends passing `keep` if given. */
  private shippedEdges(r: number, ci: number, keep: ((e: Epoch) => boolean) | null): EpochEdges {
    if (this.segmentOf === null) this.buildArrivals();
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
    if (this.segmentOf === null) this.buildArrivals();
    const s = (this.segmentOf as Int32Array)[r * this.c + ci] as number;
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

  /** All of component ci's migrations, shipped or not, by the epoch they leave. */
  allEdges(ci: number): EpochEdges {
    const leaving = this.leavingOf(ci);
    return (e) => leaving.get(e) ?? [];
  }

  /** All of component ci's migrations, by the epoch they reach. */
  allEdgesTo(ci: number): EpochEdges {
    if (this.arriving === null) this.arriving = this.migrationsOf.map(groupByTo);
    const arriving = this.arriving[ci] as Map<Epoch, Migration[]>;
    return (e) => arriving.get(e) ?? [];
  }

  /**
   * Epochs reachable from `start` with r's scripts, as a flat [epoch, dist, epoch, dist...]
   * list (start first, at 0). Cached for r's own epoch.
   */
  departuresFrom(r: number, ci: number, start: Epoch): readonly number[] {
    const k = r * this.c + ci;
    if (start === this.epochs[k]) {
      // Releases of one segment ship the same scripts of ci from the same epoch: one list.
      if (this.segmentOf === null) this.buildArrivals();
      const key = (this.segmentOf as Int32Array)[k] as number;
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
    const leaving = this.leavingOf(ci);
    const out = [start, 0];
    for (let i = 0; i < out.length; i += 2) {
      const e = out[i] as Epoch;
      const d = out[i + 1] as number;
      for (const m of leaving.get(e) ?? []) {
        if (!seenIn(out, m.to) && this.shipping.ships(r, m)) out.push(m.to, d + 1);
      }
    }
    return out;
  }

  /**
   * Builds every release's arrivals and departures and the per-epoch bitsets (once, on
   * first use): per component, the releases are cut into segments that ship the same
   * scripts, and each segment gets one search back from its epoch over the migrations
   * its releases ship (arrivals) and one forward (departures). This is the one pass over
   * the whole graph a plan pays for, so it works on flat typed arrays.
   */
  private buildArrivals(): void {
    const { n, c } = this;
    const runner = Uint8Array.from(this.releases, (r) => (r.runner ? 1 : 0));
    const explicit = this.releases.map((_, r) => this.shipping.explicitOf(r));
    const index = new IndexBuilder(n, c, this.epochs, runner, explicit, this.shipping);
    const reachers = this.components.map(() => new Map<Epoch, Bits>());
    for (let ci = 0; ci < c; ci++) {
      const migs = this.migrationsOf[ci] as readonly Migration[];
      const { k, idOf, values } = index.epochIds(ci, migs, this.graph.migrations.length);
      // Each migration's shipping interval, when it has exactly one (nearly always):
      // looked up once here for the cuts and both edge lists.
      const lo = new Int32Array(migs.length);
      const hi = new Int32Array(migs.length);
      const multi = index.shippingBounds(migs, lo, hi);
      const edges = edgeList(k, idOf, migs, "to", lo, hi);
      const outgoing = edgeList(k, idOf, migs, "from", lo, hi);
      this.outgoingOf[ci] = outgoing;
      this.epochIdOf[ci] = safeIdOf(k, values, idOf);
      const cut = index.cuts(ci, lo, hi, multi);
      const bits = index.segments(ci, k, idOf, values, edges, outgoing, cut);
      const byEpoch = reachers[ci] as Map<Epoch, Bits>;
      for (let id = 0; id < k; id++) {
        const b = bits[id];
        if (b) byEpoch.set(values[id] as number, b);
      }
    }
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

  /** Fewest scripts converting ci from `start` (data on a) to b's epoch; Infinity if none. */
  chainLength(a: number, start: Epoch, b: number, ci: number): number {
    if (start === this.epochs[b * this.c + ci]) return 0;
    return this.chainLengthVia(this.departuresFrom(a, ci, start), b, ci);
  }

  /** Like chainLength, with the source side's departures already known. */
  chainLengthVia(departures: readonly number[], b: number, ci: number): number {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < departures.length; i += 2) {
      const d = this.arrivalDistance(b, ci, departures[i] as number);
      if (d >= 0 && (departures[i + 1] as number) + d < best)
        best = (departures[i + 1] as number) + d;
    }
    return best;
  }

  /** Fewest of r's own scripts from epoch e to r's epoch of ci; -1 when they cannot. */
  private arrivalDistance(r: number, ci: number, e: number): number {
    if (this.segmentOf === null) this.buildArrivals();
    const s = (this.segmentOf as Int32Array)[r * this.c + ci] as number;
    const hi = this.arrivalEnd[s] as number;
    // Arrival lists are short (a release ships a window of its history).
    for (let j = this.arrivalStart[s] as number; j < hi; j++)
      if (this.arrivalEpoch[j] === e) return this.arrivalDist[j] as number;
    return -1;
  }

  /**
   * The releases that can take component ci from data that `departures` can reach,
   * without wiping it: the union of the per-epoch bitsets.
   */
  /**
   * The releases a hop from release u, with its data at u's own epochs, reaches without
   * wiping anything (rules 1-4): what zeroTargets computes, from per-segment reach sets
   * (no departure lists, no unions) since releases of a segment reach the same releases.
   */
  zeroFrom(u: number): Bits {
    const zero = copyBits(this.baseTargets(u));
    for (let ci = 0; ci < this.c; ci++) {
      const reach = this.ownReach(u, ci);
      if (reach === null) {
        zero.fill(0);
        break;
      }
      andInto(zero, reach);
    }
    return zero;
  }

  /** The releases that can take ci from release u's own data without wiping; null: none. */
  private ownReach(u: number, ci: number): Bits | null {
    if (this.segmentOf === null) this.buildArrivals();
    const k = u * this.c + ci;
    const key = (this.segmentOf as Int32Array)[k] as number;
    let reach = this.reach[key];
    if (reach === undefined) {
      const lo = this.depStart[key] as number;
      if ((this.depEnd[key] as number) - lo === 1)
        reach = (this.reachers as Map<Epoch, Bits>[])[ci]?.get(this.depEpoch[lo] as Epoch) ?? null;
      else {
        const deps = this.departuresFrom(u, ci, this.epochs[k] as Epoch);
        reach = bitsFor(this.n);
        this.reachableFor(deps, ci, reach);
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
    if (this.segmentOf === null) this.buildArrivals();
    if (departures.length === 2) {
      const b = (this.reachers as Map<Epoch, Bits>[])[ci]?.get(departures[0] as Epoch);
      if (b) andInto(zero, b);
      else zero.fill(0);
      return;
    }
    this.reachableFor(departures, ci, scratch);
    andInto(zero, scratch);
  }

  reachableFor(departures: readonly number[], ci: number, out: Bits): void {
    if (this.segmentOf === null) this.buildArrivals();
    out.fill(0);
    const bits = (this.reachers as Map<Epoch, Bits>[])[ci] as Map<Epoch, Bits>;
    for (let i = 0; i < departures.length; i += 2) {
      const b = bits.get(departures[i] as Epoch);
      if (b) orInto(out, b);
    }
  }

  /** Rules 1-3 for hops out of a: the releases that are not withdrawn, are trusted by a and admit a. */
  baseTargets(a: number): Bits {
    if (this.base === null) this.base = this.buildBase();
    let bits = this.baseBits[a];
    if (!bits) {
      const words = (this.n + 31) >>> 5;
      bits = this.base.subarray(a * words, (a + 1) * words);
      this.baseBits[a] = bits;
    }
    return bits;
  }

  /**
   * Every release's base targets (rules 1-3) in one sweep up the releases: who is listed
   * and who signs with which key are bitsets made once; the releases a restricts away
   * (rule 3: those above a whose upgradeFrom does not admit a) are kept as the union of
   * the upgradeFrom groups that do not admit the current release, which changes only
   * where a group's admitted interval starts or ends. Each release then costs one pass
   * over its words.
   */
  private buildBase(): Uint32Array {
    const n = this.n;
    const words = (n + 31) >>> 5;
    const listed = bitsFor(n);
    const byKey = new Map<string, Bits>();
    const groups = new Map<string, { admitted: Uint8Array; members: Bits }>();
    for (let b = 0; b < n; b++) {
      const r = this.releases[b] as Release;
      if (!r.withdrawn) setBit(listed, b);
      if (r.signedBy !== null) {
        let kb = byKey.get(r.signedBy);
        if (!kb) {
          kb = bitsFor(n);
          byKey.set(r.signedBy, kb);
        }
        setBit(kb, b);
      }
      if (r.upgradeFrom !== null) {
        let g = groups.get(r.upgradeFrom.raw);
        if (!g) {
          g = { admitted: this.admittedBy(r.upgradeFrom), members: bitsFor(n) };
          groups.set(r.upgradeFrom.raw, g);
        }
        setBit(g.members, b);
      }
    }
    // The releases a key list trusts: one bitset per distinct list.
    const trustedBy = new Map<string, Bits>();
    const trustedOf = (keys: readonly string[]): Bits => {
      const id = JSON.stringify(keys);
      let t = trustedBy.get(id);
      if (!t) {
        t = bitsFor(n);
        for (let i = 0; i < keys.length; i++) {
          const kb = byKey.get(keys[i] as string);
          if (kb) orInto(t, kb);
        }
        trustedBy.set(id, t);
      }
      return t;
    };
    const list = [...groups.values()];
    // Groups are disjoint (a release has one upgradeFrom), so a group that starts
    // admitting again can clear its members from the union.
    const admits = new Uint8Array(list.length).fill(1);
    const excluded = bitsFor(n);
    const all = new Uint32Array(n * words);
    for (let a = 0; a < n; a++) {
      for (let gi = 0; gi < list.length; gi++) {
        const g = list[gi] as { admitted: Uint8Array; members: Bits };
        const now = g.admitted[a] as number;
        if (now === admits[gi]) continue;
        admits[gi] = now;
        for (let w = 0; w < words; w++)
          excluded[w] =
            now === 1
              ? (excluded[w] as number) & ~(g.members[w] as number)
              : (excluded[w] as number) | (g.members[w] as number);
      }
      const keys = (this.releases[a] as Release).trusts;
      baseRow(all, a, words, listed, keys === null ? listed : trustedOf(keys), excluded);
    }
    return all;
  }

  /** Rule 2: does a accept b's signature? */
  trusted(a: number, b: number): boolean {
    const t = this.trusts[a];
    if (t === null || t === undefined) return true;
    const key = this.releases[b]?.signedBy;
    return key !== null && key !== undefined && t.has(key);
  }

  /** Rule 3: when b is higher than a, does a satisfy b's upgradeFrom? */
  upgradeAllowed(a: number, b: number): boolean {
    if (b <= a) return true;
    let allowed = this.upgradeSources[b];
    if (allowed === undefined) {
      const range = this.releases[b]?.upgradeFrom ?? null;
      allowed = range === null ? null : this.admittedBy(range);
      this.upgradeSources[b] = allowed;
    }
    return allowed === null || allowed[a] === 1;
  }

  /** The sources a range admits (one array per distinct range: releases share stops). */
  private admittedBy(range: VersionRange): Uint8Array {
    let allowed = this.admitted.get(range.raw);
    if (allowed === undefined) {
      allowed = new Uint8Array(this.n);
      for (const [lo, hi] of rangeIntervals(range, this.versions)) allowed.fill(1, lo, hi);
      this.admitted.set(range.raw, allowed);
    }
    return allowed;
  }
}

const NO_MIGRATIONS: readonly Migration[] = Object.freeze([]);

/** idOf for any epoch: -1 for one the component's releases and migrations never name. */
function safeIdOf(k: number, values: Int32Array, idOf: (e: Epoch) => number): (e: Epoch) => number {
  return (e) => {
    if (k === 0) return -1;
    const id = idOf(e);
    return id !== undefined && id >= 0 && id < k && values[id] === e ? id : -1;
  };
}

/** Is epoch e among the epochs of a flat [epoch, dist, ...] list? (Lists are short.) */
function seenIn(list: readonly number[], e: number): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === e) return true;
  return false;
}

/** One release's epochs (platform overrides applied) into out[offset...]. */
function releaseEpochsInto(
  out: Int32Array,
  offset: number,
  r: Release,
  names: readonly string[],
  platform: string | null,
): void {
  const over = platform === null ? undefined : r.platforms[platform]?.epochs;
  for (let ci = 0; ci < names.length; ci++) {
    const name = names[ci] as string;
    out[offset + ci] = over?.[name] ?? (r.epochs[name] as Epoch);
  }
}

/**
 * Row a of the base targets: listed, trusted by a, and not above a unless its
 * upgradeFrom admits a (`excluded`: the releases whose upgradeFrom does not), a itself
 * left out.
 */
function baseRow(
  all: Uint32Array,
  a: number,
  words: number,
  listed: Bits,
  trusted: Bits,
  excluded: Bits,
): void {
  const aw = a >>> 5;
  // Rule 3 restricts upgrades only: the bits above a.
  const above = (a & 31) === 31 ? 0 : (0xffffffff << ((a & 31) + 1)) >>> 0;
  const row = a * words;
  for (let w = 0; w < words; w++) {
    const x = w < aw ? 0 : w === aw ? (excluded[w] as number) & above : (excluded[w] as number);
    all[row + w] = (listed[w] as number) & (trusted[w] as number) & ~x;
  }
  all[row + aw] = (all[row + aw] as number) & ~(1 << (a & 31));
}

/**
 * buildArrivals' arrays and its passes over one component, as small methods: V8 then
 * optimizes each after a few components, where one function doing it all took longer to
 * compile (in the background) than to run.
 */
class IndexBuilder {
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

/**
 * One component's migrations as edges between dense epoch ids, grouped by one end and
 * flattened: the edges of epoch t are [first[t], first[t + 1]), `next` their other end.
 */
interface EdgeList {
  readonly first: Int32Array;
  readonly next: Int32Array;
  /** The one shipping interval [lo, hi) of each edge's migration ([0, 0) for none); lo -1 when it has several. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly mig: readonly Migration[];
}

function edgeList(
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
function search(
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
