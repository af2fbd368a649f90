import type { Release } from "@stepstone/graph";
import type { PlanContext } from "./context.js";
import { type HopDetail, hopDetail, type Origin } from "./hop.js";

/**
 * What both searches share (plan.ts's general one and shortest.ts's wipe-free one): the
 * plan's tie-break and the plan they assemble from the stops they found.
 */

export interface PlanStep extends HopDetail {
  /** Is the release this hop flashes a transition release? */
  readonly transition: boolean;
}

export interface Plan {
  readonly from: Release;
  readonly to: Release;
  readonly platform: string | null;
  readonly hops: number;
  readonly wipes: number;
  /** Transition releases used as intermediate stops. */
  readonly transitions: number;
  readonly scripts: number;
  readonly steps: readonly PlanStep[];
}

/** A plan's cost, compared in this order (DESIGN.md "Planning"). */
export interface PlanCost {
  readonly wipes: number;
  readonly hops: number;
  readonly transitions: number;
  readonly scripts: number;
}

/**
 * The tie-break between plans of equal cost: higher stops, compared one by one from the
 * first. True when the stops `a` (followed by `next`, when it is not -1) beat the stops `b`.
 * `next` spares the caller a copy of `a` for every candidate it compares.
 */
export function higherStops(a: readonly number[], b: readonly number[], next = -1): boolean {
  const len = Math.min(next === -1 ? a.length : a.length + 1, b.length);
  for (let i = 0; i < len; i++) {
    const x = i < a.length ? (a[i] as number) : next;
    if (x !== b[i]) return x > (b[i] as number);
  }
  return false;
}

/** The plan that flashes `path` in order (intermediate stops, then the target) from `origin`. */
export function assemblePlan(
  ctx: PlanContext,
  origin: Origin,
  path: readonly number[],
  cost: PlanCost,
): Plan {
  const steps: PlanStep[] = [];
  let from = origin;
  for (const v of path) {
    steps.push({ ...hopDetail(ctx, from, v), transition: ctx.release(v).transition });
    from = { release: v, epochs: ctx.releaseEpochs(v) };
  }
  return {
    from: ctx.release(origin.release),
    to: ctx.releases[
      path.length > 0 ? (path[path.length - 1] as number) : origin.release
    ] as Release,
    platform: ctx.platform,
    hops: cost.hops,
    wipes: cost.wipes,
    transitions: cost.transitions,
    scripts: cost.scripts,
    steps,
  };
}

/** Staying put: the plan of no hops from a release whose data is at its own epochs. */
export function emptyPlan(ctx: PlanContext, r: number): Plan {
  return assemblePlan(ctx, { release: r, epochs: ctx.releaseEpochs(r) }, [], {
    wipes: 0,
    hops: 0,
    transitions: 0,
    scripts: 0,
  });
}
