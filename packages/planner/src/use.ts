import type { Release, ReleaseGraph } from "@stepstone/graph";
import { PlanContext } from "./context.js";
import { type GapReason, gaps, matrix, type ReleaseSelection, selectReleases } from "./matrix.js";

export interface ClosedGap {
  readonly from: Release;
  readonly to: Release;
  /** Why the pair does not connect without the transition release. */
  readonly without: GapReason;
  /** The best plan's stops with it, from first to last. */
  readonly path: readonly Release[];
}

export interface TransitionUse {
  /** The set the pairs are taken from (golden by default). */
  readonly set: readonly Release[];
  /** Pairs that only connect without wiping because the release exists. */
  readonly closes: readonly ClosedGap[];
  /** Pairs whose best plan (wipes allowed, as `matrix`) stops at the release. */
  readonly stops: readonly { from: Release; to: Release; path: readonly Release[] }[];
}

/**
 * What a transition release is for, per the planner: the gaps between the set's releases
 * it closes (the gaps of the graph without it, minus the gaps with it), and the best plans
 * between them that stop at it.
 */
export function transitionUse(
  graph: ReleaseGraph,
  release: Release,
  platform: string | null = null,
  selection: ReleaseSelection = { kind: "golden" },
): TransitionUse {
  const ctx = new PlanContext(graph, platform);
  const set = selectReleases(ctx, selection).filter((x) => x !== release);
  const withIt = matrix(ctx, set);
  const gapsWith = new Set(gaps(ctx, withIt).map((g) => key(g.from, g.to)));

  const without: ReleaseGraph = { ...graph, releases: graph.releases.filter((x) => x !== release) };
  const ctx2 = new PlanContext(without, platform);
  const gapsWithout = gaps(ctx2, matrix(ctx2, set));

  const pathOf = new Map<string, readonly Release[]>();
  const stops: { from: Release; to: Release; path: readonly Release[] }[] = [];
  for (const cell of withIt.cells) {
    const plan = cell.plan;
    if (!plan) continue;
    const path = [plan.from, ...plan.steps.map((s) => s.to)];
    pathOf.set(key(cell.from, cell.to), path);
    if (path.slice(1, -1).includes(release)) stops.push({ from: cell.from, to: cell.to, path });
  }
  const closes = gapsWithout
    .filter((g) => !gapsWith.has(key(g.from, g.to)))
    .map((g) => ({
      from: g.from,
      to: g.to,
      without: g.reason,
      path: pathOf.get(key(g.from, g.to)) ?? [],
    }));
  return { set, closes, stops };
}

const key = (a: Release, b: Release) => `${a.version}\0${b.version}`;
