import type { ParsedGraph, Release, ReleaseGraph } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import { FILE, type GraphJson, graphJson } from "@stepstone/test-utils";
import {
  gaps,
  gapsJson,
  matrix,
  matrixJson,
  PlanContext,
  plan,
  planJson,
  planWhy,
  type ReleaseSelection,
  selectReleases,
  suggest,
} from "../src/index.js";

/**
 * Shared by the planner's tests: a graph is written as the JSON a user writes, minus the
 * boilerplate (`GraphJson` of @stepstone/test-utils).
 */

type Json = Record<string, unknown>;

/**
 * The file with release entries appended (`gaps --suggest` prints them for this), parsed
 * the way stepstone reads the file: suggested entries must be valid entries.
 */
export function withEntries(g: GraphJson, entries: readonly object[]): ReleaseGraph {
  // An entry for a release the file has already extends it: only its ships change.
  const byVersion = new Map((entries as Json[]).map((e) => [e.version, e]));
  const releases = g.releases.map((r) => {
    const e = byVersion.get(r.version);
    return e === undefined ? r : { ...r, ships: e.ships };
  });
  const have = new Set(g.releases.map((r) => r.version));
  return graph({
    ...g,
    releases: [...releases, ...(entries as Json[]).filter((e) => !have.has(e.version))],
  });
}

export function parse(g: GraphJson): ParsedGraph {
  return parseGraph(graphJson(g), FILE);
}

export function graph(g: GraphJson): ReleaseGraph {
  return parse(g).graph;
}

/** Tests pass either the JSON or a graph already parsed (e.g. with releases added). */
export function context(g: GraphJson | ReleaseGraph, platform: string | null = null): PlanContext {
  return new PlanContext("platforms" in g ? g : graph(g), platform);
}

/** The release of the context with this version. */
export function at(ctx: PlanContext, version: string): Release {
  const r = ctx.releases.find((x) => x.version === version);
  if (r === undefined) throw new Error(`no release ${version} in the test graph`);
  return r;
}

export interface PlanOptions {
  allowWipe?: readonly string[] | "all";
  platform?: string;
  /** The device's actual epochs by component name (`plan --device`); others: the release's. */
  device?: Record<string, number>;
}

/** `stepstone plan --format json`, as the CLI prints it. */
export function planOf(
  g: GraphJson | ReleaseGraph,
  from: string,
  to: string,
  opts: PlanOptions = {},
) {
  const ctx = context(g, opts.platform ?? null);
  const res = plan(ctx, {
    from: at(ctx, from),
    to: at(ctx, to),
    ...(opts.allowWipe !== undefined && { allowWipe: opts.allowWipe }),
    ...(opts.device !== undefined && { device: opts.device }),
  });
  const why = res.reachable
    ? planWhy(ctx, res.plan, {
        ...(opts.allowWipe !== undefined && { allowWipe: opts.allowWipe }),
        ...(opts.device !== undefined && { device: opts.device }),
      })
    : [];
  return planJson(res, why);
}

/** A hop as a test states it: the release flashed, the script ids each side runs, the wipes. */
export interface Hop {
  to: string;
  preFlash: string[];
  boot: string[];
  wipe: string[];
}

/** The steps of the best plan in short form, or null when there is none. */
export function hopsOf(
  g: GraphJson | ReleaseGraph,
  from: string,
  to: string,
  opts: PlanOptions = {},
): Hop[] | null {
  const p = planOf(g, from, to, opts);
  if (!p.reachable) return null;
  return p.steps.map((s) => ({
    to: s.to,
    preFlash: s.preFlash.map((m) => m.id),
    boot: s.boot.map((m) => m.id),
    wipe: s.wipe,
  }));
}

/** The releases a plan flashes, in order (intermediate stops, then the target). */
export function routeOf(
  g: GraphJson | ReleaseGraph,
  from: string,
  to: string,
  opts: PlanOptions = {},
): string[] | null {
  return hopsOf(g, from, to, opts)?.map((h) => h.to) ?? null;
}

/** A hop with nothing to run and nothing to wipe. */
export function plain(to: string): Hop {
  return { to, preFlash: [], boot: [], wipe: [] };
}

/** Why there is no plan: the blockers without their sentences. */
export function blockersOf(
  g: GraphJson | ReleaseGraph,
  from: string,
  to: string,
  opts: PlanOptions = {},
) {
  const p = planOf(g, from, to, opts);
  if (p.reachable)
    throw new Error(`expected no plan from ${from} to ${to}, got ${routeOf(g, from, to, opts)}`);
  for (const b of p.blockers) {
    if (b.message.length === 0) throw new Error("a blocker without a message");
  }
  return p.blockers.map(({ message: _, ...rest }) => rest);
}

/** `matrix --format json` and `gaps --suggest --format json` for a release set. */
export function report(
  g: GraphJson | ReleaseGraph,
  sel: ReleaseSelection = { kind: "golden" },
  platform: string | null = null,
) {
  const ctx = context(g, platform);
  const m = matrix(ctx, selectReleases(ctx, sel));
  const gapList = gaps(ctx, m);
  const suggested = suggest(ctx, gapList);
  return { ctx, matrix: matrixJson(m), gaps: gapsJson(gapList, suggested), suggested };
}
