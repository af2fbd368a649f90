import { forEachBit } from "./bits.js";
import type { PlanContext } from "./context.js";
import { costedWipes, outEdges, zeroFrom } from "./edges.js";
import type { WipeMask } from "./hop.js";
import { releaseOrigin } from "./plan.js";

/**
 * The hops into each release: (source, wipes, scripts) triples, per target. Scripts are
 * the cost's last term, so they are costed on first use (-1 until then): a search needs
 * them only for the hops that tie on the other terms.
 */
export interface InEdges {
  readonly start: Int32Array;
  readonly from: Int32Array;
  readonly wipes: Int32Array;
  readonly scripts: Int32Array;
}

export interface Reverse {
  readonly into: InEdges;
  /** The departures of each release's own data (for costing scripts), made on first use. */
  readonly departures: (number[][] | undefined)[];
}

const reverseCache = new WeakMap<PlanContext, Map<string, Reverse>>();

/** Every legal hop of the graph under a wipe mask, indexed by target (cached per context). */
export function reverseGraph(ctx: PlanContext, allow: WipeMask): Reverse {
  let byMask = reverseCache.get(ctx);
  if (!byMask) {
    byMask = new Map();
    reverseCache.set(ctx, byMask);
  }
  const key = allow.join("");
  const cached = byMask.get(key);
  if (cached) return cached;
  const n = ctx.n;
  const triples: number[][] = [];
  const wipesAllowed = allow.some((x) => x === 1);
  for (let u = 0; u < n; u++) {
    const list: number[] = [];
    if (!wipesAllowed) {
      // Every hop wipes nothing: the context's own reach sets, scripts costed later.
      forEachBit(zeroFrom(ctx, u), (v) => list.push(v, 0, -1));
    } else {
      const origin = releaseOrigin(ctx, u);
      const edges = outEdges(ctx, origin, allow);
      for (let i = 0; i < edges.zero.length; i += 2)
        list.push(edges.zero[i] as number, 0, edges.zero[i + 1] as number);
      for (let k = 1; k < edges.byWipes.length; k++) {
        const pairs = costedWipes(ctx, origin, edges, k);
        for (let i = 0; i < pairs.length; i += 2)
          list.push(pairs[i] as number, k, pairs[i + 1] as number);
      }
    }
    triples.push(list);
  }
  const start = new Int32Array(n + 1);
  for (const list of triples)
    for (let i = 0; i < list.length; i += 3) {
      const v = (list[i] as number) + 1;
      start[v] = (start[v] as number) + 1;
    }
  for (let v = 0; v < n; v++) start[v + 1] = (start[v + 1] as number) + (start[v] as number);
  const m = start[n] as number;
  const fill = start.slice(0, n);
  const from = new Int32Array(m);
  const wipes = new Int32Array(m);
  const scripts = new Int32Array(m);
  triples.forEach((list, u) => {
    for (let i = 0; i < list.length; i += 3) {
      const v = list[i] as number;
      const at = fill[v] as number;
      fill[v] = at + 1;
      from[at] = u;
      wipes[at] = list[i + 1] as number;
      scripts[at] = list[i + 2] as number;
    }
  });
  const rev = { into: { start, from, wipes, scripts }, departures: new Array(n) };
  byMask.set(key, rev);
  return rev;
}
