import type { Migration, Release } from "@stepstone/graph";
import type { Blocker } from "./hop.js";
import type { Gap, Matrix } from "./matrix.js";
import type { PlanResult } from "./plan.js";
import type { ReachEntry } from "./reach.js";
import type { StopReason } from "./stops.js";
import type { SuggestResult } from "./suggest.js";

/** The JSON shapes of DESIGN.md's CLI contract. Scripts consume these: keep them exact. */

const script = (m: Migration) => ({ id: m.id, component: m.component, from: m.from, to: m.to });

/** `why` is planWhy's (each step's reasons); without it every step's `why` is empty. */
export function planJson(res: PlanResult, why: readonly (readonly StopReason[])[] = []) {
  if (!res.reachable) {
    return {
      from: res.from.version,
      to: res.to.version,
      reachable: false as const,
      blockers: res.blockers.map(blockerJson),
    };
  }
  const p = res.plan;
  return {
    from: p.from.version,
    to: p.to.version,
    platform: p.platform,
    reachable: true as const,
    hops: p.hops,
    wipes: p.wipes,
    steps: p.steps.map((s, i) => ({
      from: s.from.version,
      to: s.to.version,
      direction: s.direction,
      transition: s.transition,
      preFlash: s.preFlash.map(script),
      boot: s.boot.map(script),
      wipe: [...s.wipe],
      why: (why[i] ?? []).map(reasonJson),
    })),
  };
}

export function blockerJson(b: Blocker) {
  return {
    code: b.code,
    ...(b.component !== undefined && { component: b.component }),
    ...(b.key !== undefined && { key: b.key }),
    message: b.message,
  };
}

export function reasonJson(r: StopReason) {
  return {
    code: r.code,
    ...(r.components !== undefined && { components: [...r.components] }),
    ...(r.key !== undefined && { key: r.key }),
    message: r.message,
  };
}

/**
 * `plan --format json` without `--to`: per target, the best plan with the wipes asked for;
 * where there is none, the best with every wipe allowed (`needsAllowWipe`: the components
 * it wipes that were not allowed) or, when none exists at all, null hops.
 */
export function reachJson(
  from: Release,
  platform: string | null,
  allowWipe: readonly string[] | "all",
  entries: readonly ReachEntry[],
) {
  const allowed = (c: string) => allowWipe === "all" || allowWipe.includes(c);
  return {
    from: from.version,
    platform,
    allowWipe: allowWipe === "all" ? "all" : [...allowWipe],
    targets: entries.map((e) => {
      const p = e.plan ?? e.withWipes;
      const wipe = p === null ? [] : [...new Set(p.steps.flatMap((s) => s.wipe))];
      return {
        to: e.to.version,
        line: e.to.line,
        golden: e.to.golden,
        reachable: e.plan !== null,
        hops: p?.hops ?? null,
        wipes: p?.wipes ?? null,
        wipe,
        firstStop: p === null ? null : ((p.steps[0]?.to.version ?? null) as string | null),
        needsAllowWipe: e.plan === null ? wipe.filter((c) => !allowed(c)) : [],
        blockers: e.blockers.map(blockerJson),
      };
    }),
  };
}

export function matrixJson(m: Matrix) {
  return {
    releases: m.releases.map((r) => r.version),
    cells: m.cells.map((c) => ({
      from: c.from.version,
      to: c.to.version,
      reachable: c.reachable,
      hops: c.hops,
      wipes: c.wipes,
    })),
  };
}

export function gapsJson(gaps: readonly Gap[], suggested: SuggestResult | null) {
  return {
    gaps: gaps.map((g) => ({
      from: g.from.version,
      to: g.to.version,
      reason: {
        code: g.reason.code,
        ...(g.reason.component !== undefined && { component: g.reason.component }),
        ...(g.reason.key !== undefined && { key: g.reason.key }),
        message: g.reason.message,
      },
    })),
    suggestions: (suggested?.suggestions ?? []).map((s) => ({
      release: s.release,
      // An existing transition release to ship more scripts in, rather than a new one.
      ...(s.extends !== null && { extends: s.extends.version, adds: s.adds }),
      closes: s.closes.map((c) => ({ from: c.from.version, to: c.to.version })),
    })),
    missing: (suggested?.missing ?? []).map((m) => ({
      component: m.component,
      from: m.from,
      to: m.to,
      for: m.for.map((c) => ({ from: c.from.version, to: c.to.version })),
    })),
  };
}
