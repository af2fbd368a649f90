import type { Migration } from "@stepstone/graph";
import type { Gap, Matrix } from "./matrix.js";
import type { PlanResult } from "./plan.js";
import type { SuggestResult } from "./suggest.js";

/** The JSON shapes of DESIGN.md's CLI contract. Scripts consume these: keep them exact. */

const script = (m: Migration) => ({ id: m.id, component: m.component, from: m.from, to: m.to });

export function planJson(res: PlanResult) {
  if (!res.reachable) {
    return {
      from: res.from.version,
      to: res.to.version,
      reachable: false as const,
      blockers: res.blockers.map((b) => ({
        code: b.code,
        ...(b.component !== undefined && { component: b.component }),
        ...(b.key !== undefined && { key: b.key }),
        message: b.message,
      })),
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
    steps: p.steps.map((s) => ({
      from: s.from.version,
      to: s.to.version,
      direction: s.direction,
      transition: s.transition,
      preFlash: s.preFlash.map(script),
      boot: s.boot.map(script),
      wipe: [...s.wipe],
    })),
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
