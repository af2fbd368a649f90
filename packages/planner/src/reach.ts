import type { Epoch, Release } from "@stepstone/graph";
import type { Plan } from "./assemble.js";
import type { PlanContext } from "./context.js";
import { allowMask, type Blocker, type Origin, releaseOrigin } from "./hop.js";
import { deviceOrigin, pathTree, planFrom, planFromTree } from "./plan.js";

/**
 * "What can this device reach?" (`plan` without `--to`, as `kubeadm upgrade plan` lists
 * the versions a cluster can go to): the usual targets, each with its best plan.
 */

export interface ReachRequest {
  readonly from: Release;
  /** The device's actual data epochs by component name; others: from's. */
  readonly device?: Readonly<Record<string, Epoch>>;
  /** Components a plan may wipe, or "all" wipeable ones. Default none. */
  readonly allowWipe?: readonly string[] | "all";
  /** Default: reachTargets(ctx, from). */
  readonly targets?: readonly Release[];
}

export interface ReachEntry {
  readonly to: Release;
  /** The best plan with the request's wipes (what `plan --to` prints), or null. */
  readonly plan: Plan | null;
  /**
   * Where `plan` is null: the best plan with every wipeable component allowed to be wiped
   * (its wipes say what `--allow-wipe` it needs), or null when none exists even then.
   */
  readonly withWipes: Plan | null;
  /** Where `plan` is null: why (the blockers `plan --to` prints). */
  readonly blockers: readonly Blocker[];
}

/**
 * The targets worth listing from release `from`: the golden releases and the newest release
 * of each line (DESIGN.md's `line`, default `major.minor`), neither withdrawn nor a
 * transition release (built to be passed through, not to stay on), nor `from` itself; in
 * version order.
 */
export function reachTargets(ctx: PlanContext, from: Release): Release[] {
  const newest = new Map<string, Release>();
  for (const r of ctx.releases) if (!r.withdrawn && !r.transition) newest.set(r.line, r);
  const chosen = new Set(newest.values());
  return ctx.releases.filter(
    (r) => r !== from && !r.withdrawn && (chosen.has(r) || (r.golden && !r.transition)),
  );
}

/**
 * The best plan to each target, from one search (and a second, with every wipe allowed,
 * only when some target is out of reach): the same plans as `plan` gives one by one.
 */
export function reach(ctx: PlanContext, req: ReachRequest): ReachEntry[] {
  const from = ctx.releaseIndex(req.from);
  const origin: Origin =
    req.device === undefined
      ? releaseOrigin(ctx, from)
      : { release: from, epochs: deviceOrigin(ctx, from, req.device) };
  const targets = (req.targets ?? reachTargets(ctx, req.from)).map((t) => ctx.releaseIndex(t));
  const tree = pathTree(ctx, origin, allowMask(ctx, req.allowWipe ?? "none"), new Set(targets));
  let wiping: ReturnType<typeof pathTree> | null = null;
  return targets.map((to) => {
    const target = ctx.release(to);
    const found = target.withdrawn ? null : planFromTree(ctx, tree, to);
    if (found !== null) return { to: target, plan: found, withWipes: null, blockers: [] };
    wiping ??= pathTree(ctx, origin, allowMask(ctx, "all"), new Set(targets));
    const withWipes = target.withdrawn ? null : planFromTree(ctx, wiping, to);
    const res = planFrom(ctx, origin, to, req.allowWipe);
    return { to: target, plan: null, withWipes, blockers: res.reachable ? [] : res.blockers };
  });
}
