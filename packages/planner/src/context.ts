import {
  type Component,
  type Epoch,
  type Migration,
  type Release,
  type ReleaseGraph,
  rangeIntervals,
  type ShippingIndex,
  shippingIndex,
  type VersionRange,
} from "@stepstone/graph";
import type { SemVer } from "semver";
import { baseTargetRows } from "./base.js";
import type { Bits } from "./bits.js";
import { type EpochEdges, groupByFrom, groupByTo } from "./chain.js";
import { ArrivalIndex } from "./index/arrivals.js";

/**
 * A graph as hop legality reads it, for one platform: the releases' epochs as a flat array
 * (platform overrides applied), which release ships which script (ShippingIndex), and the
 * rules of DESIGN.md "Hop legality" one hop at a time: trust (rule 2), upgradeFrom (rule
 * 3), the runner and the chains of rule 4. What planning over thousands of releases needs
 * on top, indexed once, is `index` (arrivals, departures, reach bitsets; built on first
 * use) and `baseTargets` (rules 1-3 for every hop, as bitset rows).
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
  /** Per component, all its migrations. */
  private readonly migrationsOf: readonly (readonly Migration[])[];
  /** Per component, its migrations by the epoch they leave (built on first use). */
  private readonly leaving: (Map<Epoch, Migration[]> | undefined)[];
  /** By the epoch they reach: only `suggest` asks, so built on first use. */
  private arriving: Map<Epoch, Migration[]>[] | null = null;
  private arrivals: ArrivalIndex | null = null;
  private readonly upgradeSources: (Uint8Array | null | undefined)[];
  private readonly trusts: (ReadonlySet<string> | null)[];
  private readonly versions: readonly SemVer[];
  /** baseTargets of every release, row by row (built on first use), and each row's view. */
  private base: Uint32Array | null = null;
  private readonly baseBits: (Bits | undefined)[];
  private readonly admitted = new Map<string, Uint8Array>();
  private byVersion: Map<string, number> | null = null;

  constructor(graph: ReleaseGraph, platform: string | null) {
    this.graph = graph;
    this.platform = platform;
    this.releases = graph.releases;
    this.components = graph.components;
    this.n = graph.releases.length;
    this.c = graph.components.length;
    this.epochs = new Int32Array(this.n * this.c);
    const names = graph.components.map((comp) => comp.name);
    for (const [ri, r] of graph.releases.entries())
      releaseEpochsInto(this.epochs, ri * this.c, r, names, platform);
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

  /**
   * The index of a release of this graph, given as itself, its version or its index: the
   * public functions take releases, the searches work on indices.
   */
  releaseIndex(r: Release | string | number): number {
    if (typeof r === "number") return r;
    this.byVersion ??= new Map(this.releases.map((x, i) => [x.version, i]));
    const i = this.byVersion.get(typeof r === "string" ? r : r.version);
    if (i === undefined)
      throw new Error(`${typeof r === "string" ? r : r.version}: not a release of this graph`);
    return i;
  }

  /** The release at index `i` (a search's node); an index out of range is a bug. */
  release(i: number): Release {
    const r = this.releases[i];
    if (r === undefined) throw new RangeError(`internal: no release at index ${i}`);
    return r;
  }

  /** The component at index `ci`; an index out of range is a bug. */
  component(ci: number): Component {
    const c = this.components[ci];
    if (c === undefined) throw new RangeError(`internal: no component at index ${ci}`);
    return c;
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

  /** The arrival index (see ArrivalIndex), built on first use: one pass over the graph. */
  get index(): ArrivalIndex {
    this.arrivals ??= new ArrivalIndex({
      releases: this.releases,
      epochs: this.epochs,
      c: this.c,
      shipping: this.shipping,
      migrationsOf: this.migrationsOf,
      migrations: this.graph.migrations.length,
    });
    return this.arrivals;
  }

  /** Component ci's migrations that release r ships, by the epoch they leave. */
  forwardEdges(r: number, ci: number): EpochEdges {
    return this.index.shippedEdges(r, ci, null);
  }

  /**
   * Like forwardEdges, keeping only the scripts that stay on a way to r's own epoch (both
   * ends among r's arrivals): the target side of a chain never needs the others, and a
   * target that ships a long history would otherwise send the chain search down all of it.
   */
  towardOwnEpoch(r: number, ci: number): EpochEdges {
    const index = this.index;
    return index.shippedEdges(r, ci, (e) => index.arrivalDistance(r, ci, e) >= 0);
  }

  /**
   * The chain bestChain picks when the source's scripts take its data nowhere from
   * `start`: the target's scripts alone (see ArrivalIndex.bootChain).
   */
  bootChain(r: number, ci: number, start: Epoch): Migration[] | null {
    return this.index.bootChain(r, ci, start);
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
   * list (start first, at 0). From r's own epoch, the index's list.
   */
  departuresFrom(r: number, ci: number, start: Epoch): readonly number[] {
    if (start === this.epochs[r * this.c + ci]) return this.index.ownDepartures(r, ci);
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

  /** Fewest scripts converting ci from `start` (data on a) to b's epoch; Infinity if none. */
  chainLength(a: number, start: Epoch, b: number, ci: number): number {
    if (start === this.epochs[b * this.c + ci]) return 0;
    return this.chainLengthVia(this.departuresFrom(a, ci, start), b, ci);
  }

  /** Like chainLength, with the source side's departures already known. */
  chainLengthVia(departures: readonly number[], b: number, ci: number): number {
    const index = this.index;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < departures.length; i += 2) {
      const d = index.arrivalDistance(b, ci, departures[i] as number);
      if (d >= 0 && (departures[i + 1] as number) + d < best)
        best = (departures[i + 1] as number) + d;
    }
    return best;
  }

  /** Rules 1-3 for hops out of a: the releases that are not withdrawn, are trusted by a and admit a. */
  baseTargets(a: number): Bits {
    this.base ??= baseTargetRows(this.releases, (range) => this.admittedBy(range));
    let bits = this.baseBits[a];
    if (!bits) {
      const words = (this.n + 31) >>> 5;
      bits = this.base.subarray(a * words, (a + 1) * words);
      this.baseBits[a] = bits;
    }
    return bits;
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
