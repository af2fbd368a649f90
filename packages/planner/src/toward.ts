import type { Release } from "@stepstone/graph";
import { type Bits, bitsFor, hasBit, setBit } from "./bits.js";
import type { PlanContext } from "./context.js";
import { costedWipes, departuresOf, outEdges, scriptsOf, zeroTargets } from "./edges.js";
import { hopDetail, type Origin } from "./hop.js";
import {
  allowMask,
  type Plan,
  type PlanResult,
  type PlanStep,
  planFrom,
  releaseOrigin,
} from "./plan.js";
import { reverseGraph } from "./reverse.js";

/**
 * Many devices, one target: the best plan of every origin to one release, from one search
 * backward from the target instead of one search forward per origin (a fleet has
 * thousands of distinct device states; `plan` costs milliseconds each).
 *
 * It gives what `plan` gives, because the plan's order has optimal suffixes: after its
 * first hop a device runs a release with that release's own data, so the rest of its best
 * plan is that release's best plan (costs add up hop by hop, and "higher stops first" is
 * decided by the first stop, then by the rest). The backward search settles releases in
 * cost order; every hop adds a hop, so all ties for a release are known when it settles,
 * and the highest next stop wins them.
 */
export interface PlansToward {
  readonly to: Release;
  /** Exactly `plan`'s answer for this origin (its device epochs by component index). */
  plan(from: number, deviceEpochs?: Int32Array): PlanResult;
  /**
   * That plan's releases and wipes without its scripts (cheap: a fleet's report needs
   * these for every class); null when there is no plan.
   */
  route(from: number, deviceEpochs?: Int32Array): Route | null;
}

/** A plan without its scripts. */
export interface Route {
  readonly hops: number;
  readonly wipes: number;
  readonly transitions: number;
  readonly scripts: number;
  /** The releases flashed, in order (the last is the target), each with what it wipes. */
  readonly steps: readonly { readonly to: Release; readonly wipe: readonly string[] }[];
}

export interface TowardRequest {
  to: number;
  /** Components a plan may wipe (names), or "all" wipeable ones. Default none. */
  allowWipe?: readonly string[] | "all";
}

/** Lexicographic (wipes, hops, transitions, scripts). */
type Cost = [number, number, number, number];
const cmp = (a: Cost, b: Cost) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];

export function plansToward(ctx: PlanContext, req: TowardRequest): PlansToward {
  const to = req.to;
  const target = ctx.release(to);
  const allow = allowMask(ctx, req.allowWipe ?? "none");
  const direct = (from: number, deviceEpochs?: Int32Array) =>
    planFrom(
      ctx,
      { release: from, epochs: deviceEpochs ?? ctx.releaseEpochs(from) },
      to,
      req.allowWipe,
    );
  if (target.withdrawn) {
    // Never a target (but for a device already there): `plan` says so with its blockers.
    const stays = (from: number, epochs?: Int32Array) =>
      from === to && (epochs === undefined || sameEpochs(ctx, { release: from, epochs }));
    return {
      to: target,
      plan: direct,
      route: (from, epochs) =>
        stays(from, epochs) ? { hops: 0, wipes: 0, transitions: 0, scripts: 0, steps: [] } : null,
    };
  }
  const n = ctx.n;
  const { into, departures } = reverseGraph(ctx, allow);
  const edgeScripts = (i: number, u: number, v: number): number => {
    let s = into.scripts[i] as number;
    if (s < 0) {
      let deps = departures[u];
      if (deps === undefined) {
        deps = departuresOf(ctx, releaseOrigin(ctx, u));
        departures[u] = deps;
      }
      s = scriptsOf(ctx, releaseOrigin(ctx, u), deps, v);
      into.scripts[i] = s;
    }
    return s;
  };
  const dist: (Cost | null)[] = new Array(n).fill(null);
  const next = new Int32Array(n).fill(-1);
  dist[to] = [0, 0, 0, 0];
  const settled = new Uint8Array(n);
  const heap = new Heap();
  heap.push(to, dist[to] as Cost);
  while (heap.size > 0) {
    const { node: v, cost } = heap.pop();
    if (settled[v] === 1 || cmp(cost, dist[v] as Cost) !== 0) continue;
    settled[v] = 1;
    const dv = dist[v] as Cost;
    const tAdd = v !== to && ctx.release(v).transition ? 1 : 0;
    for (let i = into.start[v] as number; i < (into.start[v + 1] as number); i++) {
      const u = into.from[i] as number;
      if (settled[u] === 1) continue;
      const cand: Cost = [(into.wipes[i] as number) + dv[0], 1 + dv[1], tAdd + dv[2], 0];
      const du = dist[u];
      // Scripts only when the other terms do not decide.
      const head = du == null ? -1 : cand[0] - du[0] || cand[1] - du[1] || cand[2] - du[2];
      if (head > 0) continue;
      cand[3] = edgeScripts(i, u, v) + dv[3];
      const c = head < 0 ? -1 : cmp(cand, du as Cost);
      // Equal cost: the higher next stop.
      if (c < 0 || (c === 0 && v > (next[u] as number))) {
        dist[u] = cand;
        next[u] = v;
        if (c < 0) heap.push(u, cand);
      }
    }
  }

  /** The first hop of an origin and the plan's cost, or null when none reaches the target. */
  const first = (origin: Origin): { hop: number; cost: Cost } | null => {
    if (sameEpochs(ctx, origin)) {
      const d = dist[origin.release];
      return d && origin.release !== to ? { hop: next[origin.release] as number, cost: d } : null;
    }
    if (!wipesAllowed) return firstWithoutWipes(origin);
    const edges = outEdges(ctx, origin, allow);
    let best: { hop: number; cost: Cost } | null = null;
    const consider = (v: number, w: number, s: number) => {
      const d = dist[v];
      if (!d) return;
      const tAdd = v !== to && ctx.release(v).transition ? 1 : 0;
      const cost: Cost = [w + d[0], 1 + d[1], tAdd + d[2], s + d[3]];
      const c = best === null ? -1 : cmp(cost, best.cost);
      if (c < 0 || (c === 0 && best !== null && v > best.hop)) best = { hop: v, cost };
    };
    for (let i = 0; i < edges.zero.length; i += 2)
      consider(edges.zero[i] as number, 0, edges.zero[i + 1] as number);
    for (let k = 1; k < edges.byWipes.length; k++) {
      const pairs = costedWipes(ctx, origin, edges, k);
      for (let i = 0; i < pairs.length; i += 2)
        consider(pairs[i] as number, k, pairs[i + 1] as number);
    }
    return best;
  };

  const wipesAllowed = allow.some((x) => x === 1);
  /**
   * The first hop when no hop may wipe: the zero-wipe targets as a bitset, and the scripts
   * of a hop (the last of the cost's terms) costed only for the targets that tie on the
   * others (costing every target's scripts is most of the work for a device).
   */
  /** The cost of a first hop to v but for its scripts: (wipes, hops, transitions). */
  const headOf = (v: number): Cost => {
    const d = dist[v] as Cost;
    const tAdd = v !== to && ctx.release(v).transition ? 1 : 0;
    return [d[0], 1 + d[1], tAdd + d[2], 0];
  };
  let ordered: Int32Array | null = null;
  /** headOf as one number (each term far below 2^17): equal heads, equal keys. */
  const keys = new Float64Array(n);
  /** The releases with a plan, by headOf (then higher first, as ties go). */
  const byHead = (): Int32Array => {
    if (ordered === null) {
      const list: number[] = [];
      for (let v = 0; v < n; v++) {
        if (!dist[v]) continue;
        const h = headOf(v);
        keys[v] = (h[0] * 131072 + h[1]) * 131072 + h[2];
        list.push(v);
      }
      list.sort((a, b) => (keys[a] as number) - (keys[b] as number) || b - a);
      ordered = Int32Array.from(list);
    }
    return ordered;
  };
  const firstWithoutWipes = (origin: Origin): { hop: number; cost: Cost } | null => {
    const deps = departuresOf(ctx, origin);
    const zero = zeroTargets(ctx, origin, deps);
    // The candidates in cost order: the first one this origin can hop to sets the head of
    // the cost, and those after it with the same head tie (scripts decide among them).
    const ord = byHead();
    let i = 0;
    while (i < ord.length && !hasBit(zero, ord[i] as number)) i++;
    if (i === ord.length) return null;
    const lead = ord[i] as number;
    const tied = [lead];
    for (let j = i + 1; j < ord.length && keys[ord[j] as number] === keys[lead]; j++)
      if (hasBit(zero, ord[j] as number)) tied.push(ord[j] as number);
    const head = headOf(lead);
    let best: { hop: number; cost: Cost } | null = null;
    for (const v of tied) {
      const s = scriptsOf(ctx, origin, deps, v) + ((dist[v] as Cost)[3] as number);
      const h = head as Cost;
      const cost: Cost = [h[0], h[1], h[2], s];
      const c = best === null ? -1 : cmp(cost, best.cost);
      if (c < 0 || (c === 0 && best !== null && v > best.hop)) best = { hop: v, cost };
    }
    return best;
  };

  const originOf = (from: number, deviceEpochs?: Int32Array): Origin => ({
    release: from,
    epochs: deviceEpochs ?? ctx.releaseEpochs(from),
  });
  const staysPut = (origin: Origin) => origin.release === to && sameEpochs(ctx, origin);

  return {
    to: target,
    route(from, deviceEpochs) {
      const origin = originOf(from, deviceEpochs);
      if (staysPut(origin)) return { hops: 0, wipes: 0, transitions: 0, scripts: 0, steps: [] };
      const f = first(origin);
      if (f === null) return null;
      const steps: Route["steps"][number][] = [];
      // Only a hop that wipes needs its detail (which components); most wipe nothing.
      const wipesOf = (at: Origin, v: number, wipes: number) =>
        wipes === 0 ? [] : hopDetail(ctx, at, v).wipe;
      const rest = (v: number) => (dist[v] as Cost)[0];
      steps.push({
        to: ctx.release(f.hop),
        wipe: wipesOf(origin, f.hop, f.cost[0] - rest(f.hop)),
      });
      for (let v = f.hop; v !== to; v = next[v] as number) {
        const w = next[v] as number;
        steps.push({
          to: ctx.release(w),
          wipe: wipesOf(releaseOrigin(ctx, v), w, rest(v) - rest(w)),
        });
      }
      return {
        hops: f.cost[1],
        wipes: f.cost[0],
        transitions: f.cost[2],
        scripts: f.cost[3],
        steps,
      };
    },
    plan(from, deviceEpochs) {
      const origin = originOf(from, deviceEpochs);
      if (staysPut(origin)) {
        const rel = ctx.release(from);
        return { reachable: true, plan: planOf(ctx, rel, rel, [], [0, 0, 0, 0]) };
      }
      const f = first(origin);
      // No plan: `plan` explains why, with the same blockers as for one device.
      if (f === null) return direct(from, deviceEpochs);
      const steps: PlanStep[] = [];
      let at = origin;
      for (let v = f.hop; ; v = next[v] as number) {
        steps.push({
          ...hopDetail(ctx, at, v),
          transition: ctx.release(v).transition,
        });
        if (v === to) break;
        at = releaseOrigin(ctx, v);
      }
      const res = planOf(ctx, ctx.release(from), target, steps, f.cost);
      return { reachable: true, plan: res };
    },
  };
}

/**
 * "Where can these devices go?": for each target, whether an origin has a plan there
 * without a wipe. One backward search per target over the hops that wipe nothing, and the
 * first hops of an origin once for all targets (they do not depend on the target).
 */
export function reachWithoutWipes(
  ctx: PlanContext,
  targets: readonly number[],
): (from: number, deviceEpochs?: Int32Array) => boolean[] {
  const { into } = reverseGraph(ctx, allowMask(ctx, "none"));
  const reach: Bits[] = targets.map((to) => {
    const bits = bitsFor(ctx.n);
    // A device already there stays (even on a withdrawn release: it is never a target).
    setBit(bits, to);
    if (ctx.release(to).withdrawn) return bits;
    const queue = [to];
    for (let k = 0; k < queue.length; k++) {
      const v = queue[k] as number;
      for (let i = into.start[v] as number; i < (into.start[v + 1] as number); i++) {
        const u = into.from[i] as number;
        if (hasBit(bits, u)) continue;
        setBit(bits, u);
        queue.push(u);
      }
    }
    return bits;
  });
  return (from, deviceEpochs) => {
    const origin: Origin = { release: from, epochs: deviceEpochs ?? ctx.releaseEpochs(from) };
    if (sameEpochs(ctx, origin)) return reach.map((bits) => hasBit(bits, from));
    const first = zeroTargets(ctx, origin, departuresOf(ctx, origin));
    return reach.map((bits) => {
      for (let w = 0; w < bits.length; w++)
        if (((bits[w] as number) & (first[w] as number)) !== 0) return true;
      return false;
    });
  };
}

function planOf(ctx: PlanContext, from: Release, to: Release, steps: PlanStep[], cost: Cost): Plan {
  return {
    from,
    to,
    platform: ctx.platform,
    hops: cost[1],
    wipes: cost[0],
    transitions: cost[2],
    scripts: cost[3],
    steps,
  };
}

function sameEpochs(ctx: PlanContext, origin: Origin): boolean {
  const own = ctx.releaseEpochs(origin.release);
  for (let i = 0; i < ctx.c; i++) if (own[i] !== origin.epochs[i]) return false;
  return true;
}

/** A binary min-heap of (node, cost); stale entries are skipped by the caller. */
class Heap {
  private nodes: number[] = [];
  private costs: Cost[] = [];
  get size(): number {
    return this.nodes.length;
  }
  push(node: number, cost: Cost): void {
    this.nodes.push(node);
    this.costs.push(cost);
    let i = this.nodes.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (cmp(this.costs[p] as Cost, this.costs[i] as Cost) <= 0) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { node: number; cost: Cost } {
    const top = { node: this.nodes[0] as number, cost: this.costs[0] as Cost };
    const last = this.nodes.length - 1;
    this.swap(0, last);
    this.nodes.pop();
    this.costs.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.nodes.length && cmp(this.costs[l] as Cost, this.costs[m] as Cost) < 0) m = l;
      if (r < this.nodes.length && cmp(this.costs[r] as Cost, this.costs[m] as Cost) < 0) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private swap(i: number, j: number): void {
    const n = this.nodes[i] as number;
    this.nodes[i] = this.nodes[j] as number;
    this.nodes[j] = n;
    const c = this.costs[i] as Cost;
    this.costs[i] = this.costs[j] as Cost;
    this.costs[j] = c;
  }
}
