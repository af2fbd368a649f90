import {
  type Component,
  type Epoch,
  type Migration,
  type Release,
  type ReleaseGraph,
  rangeIntervals,
  type ShippingIndex,
  shippingIndex,
} from "@stepstone/graph";
import type { SemVer } from "semver";
import { chainLength, distancesFrom, distancesTo, type EpochEdges, groupByFrom, groupByTo } from "./chain.js";

/**
 * Everything about a graph that hop legality needs, indexed once per (graph, platform)
 * so that planning over thousands of releases never recomputes it per pair:
 * epochs as a flat array, which release ships which script (as index intervals), the
 * sources each `upgradeFrom` admits as a bitmap, and per-(release, component) distances.
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
  private readonly leaving: Map<Epoch, Migration[]>[];
  private readonly arriving: Map<Epoch, Migration[]>[];
  private readonly fwdDist: (Map<Epoch, number> | undefined)[];
  private readonly bwdDist: (Map<Epoch, number> | undefined)[];
  private readonly upgradeSources: (Uint8Array | null | undefined)[];
  private readonly trusts: (ReadonlySet<string> | null)[];
  private readonly versions: readonly SemVer[];

  constructor(graph: ReleaseGraph, platform: string | null) {
    this.graph = graph;
    this.platform = platform;
    this.releases = graph.releases;
    this.components = graph.components;
    this.n = graph.releases.length;
    this.c = graph.components.length;
    this.epochs = new Int32Array(this.n * this.c);
    graph.releases.forEach((r, ri) => {
      const over = platform === null ? undefined : r.platforms[platform]?.epochs;
      graph.components.forEach((comp, ci) => {
        this.epochs[ri * this.c + ci] = over?.[comp.name] ?? (r.epochs[comp.name] as Epoch);
      });
    });
    this.wipeable = Uint8Array.from(graph.components, (comp) => (comp.wipeable ? 1 : 0));
    this.shipping = shippingIndex(graph);
    const byComponent = graph.components.map((comp) => graph.migrations.filter((m) => m.component === comp.name));
    this.leaving = byComponent.map(groupByFrom);
    this.arriving = byComponent.map(groupByTo);
    const cells = this.n * this.c;
    this.fwdDist = new Array(cells);
    this.bwdDist = new Array(cells);
    this.upgradeSources = new Array(this.n);
    this.trusts = graph.releases.map((r) => (r.trusts === null ? null : new Set(r.trusts)));
    this.versions = graph.releases.map((r) => r.semver);
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
    const leaving = this.leaving[ci] as Map<Epoch, Migration[]>;
    return (e) => (leaving.get(e) ?? []).filter((m) => this.shipping.ships(r, m));
  }

  /** Component ci's migrations that release r ships, by the epoch they reach. */
  private backwardEdges(r: number, ci: number): EpochEdges {
    const arriving = this.arriving[ci] as Map<Epoch, Migration[]>;
    return (e) => (arriving.get(e) ?? []).filter((m) => this.shipping.ships(r, m));
  }

  /** All of component ci's migrations, shipped or not. */
  allEdges(ci: number): EpochEdges {
    const leaving = this.leaving[ci] as Map<Epoch, Migration[]>;
    return (e) => leaving.get(e) ?? [];
  }

  /** All of component ci's migrations, by the epoch they reach. */
  allEdgesTo(ci: number): EpochEdges {
    const arriving = this.arriving[ci] as Map<Epoch, Migration[]>;
    return (e) => arriving.get(e) ?? [];
  }

  /** Epochs reachable from `start` with r's scripts, with the fewest scripts to each. */
  private distFrom(r: number, ci: number, start: Epoch): Map<Epoch, number> {
    const k = r * this.c + ci;
    if (start !== this.epochs[k]) return distancesFrom(start, this.forwardEdges(r, ci));
    let d = this.fwdDist[k];
    if (d === undefined) {
      d = distancesFrom(start, this.forwardEdges(r, ci));
      this.fwdDist[k] = d;
    }
    return d;
  }

  /** Epochs from which r's scripts reach r's own epoch, with the fewest scripts. */
  private distTo(r: number, ci: number): Map<Epoch, number> {
    const k = r * this.c + ci;
    let d = this.bwdDist[k];
    if (d === undefined) {
      d = distancesTo(this.epochs[k] as Epoch, this.backwardEdges(r, ci));
      this.bwdDist[k] = d;
    }
    return d;
  }

  /** Fewest scripts converting ci from `start` (data on a) to b's epoch; Infinity if none. */
  chainLength(a: number, start: Epoch, b: number, ci: number): number {
    if (start === this.epochs[b * this.c + ci]) return 0;
    return chainLength(this.distFrom(a, ci, start), this.distTo(b, ci));
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
      if (range === null) allowed = null;
      else {
        allowed = new Uint8Array(this.n);
        for (const [lo, hi] of rangeIntervals(range, this.versions)) allowed.fill(1, lo, hi);
      }
      this.upgradeSources[b] = allowed;
    }
    return allowed === null || allowed[a] === 1;
  }
}
