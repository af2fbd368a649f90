import { InputError } from "@stepstone/errors";
import {
  type Migration,
  parseRange,
  type Release,
  type ReleaseGraph,
  shippingText,
  toRuns,
} from "@stepstone/graph";
import { PlanContext } from "./context.js";
import { type GapReason, gaps, matrix, type ReleaseSelection, selectReleases } from "./matrix.js";

export type Verdict = "retired" | "may-go" | "must-stay";

export interface OpenedGap {
  readonly from: Release;
  readonly to: Release;
  readonly reason: GapReason;
}

/** A plan between kept releases that would need more hops: a new required stop. */
export interface LongerPlan {
  readonly from: Release;
  readonly to: Release;
  /** Its hops now, and once the migration stops shipping. */
  readonly hops: { readonly before: number; readonly after: number };
}

export interface RetireEntry {
  readonly migration: Migration;
  readonly verdict: Verdict;
  /** may-go: its `shippedIn` ending before the next release (null: it has none). */
  readonly shippedIn: string | null;
  /** may-go: the next release names it in `ships`; remove it from there too. */
  readonly unship: boolean;
  /** retired: the newest release that still ships it (null: none does). */
  readonly lastShippedBy: Release | null;
  /** must-stay: the pairs that would no longer connect without wiping. */
  readonly opens: readonly OpenedGap[];
  /** must-stay: the plans between kept releases that would get longer (more hops). */
  readonly lengthens: readonly LongerPlan[];
  /**
   * must-stay only because a migration that may go was dropped first: alone it could go
   * (they cover the same hops; keep one of them).
   */
  readonly alternative: boolean;
}

export interface RetireResult {
  /** The release asked about: the newest release that is neither transition nor withdrawn. */
  readonly next: Release;
  /** The releases that must stay connected, `next` included. */
  readonly keep: readonly Release[];
  /** Gaps between them before anything is dropped (dropping never closes one). */
  readonly gaps: number;
  /** One per migration, in the graph's order. */
  readonly entries: readonly RetireEntry[];
}

/**
 * "How long must a migration be kept?" For each migration the next release ships, whether
 * it may stop shipping it (its `shippedIn` ending before that release, and the release's
 * `ships` no longer naming it) without opening a gap between the kept releases (the
 * golden ones by default) and the next release itself.
 *
 * The next release is the newest release of the graph that is neither a transition build
 * nor withdrawn: the one being prepared (tag it and sync, or add its entry by hand). A
 * simulated copy of the newest release would not do: every device could reach the copy
 * through the newest release itself, so everything would seem free to go.
 *
 * "May go" means nothing gets worse between the kept releases: no gap opens and no plan
 * gets longer (a plan that needs one more hop is a new required stop for every device on
 * that path, which release notes and fleets would have to learn about).
 *
 * Migrations are tried oldest first (by the first release that ships them). One that no
 * best plan between the kept releases uses may go at once (removing an option no best
 * plan uses changes no best plan); any other is dropped in a copy of the graph and the
 * matrix is computed again. What "may go" may go all together; each "must stay" would
 * open a gap or lengthen a plan (compared with today's graph) if dropped as well.
 */
const key = (a: Release, b: Release) => `${a.version}\0${b.version}`;

export function retire(
  graph: ReleaseGraph,
  platform: string | null,
  keep: ReleaseSelection,
): RetireResult {
  const nextIndex = graph.releases.findLastIndex((r) => !r.transition && !r.withdrawn);
  const next = graph.releases[nextIndex];
  if (!next)
    throw new InputError("the graph has no release that is neither transition nor withdrawn");
  const startCtx = new PlanContext(graph, platform);
  const kept = [...selectReleases(startCtx, keep).filter((r) => r !== next), next].sort(
    (a, b) => startCtx.releaseIndex(a) - startCtx.releaseIndex(b),
  );

  const evaluate = (g: ReleaseGraph) => {
    const ctx = new PlanContext(g, platform);
    const m = matrix(ctx, kept);
    const found = gaps(ctx, m);
    const used = new Set<string>();
    const hops = new Map<string, number>();
    for (const cell of m.cells) {
      if (cell.reachable) hops.set(key(cell.from, cell.to), cell.hops as number);
      for (const step of cell.plan?.steps ?? []) {
        for (const x of step.preFlash) used.add(x.id);
        for (const x of step.boot) used.add(x.id);
      }
    }
    return { gaps: found, used, cells: m.cells, hops };
  };
  const baseline = evaluate(graph);
  const baselineGaps = new Set(baseline.gaps.map((g) => key(g.from, g.to)));
  const opened = (s: ReturnType<typeof evaluate>) =>
    s.gaps
      .filter((g) => !baselineGaps.has(key(g.from, g.to)))
      .map((g) => ({ from: g.from, to: g.to, reason: g.reason }));
  // A pair that opens a gap is reported there; here only pairs that still connect.
  const longer = (s: ReturnType<typeof evaluate>): LongerPlan[] =>
    s.cells.flatMap((c) => {
      const before = baseline.hops.get(key(c.from, c.to));
      const after = s.hops.get(key(c.from, c.to));
      if (before === undefined || after === undefined || after <= before) return [];
      if (c.wipes !== 0) return [];
      return [{ from: c.from, to: c.to, hops: { before, after } }];
    });

  const shipping = startCtx.shipping;
  const capped = new Map<string, string | null>();
  const cap = (m: Migration): string | null => {
    if (m.shippedIn === null) return null;
    let text = capRange(m.shippedIn.raw, next.version);
    if (parseRange(text) === null) {
      // A range node-semver cannot extend (a hyphen range): the releases it holds, exactly.
      const ones = graph.releases.flatMap((r, i) =>
        i < nextIndex && m.shippedIn?.test(r.semver) ? [i] : [],
      );
      const free = new Set(
        graph.releases.flatMap((_, i) => (shipping.explicitOf(i)?.has(m) ? [i] : [])),
      );
      const versions = graph.releases.map((r) => r.version);
      text = shippingText(toRuns(ones), free, versions, () => true, 99).shippedIn ?? "<0.0.0-0";
    }
    return text;
  };
  const drop = (g: ReleaseGraph, m: Migration): ReleaseGraph => {
    if (!capped.has(m.id)) capped.set(m.id, cap(m));
    const text = capped.get(m.id) ?? null;
    const range = text === null ? null : parseRange(text);
    return {
      ...g,
      releases: g.releases.map((r) =>
        r === next && r.ships.includes(m.id)
          ? { ...r, ships: r.ships.filter((id) => id !== m.id) }
          : r,
      ),
      migrations: g.migrations.map((x) => (x.id === m.id ? { ...x, shippedIn: range } : x)),
    };
  };

  const firstShipped = (m: Migration) => shipping.releasesShipping(m)[0] ?? Number.MAX_SAFE_INTEGER;
  const candidates = graph.migrations
    .filter((m) => shipping.ships(nextIndex, m))
    .sort((a, b) => firstShipped(a) - firstShipped(b) || (a.id < b.id ? -1 : 1));

  const verdicts = new Map<
    string,
    { verdict: Verdict; opens: OpenedGap[]; lengthens: LongerPlan[]; alternative: boolean }
  >();
  let current = graph;
  let state = baseline;
  for (const m of candidates) {
    if (!state.used.has(m.id)) {
      current = drop(current, m);
      verdicts.set(m.id, { verdict: "may-go", opens: [], lengthens: [], alternative: false });
      continue;
    }
    const trial = drop(current, m);
    const after = evaluate(trial);
    const opens = opened(after);
    const lengthens = longer(after);
    if (opens.length === 0 && lengthens.length === 0) {
      current = trial;
      state = after;
      verdicts.set(m.id, { verdict: "may-go", opens: [], lengthens: [], alternative: false });
    } else {
      const alone = evaluate(drop(graph, m));
      const harmless = opened(alone).length === 0 && longer(alone).length === 0;
      verdicts.set(m.id, { verdict: "must-stay", opens, lengthens, alternative: harmless });
    }
  }

  const entries = graph.migrations.map((m): RetireEntry => {
    const v = verdicts.get(m.id);
    if (!v) {
      const last = shipping.releasesShipping(m).at(-1);
      return {
        migration: m,
        verdict: "retired",
        shippedIn: null,
        unship: false,
        lastShippedBy: (last !== undefined && graph.releases[last]) || null,
        opens: [],
        lengthens: [],
        alternative: false,
      };
    }
    return {
      migration: m,
      verdict: v.verdict,
      shippedIn: v.verdict === "may-go" ? (capped.get(m.id) ?? null) : null,
      unship: v.verdict === "may-go" && next.ships.includes(m.id),
      lastShippedBy: null,
      opens: v.opens,
      lengthens: v.lengthens,
      alternative: v.alternative,
    };
  });
  return {
    next,
    keep: kept,
    gaps: baseline.gaps.length,
    entries,
  };
}

/** `range` limited to versions below `version`: each `||` alternative gets `<version`. */
export function capRange(range: string, version: string): string {
  const parts = range.split("||").map((p) => p.trim());
  return parts
    .map((p) => (p === "" || p === "*" ? `<${version}` : `${p} <${version}`))
    .join(" || ");
}
