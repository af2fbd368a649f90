import { InputError } from "@stepstone/errors";
import type { Epoch, Release } from "@stepstone/graph";
import { assemblePlan, emptyPlan, higherStops, type Plan } from "./assemble.js";
import type { PlanContext } from "./context.js";
import { costedWipes, type OutEdges, outEdges } from "./edges.js";
import {
  allowMask,
  type Blocker,
  blockersOf,
  type Origin,
  releaseOrigin,
  type WipeAllowance,
  type WipeMask,
} from "./hop.js";

export { allowMask, releaseOrigin } from "./hop.js";

import { planWithoutWipes } from "./shortest.js";

export type { Plan, PlanStep } from "./assemble.js";

export type PlanResult =
  | { readonly reachable: true; readonly plan: Plan }
  | {
      readonly reachable: false;
      readonly from: Release;
      readonly to: Release;
      readonly platform: string | null;
      readonly blockers: readonly Blocker[];
    };

/**
 * Best paths from one origin to every release (a Dijkstra over releases). The cost of a
 * path is compared as DESIGN.md orders it: wipes, hops, transition releases used as
 * intermediate stops, scripts; equal costs prefer higher versions, comparing the stops
 * one by one from the first. That order is preserved by extending two paths with the
 * same hop, and every hop adds a hop, so a settled release's path is final.
 */
export interface PathTree {
  readonly origin: Origin;
  /** Node `n` (one past the last release) is the origin itself. */
  readonly parent: Int32Array;
  readonly wipes: Int32Array;
  readonly hops: Int32Array;
  readonly transitions: Int32Array;
  readonly scripts: Int32Array;
}

const UNREACHED = -1;
/**
 * Heap entries are releases (kind NODE) or deferred batches of hops that wipe `kind`
 * components. At equal cost a batch comes first: its hops may reach a release at that
 * same cost with higher stops, which must be seen before the release is settled.
 */
const NODE = 1 << 30;

export function pathTree(
  ctx: PlanContext,
  origin: Origin,
  allow: WipeMask,
  stopAt?: ReadonlySet<number>,
): PathTree {
  const n = ctx.n;
  const src = n;
  const size = n + 1;
  const parent = new Int32Array(size).fill(UNREACHED);
  const wipes = new Int32Array(size).fill(-1);
  const hops = new Int32Array(size);
  const transitions = new Int32Array(size);
  const scripts = new Int32Array(size);
  const settled = new Uint8Array(size);
  wipes[src] = 0;
  parent[src] = src;
  const heap = new CostHeap();
  heap.push(src, 0, 0, 0, 0, NODE);
  let remaining = stopAt ? stopAt.size : -1;
  const standard = sameEpochs(ctx, origin);
  const originEdges = standard ? null : outEdges(ctx, origin, allow);
  const edgesOf = (u: number) =>
    u === src
      ? (originEdges ?? cachedEdges(ctx, origin.release, allow))
      : cachedEdges(ctx, u, allow);
  const originOf = (u: number) => (u === src ? origin : releaseOrigin(ctx, u));

  const relax = (u: number, v: number, w: number, s: number) => {
    if (settled[v] === 1) return;
    const tAdd = u !== src && ctx.release(u).transition ? 1 : 0;
    const nw = (wipes[u] as number) + w;
    const nh = (hops[u] as number) + 1;
    const nt = (transitions[u] as number) + tAdd;
    const ns = (scripts[u] as number) + s;
    if (wipes[v] !== -1) {
      const c = cmp4(
        nw,
        nh,
        nt,
        ns,
        wipes[v] as number,
        hops[v] as number,
        transitions[v] as number,
        scripts[v] as number,
      );
      if (c > 0) return;
      if (c === 0 && !higherStops(stops(parent, src, u), stops(parent, src, parent[v] as number)))
        return;
    }
    wipes[v] = nw;
    hops[v] = nh;
    transitions[v] = nt;
    scripts[v] = ns;
    parent[v] = u;
    heap.push(v, nw, nh, nt, ns, NODE);
  };

  while (heap.size > 0) {
    const top = heap.pop();
    if (top.kind !== NODE) {
      // A deferred batch: the hops out of `node` that wipe `kind` components.
      const u = top.node;
      const k = top.kind;
      const pairs = costedWipes(ctx, originOf(u), edgesOf(u), k);
      for (let i = 0; i < pairs.length; i += 2)
        relax(u, pairs[i] as number, k, pairs[i + 1] as number);
      continue;
    }
    const u = top.node;
    if (settled[u] === 1) continue;
    if (top.w !== wipes[u] || top.h !== hops[u] || top.t !== transitions[u] || top.s !== scripts[u])
      continue;
    settled[u] = 1;
    if (stopAt?.has(u) && --remaining === 0) break;
    const edges = edgesOf(u);
    for (let i = 0; i < edges.zero.length; i += 2)
      relax(u, edges.zero[i] as number, 0, edges.zero[i + 1] as number);
    // Hops that wipe k components cost at least (w + k, h + 1, t, s): defer them until
    // the search gets there, which it never does when every target is reached first.
    const tAdd = u !== src && ctx.release(u).transition ? 1 : 0;
    for (let k = 1; k < edges.byWipes.length; k++) {
      if ((edges.byWipes[k] as number[]).length === 0) continue;
      heap.push(
        u,
        (wipes[u] as number) + k,
        (hops[u] as number) + 1,
        (transitions[u] as number) + tAdd,
        scripts[u] as number,
        k,
      );
    }
  }
  return { origin, parent, wipes, hops, transitions, scripts };
}

function stops(parent: Int32Array, src: number, node: number): number[] {
  const out: number[] = [];
  for (let x = node; x !== src; x = parent[x] as number) out.push(x);
  return out.reverse();
}

function cmp4(
  a1: number,
  a2: number,
  a3: number,
  a4: number,
  b1: number,
  b2: number,
  b3: number,
  b4: number,
): number {
  return a1 - b1 || a2 - b2 || a3 - b3 || a4 - b4;
}

function sameEpochs(ctx: PlanContext, origin: Origin): boolean {
  const own = ctx.releaseEpochs(origin.release);
  for (let i = 0; i < ctx.c; i++) if (own[i] !== origin.epochs[i]) return false;
  return true;
}

const edgeCache = new WeakMap<PlanContext, Map<string, (OutEdges | undefined)[]>>();

/** The hops out of release a (with its own epochs), cached per wipe mask. */
function cachedEdges(ctx: PlanContext, a: number, allow: WipeMask): OutEdges {
  let byMask = edgeCache.get(ctx);
  if (!byMask) {
    byMask = new Map();
    edgeCache.set(ctx, byMask);
  }
  const key = allow.join("");
  let lists = byMask.get(key);
  if (!lists) {
    lists = new Array(ctx.n);
    byMask.set(key, lists);
  }
  let edges = lists[a];
  if (!edges) {
    edges = outEdges(ctx, releaseOrigin(ctx, a), allow);
    lists[a] = edges;
  }
  return edges;
}

/** The plan to release `to` in a tree, or null when it is unreachable. */
export function planFromTree(ctx: PlanContext, tree: PathTree, to: number): Plan | null {
  const src = ctx.n;
  // Staying put is a plan only when the data is already at the release's epochs: a device
  // whose data lags its own image (a failed boot migration) needs real hops, or has no plan.
  if (to === tree.origin.release && tree.parent[to] === UNREACHED && sameEpochs(ctx, tree.origin)) {
    return emptyPlan(ctx, tree.origin.release);
  }
  if (tree.parent[to] === UNREACHED) return null;
  return assemblePlan(ctx, tree.origin, stops(tree.parent, src, to), {
    hops: tree.hops[to] as number,
    wipes: tree.wipes[to] as number,
    transitions: tree.transitions[to] as number,
    scripts: tree.scripts[to] as number,
  });
}

export interface PlanRequest {
  /** The release the device runs. */
  from: Release;
  to: Release;
  /** Components a plan may wipe (names), or "all" wipeable ones. Default none. */
  allowWipe?: Exclude<WipeAllowance, "none">;
  /** The device's actual data epochs by component name (`plan --device`); others: from's. */
  device?: Readonly<Record<string, Epoch>>;
}

/** The best plan from one release to another, or the reasons none exists. */
export function plan(ctx: PlanContext, req: PlanRequest): PlanResult {
  const from = ctx.releaseIndex(req.from);
  const epochs =
    req.device === undefined ? ctx.releaseEpochs(from) : deviceOrigin(ctx, from, req.device);
  return planFrom(ctx, { release: from, epochs }, ctx.releaseIndex(req.to), req.allowWipe);
}

/** `plan` in the planner's own terms: from an origin (release index and epochs) to index `to`. */
export function planFrom(
  ctx: PlanContext,
  origin: Origin,
  to: number,
  allowWipe: Exclude<WipeAllowance, "none"> | undefined,
): PlanResult {
  const from = origin.release;
  const allow = allowMask(ctx, allowWipe ?? "none");
  const target = ctx.release(to);
  if (from === to && sameEpochs(ctx, origin)) {
    return { reachable: true, plan: emptyPlan(ctx, from) };
  }
  if (!target.withdrawn) {
    // Wipes are the first cost: when a plan needs none, the cheaper search finds it.
    const direct = planWithoutWipes(ctx, origin, to);
    if (direct) return { reachable: true, plan: direct };
    if (allow.some((x) => x === 1)) {
      const tree = pathTree(ctx, origin, allow, new Set([to]));
      const found = planFromTree(ctx, tree, to);
      if (found) return { reachable: true, plan: found };
    }
  }
  return {
    reachable: false,
    from: ctx.release(from),
    to: target,
    platform: ctx.platform,
    blockers: explain(ctx, origin, to, allow),
  };
}

/** Release `from`'s epochs with the device's (by component name) in their place. */
export function deviceOrigin(
  ctx: PlanContext,
  from: number,
  device: Readonly<Record<string, Epoch>>,
): Int32Array {
  const epochs = Int32Array.from(ctx.releaseEpochs(from));
  for (const [name, e] of Object.entries(device)) {
    const ci = ctx.componentIndex(name);
    if (ci < 0) throw new InputError(`the device's component "${name}" is not in the graph`);
    epochs[ci] = e;
  }
  return epochs;
}

/**
 * The releases the best plans from `from` (every wipeable component allowed to be wiped)
 * flash to reach each target, in order (the last is the target); null where none does.
 */
export function routes(
  ctx: PlanContext,
  from: Release,
  targets: readonly Release[],
): (readonly Release[] | null)[] {
  const a = ctx.releaseIndex(from);
  const to = targets.map((t) => ctx.releaseIndex(t));
  const tree = pathTree(ctx, releaseOrigin(ctx, a), allowMask(ctx, "all"), new Set(to));
  return to.map((b) => stopsOf(ctx, tree, b));
}

/** The releases of the tree's path to `to` (the origin left out), or null when unreached. */
export function stopsOf(ctx: PlanContext, tree: PathTree, to: number): Release[] | null {
  if (tree.parent[to] === UNREACHED) return null;
  return stops(tree.parent, ctx.n, to).map((i) => ctx.release(i));
}

/**
 * Why no plan exists: when one exists with more wipes allowed, the wipes it needs (each
 * with the hop that needs it); otherwise every rule the direct hop breaks.
 */
function explain(ctx: PlanContext, origin: Origin, to: number, allow: WipeMask): Blocker[] {
  const target = ctx.release(to);
  if (target.withdrawn) return blockersOf(ctx, origin, to, allow);
  const all = allowMask(ctx, "all");
  const tree = pathTree(ctx, origin, all, new Set([to]));
  const withWipes = planFromTree(ctx, tree, to);
  if (withWipes) {
    const out: Blocker[] = [];
    let hopOrigin = origin;
    for (const step of withWipes.steps) {
      const v = ctx.releases.indexOf(step.to);
      for (const b of blockersOf(ctx, hopOrigin, v, allow)) out.push(b);
      hopOrigin = releaseOrigin(ctx, v);
    }
    return out;
  }
  return blockersOf(ctx, origin, to, allow);
}

/** A binary min-heap of (node, cost) entries, with stale entries skipped by the caller. */
class CostHeap {
  private nodes: number[] = [];
  /** Per entry: w, h, t, s, kind. */
  private costs: number[] = [];
  get size(): number {
    return this.nodes.length;
  }
  push(node: number, w: number, h: number, t: number, s: number, kind: number): void {
    this.nodes.push(node);
    this.costs.push(w, h, t, s, kind);
    let i = this.nodes.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(p, i)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { node: number; w: number; h: number; t: number; s: number; kind: number } {
    const c = this.costs;
    const top = {
      node: this.nodes[0] as number,
      w: c[0] as number,
      h: c[1] as number,
      t: c[2] as number,
      s: c[3] as number,
      kind: c[4] as number,
    };
    const last = this.nodes.length - 1;
    this.swap(0, last);
    this.nodes.pop();
    this.costs.length -= 5;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.nodes.length && this.less(l, m)) m = l;
      if (r < this.nodes.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private less(i: number, j: number): boolean {
    const c = this.costs;
    const a = i * 5;
    const b = j * 5;
    for (let k = 0; k < 5; k++) {
      const d = (c[a + k] as number) - (c[b + k] as number);
      if (d !== 0) return d < 0;
    }
    return false;
  }
  private swap(i: number, j: number): void {
    const n = this.nodes;
    const t = n[i] as number;
    n[i] = n[j] as number;
    n[j] = t;
    const c = this.costs;
    for (let k = 0; k < 5; k++) {
      const x = c[i * 5 + k] as number;
      c[i * 5 + k] = c[j * 5 + k] as number;
      c[j * 5 + k] = x;
    }
  }
}
