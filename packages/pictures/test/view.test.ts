import { plan, planWhy } from "@stepstone/planner";
import { describe, expect, it } from "vitest";
import { planView } from "../src/page/view.js";
import { sample } from "./helpers.js";

const ctx = sample();
const at = (v: string) => ctx.release(ctx.releaseIndex(v));

describe("the page's plan view", () => {
  it("sums a plan up as `stepstone plan` does", () => {
    const v = planView(plan(ctx, { from: at("2.9.2"), to: at("2.11.0") }), [], null);
    expect(v).toMatchObject({
      status: "ok",
      verdict: "Plan",
      summary: "2 hops, 3 scripts, no wipe",
    });
    expect(v.steps.map((s) => s.to.version)).toEqual(["2.10.3", "2.11.0"]);
    expect(v.command).toBe("stepstone plan --from 2.9.2 --to 2.11.0");
  });

  it("counts transition stops and wipes", () => {
    const down = planView(plan(ctx, { from: at("2.11.0"), to: at("2.8.0") }), [], null);
    expect(down.summary).toBe("2 hops, 3 scripts, no wipe, 1 transition stop");
    const wipe = planView(
      plan(ctx, { from: at("2.13.0"), to: at("2.11.0"), allowWipe: ["ownership"] }),
      ["ownership"],
      "qemuarm",
      ctx.components,
    );
    expect(wipe).toMatchObject({ status: "wipes", summary: "1 hop, 0 scripts, 1 wipe" });
    expect(wipe.notes).toEqual([
      "Hop 1 erases the ownership data (var/lib/bmcweb, var/lib/phosphor-settings-manager, var/lib/phosphor-logging): the device starts with factory ownership settings.",
    ]);
    expect(wipe.command).toBe(
      "stepstone plan --from 2.13.0 --to 2.11.0 --allow-wipe ownership --platform qemuarm",
    );
  });

  it("lists what blocks a pair, and what would unblock it", () => {
    const v = planView(plan(ctx, { from: at("2.13.0"), to: at("2.9.2") }), [], null);
    expect(v.status).toBe("blocked");
    expect(v.summary).toBe("without wipes");
    expect(v.blockers.map((b) => [b.code, b.component])).toEqual([["wipe", "ownership"]]);
    expect(v.notes[0]).toBe(
      "Allowing ownership to be wiped would give a plan (that data is lost).",
    );
  });

  it("carries why each stop is needed, step by step (the target has none)", () => {
    const res = plan(ctx, { from: at("2.9.2"), to: at("2.11.0") });
    const v = planView(res, [], null, ctx.components, res.reachable ? planWhy(ctx, res.plan) : []);
    expect(v.why.map((w) => w.map((r) => r.code))).toEqual([["upgradeFrom"], []]);
  });

  it("has nothing to do from a release to itself", () => {
    const v = planView(plan(ctx, { from: at("2.9.2"), to: at("2.9.2") }), [], null);
    expect(v).toMatchObject({ status: "ok", summary: "0 hops, 0 scripts, no wipe", steps: [] });
  });
});
