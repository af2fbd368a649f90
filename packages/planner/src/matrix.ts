import type { Release, VersionRange } from "@stepstone/graph";
import { PlanContext } from "./context.js";
import { allowMask, type Blocker, blockersOf, releaseOrigin } from "./hop.js";
import { type PathTree, type Plan, pathTree, planFromTree, stopsOf } from "./plan.js";

export interface MatrixCell {
  readonly from: Release;
  readonly to: Release;
  readonly reachable: boolean;
  /** Of the best plan with every wipeable component allowed to be wiped (null if unreachable). */
  readonly hops: number | null;
  readonly wipes: number | null;
  /** The releases that plan flashes, in order (the last is `to`); [] when unreachable. */
  readonly stops: readonly Release[];
  /** That plan with its scripts (built on first use: a large matrix needs only the counts). */
  readonly plan: Plan | null;
}

export interface Matrix {
  readonly releases: readonly Release[];
  /** Row-major: for each source, every other release of the set. */
  readonly cells: readonly MatrixCell[];
}

export type ReleaseSelection =
  | { kind: "golden" }
  | { kind: "all" }
  | { kind: "range"; range: VersionRange };

/** The release set of matrix and gaps; withdrawn releases are never targets, so never in it. */
export function selectReleases(ctx: PlanContext, sel: ReleaseSelection): Release[] {
  return ctx.releases.filter(
    (r) =>
      !r.withdrawn &&
      (sel.kind !== "golden" || r.golden) &&
      (sel.kind !== "range" || sel.range.test(r.semver)),
  );
}

/** The best plan for every ordered pair of `set` (no diagonal), wipes allowed. */
export function matrix(ctx: PlanContext, releases: readonly (Release | number)[]): Matrix {
  const set = releases.map((r) => ctx.releaseIndex(r));
  const all = allowMask(ctx, "all");
  const targets = new Set(set);
  const cells: MatrixCell[] = [];
  for (const a of set) {
    const others = new Set([...targets].filter((b) => b !== a));
    const tree: PathTree = pathTree(ctx, releaseOrigin(ctx, a), all, others);
    for (const b of set) {
      if (b === a) continue;
      const stops = stopsOf(ctx, tree, b);
      const reachable = stops !== null;
      let plan: Plan | null | undefined;
      cells.push({
        from: ctx.release(a),
        to: ctx.release(b),
        reachable,
        hops: reachable ? (tree.hops[b] as number) : null,
        wipes: reachable ? (tree.wipes[b] as number) : null,
        stops: stops ?? [],
        get plan() {
          plan ??= planFromTree(ctx, tree, b);
          return plan;
        },
      });
    }
  }
  return { releases: set.map((i) => ctx.release(i)), cells };
}

export interface GapReason extends Blocker {}

export interface Gap {
  readonly from: Release;
  readonly to: Release;
  readonly reason: GapReason;
  /** The best plan, which wipes something; null when unreachable. */
  readonly plan: Plan | null;
}

/** Blocker codes, most fundamental first: the order gaps (and pictures) list reasons in. */
export const BLOCKER_PRIORITY: Readonly<Record<Blocker["code"], number>> = {
  withdrawn: 0,
  key: 1,
  upgradeFrom: 2,
  runner: 3,
  noChain: 4,
  wipe: 5,
};

/** The pairs of a matrix whose best plan wipes something or that are unreachable. */
export function gaps(ctx: PlanContext, m: Matrix): Gap[] {
  const all = allowMask(ctx, "all");
  const none = allowMask(ctx, "none");
  let anyWipe: PlanContext | undefined;
  const out: Gap[] = [];
  for (const cell of m.cells) {
    if (cell.reachable && cell.wipes === 0) continue;
    if (cell.plan) {
      const step = cell.plan.steps.find((s) => s.wipe.length > 0);
      if (!step) continue;
      const a = ctx.releases.indexOf(step.from);
      const b = ctx.releases.indexOf(step.to);
      const blockers = blockersOf(ctx, releaseOrigin(ctx, a), b, none).filter(
        (x) => x.component !== undefined,
      );
      const first = blockers.find((x) => x.component === step.wipe[0]) ?? blockers[0];
      const component = step.wipe[0] as string;
      out.push({
        from: cell.from,
        to: cell.to,
        plan: cell.plan,
        reason: {
          code: "wipe",
          component,
          message:
            first?.message.replace(/; allow wiping.*$/, "") ??
            `${component} must be wiped on the hop ${step.from.version} -> ${step.to.version}`,
        },
      });
      continue;
    }
    const a = ctx.releases.indexOf(cell.from);
    const b = ctx.releases.indexOf(cell.to);
    anyWipe ??= everythingWipeable(ctx);
    const blockers = unreachableBlockers(ctx, anyWipe, a, b, all);
    blockers.sort((x, y) => BLOCKER_PRIORITY[x.code] - BLOCKER_PRIORITY[y.code]);
    out.push({
      from: cell.from,
      to: cell.to,
      plan: null,
      reason: blockers[0] ?? {
        code: "noChain",
        message: `no sequence of hops reaches ${cell.to.version} from ${cell.from.version}, even with wipes`,
      },
    });
  }
  return out;
}

/**
 * The graph as if every component could be wiped: where no plan exists even with wipes,
 * its best plan is the route that would work but for the data of components that must
 * never be wiped, so its hops name what really blocks the pair (a missing chain after a
 * key rotation already bridged), not the direct hop's first broken rule.
 */
function everythingWipeable(ctx: PlanContext): PlanContext {
  const components = ctx.graph.components.map((c) => ({ ...c, wipeable: true }));
  return new PlanContext({ ...ctx.graph, components }, ctx.platform);
}

/**
 * Why a -> b is unreachable even with every wipeable component wiped: every rule the hops
 * of `anyWipe`'s best plan break (as `plan`'s blockers explain the plan with wipes); the
 * direct hop's only when no route exists even then (keys, upgradeFrom, runner: false).
 */
function unreachableBlockers(
  ctx: PlanContext,
  anyWipe: PlanContext,
  a: number,
  b: number,
  all: ReturnType<typeof allowMask>,
): Blocker[] {
  const tree = pathTree(
    anyWipe,
    releaseOrigin(anyWipe, a),
    allowMask(anyWipe, "all"),
    new Set([b]),
  );
  const route = stopsOf(anyWipe, tree, b);
  if (route === null) return blockersOf(ctx, releaseOrigin(ctx, a), b, all);
  const out: Blocker[] = [];
  let from = a;
  // The two contexts share the graph's release list, so indices are the same.
  for (const stop of route) {
    const to = ctx.releases.indexOf(stop);
    out.push(...blockersOf(ctx, releaseOrigin(ctx, from), to, all));
    from = to;
  }
  return out;
}
