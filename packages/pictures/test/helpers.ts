import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseGraph } from "@stepstone/graph/schema";
import { PlanContext, plan } from "@stepstone/planner";
import { FILE, type GraphJson, graphJson } from "@stepstone/test-utils";
// The benchmark's generator: release graphs at the scale of a vendor's whole history.
import { generate } from "../../../bench/generate.mjs";
import type { PicturePath } from "../src/index.js";

export const REPO = resolve(import.meta.dirname, "../../..");
export const SAMPLE = resolve(REPO, "release-graph.json");

type Json = Record<string, unknown>;

/** The bundled release-graph.json (the OpenBMC story of the README). */
export function sample(platform: string | null = null): PlanContext {
  return new PlanContext(parseGraph(sampleJson(), "release-graph.json").graph, platform);
}

export function sampleJson(): Json {
  return JSON.parse(readFileSync(SAMPLE, "utf8")) as Json;
}

/** A graph written as a user writes it, minus `schemaVersion` and the scripts' paths. */
export function context(g: GraphJson, platform: string | null = null): PlanContext {
  return new PlanContext(parseGraph(graphJson(g), FILE).graph, platform);
}

let bigCtx: PlanContext | undefined;
/** 1,000 releases in 50 lines, 40 components, 15,000 migrations, 100 golden. */
export function big(): PlanContext {
  bigCtx ??= new PlanContext(
    parseGraph(generate({ releases: 1000 }), "release-graph.json").graph,
    null,
  );
  return bigCtx;
}

/** The path `stepstone graph --from A --to B` draws: the plan without wipes, else with. */
export function pathOf(ctx: PlanContext, from: string, to: string): PicturePath {
  const a = ctx.releases.find((r) => r.version === from);
  const b = ctx.releases.find((r) => r.version === to);
  if (a === undefined || b === undefined) throw new Error(`no release ${a ? to : from}`);
  for (const allowWipe of [[], "all"] as const) {
    const res = plan(ctx, { from: a, to: b, allowWipe });
    if (res.reachable) return { from: res.plan.from, to: res.plan.to, plan: res.plan };
  }
  return { from: a, to: b, plan: null };
}

const release = (version: string, extra: Record<string, unknown> = {}) => ({
  version,
  epochs: { data: 1 },
  signedBy: "k1",
  trusts: ["k1"],
  ...extra,
});

/**
 * The marks' graph: 1.0.0 trusts only k1, so on the way to 2.0.0 (signed with k2) it
 * stops at 1.1.0, which trusts both (a key rotation); 3.0.0 upgrades only from >=2.1.0,
 * so 2.0.0 stops at 2.1.0 first; 2.1.1-transition.1 is a transition release no plan
 * between golden releases needs (2.1.0 is the cheaper stop: not a transition).
 */
export const MARKED: GraphJson = {
  components: { data: { paths: ["var/lib/data"] } },
  releases: [
    release("1.0.0", { golden: true }),
    release("1.1.0", { trusts: ["k1", "k2"] }),
    release("2.0.0", { golden: true, signedBy: "k2", trusts: ["k1", "k2"] }),
    release("2.1.0", { signedBy: "k2", trusts: ["k2"] }),
    release("2.1.1-transition.1", { transition: true, signedBy: "k2", trusts: ["k2"] }),
    release("3.0.0", { golden: true, upgradeFrom: ">=2.1.0", signedBy: "k2", trusts: ["k2"] }),
  ],
};
