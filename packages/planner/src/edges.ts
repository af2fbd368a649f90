import { andInto, type Bits, bitsFor, copyBits, forEachBit, hasBit } from "./bits.js";
import type { PlanContext } from "./context.js";
import type { Origin, WipeMask } from "./hop.js";

/**
 * The legal hops out of one origin, found with bitset operations and costed exactly only
 * for the releases that pass: `zero` are hops that wipe nothing, as (target, scripts)
 * pairs; `byWipes[k]` lists the targets of hops that wipe exactly k components, costed
 * only when a search needs them (a plan usually settles every target without wipes, so
 * those never are).
 */
export interface OutEdges {
  readonly zero: Int32Array;
  readonly byWipes: readonly (readonly number[])[];
  /** byWipes[k] costed: (target, scripts) pairs. */
  readonly costed: (Int32Array | undefined)[];
  readonly departures: readonly (readonly number[])[];
}

export function outEdges(ctx: PlanContext, origin: Origin, allow: WipeMask): OutEdges {
  const a = origin.release;
  const base = ctx.baseTargets(a);
  const departures = Array.from({ length: ctx.c }, (_, ci) =>
    ctx.departuresFrom(a, ci, origin.epochs[ci] as number),
  );
  const zero = copyBits(base);
  const must = copyBits(base);
  const perComponent: Bits[] = [];
  const scratch = bitsFor(ctx.n);
  for (let ci = 0; ci < ctx.c; ci++) {
    ctx.index.reachableFor(departures[ci] as number[], ci, scratch);
    andInto(zero, scratch);
    if (ctx.wipeable[ci] === 1 && allow[ci] === 1) perComponent.push(copyBits(scratch));
    else andInto(must, scratch);
  }
  const pairs: number[] = [];
  forEachBit(zero, (v) => {
    pairs.push(v, scriptsOf(ctx, origin, departures, v));
  });
  const byWipes: number[][] = [[]];
  if (perComponent.length > 0) {
    forEachBit(must, (v) => {
      if (hasBit(zero, v)) return;
      let k = 0;
      for (const bits of perComponent) if (!hasBit(bits, v)) k++;
      while (byWipes.length <= k) byWipes.push([]);
      (byWipes[k] as number[]).push(v);
    });
  }
  return { zero: Int32Array.from(pairs), byWipes, costed: [], departures };
}

/** byWipes[k] of `edges`, costed (once). */
export function costedWipes(
  ctx: PlanContext,
  origin: Origin,
  edges: OutEdges,
  k: number,
): Int32Array {
  let c = edges.costed[k];
  if (!c) {
    const pairs: number[] = [];
    for (const v of edges.byWipes[k] ?? [])
      pairs.push(v, scriptsOf(ctx, origin, edges.departures, v));
    c = Int32Array.from(pairs);
    edges.costed[k] = c;
  }
  return c;
}

/** The departures of every component of an origin (what its own image can convert to). */
export function departuresOf(ctx: PlanContext, origin: Origin): number[][] {
  const out: number[][] = new Array(ctx.c);
  for (let ci = 0; ci < ctx.c; ci++)
    out[ci] = ctx.departuresFrom(origin.release, ci, origin.epochs[ci] as number) as number[];
  return out;
}

/** The releases a hop from `origin` can reach without wiping anything, as a bitset. */
export function zeroTargets(
  ctx: PlanContext,
  origin: Origin,
  departures: readonly (readonly number[])[],
): Bits {
  const zero = copyBits(ctx.baseTargets(origin.release));
  const scratch = bitsFor(ctx.n);
  const index = ctx.index;
  for (let ci = 0; ci < ctx.c; ci++)
    index.andReachable(zero, departures[ci] as number[], ci, scratch);
  return zero;
}

/**
 * The releases a hop from release u, with its data at u's own epochs, reaches without
 * wiping anything (rules 1-4): what zeroTargets computes, from per-segment reach sets
 * (no departure lists, no unions) since releases of a segment reach the same releases.
 */
export function zeroFrom(ctx: PlanContext, u: number): Bits {
  const zero = copyBits(ctx.baseTargets(u));
  const index = ctx.index;
  for (let ci = 0; ci < ctx.c; ci++) {
    const reach = index.ownReach(u, ci);
    if (reach === null) {
      zero.fill(0);
      break;
    }
    andInto(zero, reach);
  }
  return zero;
}

/** Scripts of the hop origin -> v (components without a chain are wiped: they cost none). */
export function scriptsOf(
  ctx: PlanContext,
  origin: Origin,
  departures: readonly (readonly number[])[],
  v: number,
): number {
  let scripts = 0;
  const base = v * ctx.c;
  for (let ci = 0; ci < ctx.c; ci++) {
    if (origin.epochs[ci] === ctx.epochs[base + ci]) continue;
    const len = ctx.chainLengthVia(departures[ci] as number[], v, ci);
    if (len !== Number.POSITIVE_INFINITY) scripts += len;
  }
  return scripts;
}
