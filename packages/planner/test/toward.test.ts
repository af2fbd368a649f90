import { parseGraph } from "@stepstone/graph/schema";
import {
  FILE,
  type GraphJson,
  graphArb,
  graphJson,
  largeGraphArb,
  type RefGraph,
  requestArb,
} from "@stepstone/test-utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlanContext, type PlanResult, planJson } from "../src/index.js";
import { planFrom } from "../src/plan.js";
// The fast paths behind DevicePlanner, tested against plan directly.
import { stopReasons } from "../src/stops.js";
import { plansToward, reachWithoutWipes } from "../src/toward.js";
import { context } from "./helpers.js";

/**
 * plansToward (one backward search for many origins) must give exactly what plan gives for
 * each origin: same hops, scripts, wipes, totals, and the same stops among equal plans.
 */

const full = (r: PlanResult) =>
  r.reachable
    ? { ...planJson(r), transitions: r.plan.transitions, scripts: r.plan.scripts }
    : planJson(r);

function check(g: RefGraph, req: typeof requestArb extends fc.Arbitrary<infer T> ? T : never) {
  const ctx = new PlanContext(
    parseGraph(graphJson(g as unknown as GraphJson), FILE).graph,
    req.platform,
  );
  const names = ctx.components.map((c) => c.name);
  const allowWipe: string[] | "all" =
    req.allowWipe === "all" ? "all" : req.allowWipe === "first" ? names.slice(0, 1) : [];
  const deviceEpochs = req.device
    ? Int32Array.from(names.map((_, i) => req.device?.[i] as number))
    : undefined;
  // `plan` from release index `from`, with these device epochs (by component index).
  const origin = (from: number, epochs: Int32Array | undefined) => ({
    release: from,
    epochs: epochs ?? ctx.releaseEpochs(from),
  });
  const all = Array.from({ length: ctx.n }, (_, i) => i);
  const reach = reachWithoutWipes(ctx, all);
  for (let from = 0; from < ctx.n; from++) {
    for (const epochs of [undefined, deviceEpochs]) {
      const want = all.map((to) => planFrom(ctx, origin(from, epochs), to, undefined).reachable);
      expect(reach(from, epochs), `reach from ${from}`).toEqual(want);
    }
  }
  for (let to = 0; to < ctx.n; to++) {
    const toward = plansToward(ctx, { to, allowWipe });
    for (let from = 0; from < ctx.n; from++) {
      for (const epochs of [undefined, deviceEpochs]) {
        const want = planFrom(ctx, origin(from, epochs), to, allowWipe);
        const got = toward.plan(from, epochs);
        expect(full(got), `${from} -> ${to}`).toEqual(full(want));
        const route = toward.route(from, epochs);
        if (!want.reachable) expect(route).toBeNull();
        else {
          expect(route?.hops).toBe(want.plan.hops);
          expect(route?.scripts).toBe(want.plan.scripts);
          expect(route?.steps.map((s) => [s.to.version, s.wipe])).toEqual(
            want.plan.steps.map((s) => [s.to.version, s.wipe]),
          );
        }
      }
    }
  }
}

describe("plansToward equals plan for every origin (reachWithoutWipes: its reachability)", () => {
  it("on random small graphs, with and without device data, wipes and platforms", () => {
    fc.assert(fc.property(graphArb, requestArb, check), { numRuns: 300 });
  });

  it("on random histories past one bitset word (20-70 releases)", () => {
    fc.assert(fc.property(largeGraphArb, requestArb, check), { numRuns: 15 });
  });

  it("a device already on the target needs nothing; one whose data lags needs real hops", () => {
    const ctx = context({
      components: { users: { paths: ["etc/passwd"] } },
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0" }],
    });
    const toward = plansToward(ctx, { to: 1 });
    expect(toward.route(1)).toMatchObject({ hops: 0, steps: [] });
    // 2.0.0 with its users data still at 1 (its boot migration failed): back to 1.0.0,
    // whose data that is, then up again, when 2.0.0's boot runs users-1-2 once more.
    const lagging = toward.route(1, Int32Array.of(1));
    expect(lagging?.steps.map((s) => s.to.version)).toEqual(["1.0.0", "2.0.0"]);
    expect(stopReasons(ctx, 1, lagging?.steps ?? [], Int32Array.of(1))).toMatchObject([
      { stop: { version: "1.0.0" }, why: [{ code: "data" }] },
    ]);
  });
});
