import type { Migration } from "./model.js";

/**
 * Components migrate in an order derived from `after` across components (a component
 * whose migration runs after another component's migration comes later), then file order.
 */
export function componentOrder(
  names: readonly string[],
  migrations: readonly Migration[],
  byId: ReadonlyMap<string, number>,
  fail: (message: string) => void,
): string[] {
  const deps = new Map<string, Set<string>>(names.map((n) => [n, new Set()]));
  for (const m of migrations) {
    for (const dep of m.after) {
      const i = byId.get(dep);
      const other = i === undefined ? undefined : migrations[i];
      if (other && other.component !== m.component) deps.get(m.component)?.add(other.component);
    }
  }
  const out: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (n: string, trail: string[]): boolean => {
    const s = state.get(n);
    if (s === "done") return true;
    if (s === "visiting") {
      fail(`the "after" links order components in a cycle: ${[...trail, n].join(" -> ")}`);
      return false;
    }
    state.set(n, "visiting");
    for (const d of deps.get(n) ?? []) if (!visit(d, [...trail, n])) return false;
    state.set(n, "done");
    out.push(n);
    return true;
  };
  for (const n of names) if (!visit(n, [])) return [...names];
  return out;
}

/**
 * A cycle of `after` links among one component's migrations leaves no order to run them
 * in. (Cycles across components are reported by componentOrder, which must order the
 * components; without this check a same-component cycle passed validation silently.)
 */
export function afterCycles(
  migrations: readonly Migration[],
  byId: ReadonlyMap<string, number>,
  fail: (index: number, message: string) => void,
): void {
  const state = new Map<number, "visiting" | "done">();
  const visit = (i: number, trail: number[]): void => {
    if (state.get(i) === "done") return;
    if (state.get(i) === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(i)), i].map((k) => migrations[k]?.id);
      fail(i, `the "after" links form a cycle: ${cycle.join(" -> ")}`);
      return;
    }
    state.set(i, "visiting");
    const m = migrations[i] as Migration;
    for (const dep of m.after) {
      const j = byId.get(dep);
      if (j !== undefined && j !== i && migrations[j]?.component === m.component)
        visit(j, [...trail, i]);
    }
    state.set(i, "done");
  };
  for (let i = 0; i < migrations.length; i++) visit(i, []);
}
