import type { Migration } from "@stepstone/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { respectAfter, scriptFile } from "../src/manifest.js";

/** The O(n²) scan respectAfter replaced: the order to keep. */
function reference(list: readonly Migration[], shipped: readonly Migration[]): Migration[] {
  const inList = new Set(list.map((m) => m.id));
  const shippedIds = new Set(shipped.map((m) => m.id));
  const placed = new Set<string>();
  const out: Migration[] = [];
  const pending = [...list];
  while (pending.length > 0) {
    const i = pending.findIndex((m) =>
      m.after.every((dep) => !inList.has(dep) || !shippedIds.has(dep) || placed.has(dep)),
    );
    const [m] = pending.splice(Math.max(i, 0), 1) as [Migration];
    placed.add(m.id);
    out.push(m);
  }
  return out;
}

const migration = (id: string, after: string[]) => ({ id, after }) as unknown as Migration;

describe("respectAfter", () => {
  it("orders like the scan it replaced, cycles and duplicates included", () => {
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const arb = fc.record({
      list: fc.array(
        fc.record({
          id: fc.constantFrom(...ids),
          after: fc.array(fc.constantFrom(...ids, "x", "y"), { maxLength: 4 }),
        }),
        { maxLength: 12 },
      ),
      extra: fc.array(fc.constantFrom(...ids, "x"), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ list, extra }) => {
        const ms = list.map((m) => migration(m.id, m.after));
        // Shipped: the list and a few others (after an unlisted migration is no constraint).
        const shipped = [...ms, ...extra.map((id) => migration(id, []))];
        const got = respectAfter(ms, new Set(shipped.map((m) => m.id)));
        expect(got).toEqual(reference(ms, shipped));
      }),
      { numRuns: 2000 },
    );
  });

  it("is fast on thousands of migrations", () => {
    const ms = Array.from({ length: 5000 }, (_, i) =>
      migration(`m${i}`, i % 3 === 0 ? [`m${(i * 7) % 5000}`] : []),
    );
    const ids = new Set(ms.map((m) => m.id));
    const t = performance.now();
    const got = respectAfter(ms, ids);
    expect(performance.now() - t).toBeLessThan(500);
    expect(got).toEqual(reference(ms, ms));
  });
});

describe("scriptFile: names for people", () => {
  const m = (id: string, component: string, from: number, to: number) =>
    ({ id, component, from, to }) as unknown as Migration;
  it.each([
    // The id says component and epochs already (as sync names them): not said twice.
    [m("network-1-2-ipv6-ra", "network", 1, 2), "0001-network-1-2-ipv6-ra.sh"],
    [m("users-1-2", "users", 1, 2), "0001-users-1-2.sh"],
    // Otherwise the name says them before the id.
    [m("fix-groups", "users", 2, 3), "0001-users-2-3-fix-groups.sh"],
    [m("users-1-20", "users", 1, 2), "0001-users-1-2-users-1-20.sh"],
    [m("users-2-1-undo", "users", 1, 2), "0001-users-1-2-users-2-1-undo.sh"],
  ])("%o -> %s", (migration, name) => {
    expect(scriptFile(1, migration)).toBe(name);
  });
});
