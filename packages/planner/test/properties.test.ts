import { parseRange, parseVersion, rangeIntervals } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import {
  epochsOf,
  FILE,
  type GraphJson,
  graphArb,
  graphJson,
  largeGraphArb,
  PLATFORM,
  type RefGraph,
  type RefHop,
  type RefRequest,
  refHop,
  refPlan,
  refPlansFrom,
  requestArb,
  sometimes,
} from "@stepstone/test-utils";
import fc from "fast-check";
import semver from "semver";
import { describe, expect, it } from "vitest";
import {
  gaps,
  gapsJson,
  matrix,
  PlanContext,
  type PlanResult,
  plan,
  planJson,
  planWhy,
  selectReleases,
  suggest,
  withReleases,
} from "../src/index.js";
import { at, withEntries } from "./helpers.js";

/**
 * Invariants checked on random small graphs against reference.ts, a brute-force reading
 * of DESIGN.md that shares no code with the planner.
 */

const toJson = (g: RefGraph) => graphJson(g as unknown as GraphJson);

function model(g: RefGraph) {
  return parseGraph(toJson(g), FILE).graph;
}

type Request = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

/** One random request as the planner takes it and as the reference takes it. */
function readRequest(g: RefGraph, req: Request) {
  const names = Object.keys(g.components);
  // "first" may name a component that is not wipeable: the planner must not wipe it anyway.
  const allowWipe: string[] | "all" =
    req.allowWipe === "all" ? "all" : req.allowWipe === "first" ? names.slice(0, 1) : [];
  const device = req.device
    ? Object.fromEntries(names.map((n, i) => [n, req.device?.[i] as number]))
    : undefined;
  const wipeable = names.filter((n) => g.components[n]?.wipeable !== false);
  const ref: RefRequest = {
    allowWipe: new Set(
      allowWipe === "all" ? wipeable : wipeable.filter((n) => allowWipe.includes(n)),
    ),
    platform: req.platform,
    ...(device && { device }),
  };
  return { allowWipe, device, ref };
}

interface Case {
  from: string;
  to: string;
  res: PlanResult;
  ref: RefRequest;
}

/** The plan of every ordered pair of the graph's releases (each to itself too, for devices). */
function* requests(g: RefGraph, req: Request): Generator<Case> {
  const ctx = new PlanContext(model(g), req.platform);
  const { allowWipe, device, ref } = readRequest(g, req);
  for (const a of g.releases) {
    for (const b of g.releases) {
      const res = plan(ctx, {
        from: at(ctx, a.version),
        to: at(ctx, b.version),
        allowWipe,
        ...(device && { device }),
      });
      yield { from: a.version, to: b.version, res, ref };
    }
  }
}

function shortSteps(res: PlanResult): RefHop[] {
  if (!res.reachable) return [];
  return res.plan.steps.map((s) => ({
    to: s.to.version,
    preFlash: s.preFlash.map((m) => m.id),
    boot: s.boot.map((m) => m.id),
    wipe: [...s.wipe],
  }));
}

/** More runs for a bug hunt: STEPSTONE_PROPERTY_SCALE=20 pnpm exec vitest run packages/planner */
const SCALE = Number(process.env.STEPSTONE_PROPERTY_SCALE ?? 1) || 1;
const runs = (n: number) => ({ numRuns: Math.round(n * SCALE) });
const RUNS = runs(500);

describe("plans on random graphs", () => {
  it("every intermediate stop says why it is needed; the target says nothing", () => {
    fc.assert(
      fc.property(graphArb, requestArb, (g, req) => {
        const ctx = new PlanContext(model(g), req.platform);
        const { allowWipe } = readRequest(g, req);
        for (const c of requests(g, req)) {
          if (!c.res.reachable) continue;
          const why = planWhy(ctx, c.res.plan, {
            allowWipe,
            ...(c.ref.device && { device: c.ref.device }),
          });
          const steps = c.res.plan.steps;
          expect(why.length, `${c.from} -> ${c.to}`).toBe(steps.length);
          steps.forEach((s, i) => {
            const last = i === steps.length - 1;
            expect(why[i]?.length === 0, `${c.from} -> ${c.to}, stop ${s.to.version}`).toBe(last);
          });
        }
      }),
      runs(150),
    );
  });

  it("every hop of a returned plan is legal, with the chains and wipes the rules pick", () => {
    fc.assert(
      fc.property(graphArb, requestArb, (g, req) => {
        for (const c of requests(g, req)) {
          if (!c.res.reachable) continue;
          const byVersion = new Map(g.releases.map((r) => [r.version, r]));
          let here = byVersion.get(c.from) as RefGraph["releases"][number];
          let data = c.ref.device ?? epochsOf(g, here, c.ref.platform);
          for (const step of shortSteps(c.res)) {
            const next = byVersion.get(step.to) as RefGraph["releases"][number];
            const expected = refHop(g, here, data, next, c.ref.allowWipe, c.ref.platform);
            expect(
              expected,
              `hop ${here.version} -> ${step.to} of ${c.from} -> ${c.to}`,
            ).not.toBeNull();
            expect(step).toEqual(expected);
            here = next;
            data = epochsOf(g, next, c.ref.platform);
          }
          expect(here.version).toBe(c.to);
          // The JSON's totals are its steps'.
          const json = planJson(c.res);
          if (json.reachable) {
            expect(json.hops).toBe(json.steps.length);
            expect(json.wipes).toBe(json.steps.reduce((n, s) => n + s.wipe.length, 0));
          }
        }
      }),
      RUNS,
    );
  });

  it("no cheaper plan exists, and among equal plans the higher stops win", () => {
    fc.assert(
      fc.property(graphArb, requestArb, (g, req) => {
        for (const c of requests(g, req)) {
          const ref = refPlan(g, c.from, c.to, c.ref);
          const what = `${c.from} -> ${c.to}`;
          if (ref === null) {
            expect(c.res.reachable, `${what}: the brute force finds no plan`).toBe(false);
            continue;
          }
          expect(c.res.reachable, `${what}: the brute force finds a plan`).toBe(true);
          if (!c.res.reachable) continue;
          const p = c.res.plan;
          expect([p.wipes, p.hops, p.transitions, p.scripts], what).toEqual(ref.cost);
          expect(shortSteps(c.res), what).toEqual(ref.hops);
        }
      }),
      RUNS,
    );
  });
});

describe("plans on random larger histories (20-70 releases)", () => {
  it("from one source to every release: the best plans, by a layer-by-layer reference", () => {
    fc.assert(
      fc.property(largeGraphArb, requestArb, fc.nat(), (g, req, pick) => {
        const ctx = new PlanContext(model(g), req.platform);
        const from = g.releases[pick % g.releases.length]?.version as string;
        const { allowWipe, device, ref: request } = readRequest(g, req);
        const ref = refPlansFrom(g, from, request);
        const a = at(ctx, from);
        ctx.releases.forEach((target) => {
          const res = plan(ctx, {
            from: a,
            to: target,
            allowWipe,
            ...(device && { device }),
          });
          const want = ref.get(target.version);
          const what = `${from} -> ${target.version}`;
          expect(res.reachable, what).toBe(want !== undefined);
          if (!res.reachable || want === undefined) return;
          const p = res.plan;
          expect([p.wipes, p.hops, p.transitions, p.scripts], what).toEqual(want.cost);
          expect(shortSteps(res), what).toEqual(want.hops);
        });
      }),
      runs(100),
    );
  });
});

describe("matrix and gaps on random graphs", () => {
  it("each cell is the best plan with every wipeable component allowed; gaps are the cells that wipe or fail", () => {
    fc.assert(
      fc.property(
        graphArb,
        fc.constantFrom<"golden" | "all">("golden", "all"),
        sometimes(fc.constant(PLATFORM), 0.3),
        (g, kind, platform) => {
          const ctx = new PlanContext(model(g), platform);
          const set = selectReleases(ctx, { kind });
          const expected = g.releases
            .filter((r) => r.withdrawn !== true && (kind === "all" || r.golden === true))
            .map((r) => r.version);
          expect(set.map((r) => r.version).sort()).toEqual(expected.sort());
          const m = matrix(ctx, set);
          expect(m.cells).toHaveLength(set.length * (set.length - 1));
          const wipeable = new Set(
            Object.keys(g.components).filter((n) => g.components[n]?.wipeable !== false),
          );
          for (const cell of m.cells) {
            const ref = refPlan(g, cell.from.version, cell.to.version, {
              allowWipe: wipeable,
              platform,
            });
            const what = `${cell.from.version} -> ${cell.to.version}`;
            expect(cell.reachable, what).toBe(ref !== null);
            if (ref === null || cell.plan === null) continue;
            expect(
              [cell.plan.wipes, cell.plan.hops, cell.plan.transitions, cell.plan.scripts],
              what,
            ).toEqual(ref.cost);
          }
          const failing = m.cells.filter((c) => !c.reachable || (c.plan?.wipes ?? 0) > 0);
          const gapList = gaps(ctx, m);
          expect(gapList.map((x) => [x.from.version, x.to.version])).toEqual(
            failing.map((c) => [c.from.version, c.to.version]),
          );
          for (const x of gapList) {
            expect(x.reason.code).toBe(x.plan === null ? x.reason.code : "wipe");
            expect(["wipe", "key", "upgradeFrom", "runner", "noChain"]).toContain(x.reason.code);
            expect(x.reason.message.length).toBeGreaterThan(0);
          }
        },
      ),
      runs(300),
    );
  });
});

/** Is there any chain of the component's migrations from one epoch to another? */
function anyChain(g: RefGraph, component: string, from: number, to: number): boolean {
  const seen = new Set([from]);
  const todo = [from];
  while (todo.length > 0) {
    const e = todo.pop() as number;
    if (e === to) return true;
    for (const m of g.migrations) {
      if (m.component === component && m.from === e && !seen.has(m.to)) {
        seen.add(m.to);
        todo.push(m.to);
      }
    }
  }
  return false;
}

describe("suggest on random graphs", () => {
  it("the suggested releases, added to the file, close exactly the gaps they claim, and every other gap names its missing migration", () => {
    fc.assert(
      fc.property(
        graphArb,
        fc.constantFrom<"golden" | "all">("golden", "all"),
        fc.option(fc.constant(PLATFORM), { freq: 3 }),
        (g, kind, platform) => {
          const ctx = new PlanContext(model(g), platform);
          const gapList = gaps(ctx, matrix(ctx, selectReleases(ctx, { kind })));
          const suggested = suggest(ctx, gapList);
          // Deterministic: the same answer twice.
          expect(gapsJson(gapList, suggest(ctx, gapList))).toEqual(gapsJson(gapList, suggested));

          const isGap = new Set(gapList.map((x) => `${x.from.version} ${x.to.version}`));
          const claimed = suggested.suggestions.flatMap((s) =>
            s.closes.map((p) => [p.from.version, p.to.version] as const),
          );
          for (const [a, b] of claimed) expect(isGap.has(`${a} ${b}`), `${a} -> ${b}`).toBe(true);

          // The entries are valid release entries: appended to the file, it still parses...
          const entries = suggested.suggestions.map((s) => s.release);
          const reparsed = withEntries(g as unknown as GraphJson, entries);
          // ...and, parsed or added in memory, they connect each claimed pair without a wipe.
          for (const graph of [reparsed, withReleases(ctx.graph, entries)]) {
            const next = new PlanContext(graph, platform);

            for (const [a, b] of claimed) {
              const res = plan(next, { from: at(next, a), to: at(next, b) });
              expect(res.reachable, `${a} -> ${b} with ${entries.map((e) => e.version)}`).toBe(
                true,
              );
            }
          }

          // No gap is left unanswered: closed by a suggestion, or it needs a migration that
          // is named (a source that trusts no key at all can never be left).
          const answered = new Set([
            ...claimed.map(([a, b]) => `${a} ${b}`),
            ...suggested.missing.flatMap((m) =>
              m.for.map((p) => `${p.from.version} ${p.to.version}`),
            ),
          ]);
          for (const gap of gapList) {
            if (gap.from.trusts !== null && gap.from.trusts.length === 0) continue;
            expect(
              answered.has(`${gap.from.version} ${gap.to.version}`),
              `${gap.from.version} -> ${gap.to.version} (${gap.reason.code}) left unanswered`,
            ).toBe(true);
          }

          // A missing migration is named only when no chain of existing scripts exists.
          for (const miss of suggested.missing) {
            expect(anyChain(g, miss.component, miss.from, miss.to)).toBe(false);
            for (const pair of miss.for) {
              expect(isGap.has(`${pair.from.version} ${pair.to.version}`)).toBe(true);
              const ci = ctx.componentIndex(miss.component);
              expect([
                ctx.epoch(ctx.releases.indexOf(pair.from), ci),
                ctx.epoch(ctx.releases.indexOf(pair.to), ci),
              ]).toEqual([miss.from, miss.to]);
            }
          }
        },
      ),
      runs(300),
    );
  });
});

// Versions with prereleases, and ranges in every syntax node-semver reads.
const versionArb = fc
  .record({
    major: fc.integer({ min: 0, max: 2 }),
    minor: fc.integer({ min: 0, max: 2 }),
    patch: fc.integer({ min: 0, max: 2 }),
    pre: fc.constantFrom("", "-0", "-alpha", "-rc.1", "-rc.2", "-rc.10", "-transition.1"),
  })
  .map((v) => `${v.major}.${v.minor}.${v.patch}${v.pre}`);

/** Versions as written in ranges, sometimes with build metadata (which precedence ignores). */
const boundArb = fc
  .tuple(versionArb, fc.constantFrom("", "", "", "+build.7"))
  .map(([v, b]) => v + b);

const partialArb = fc.oneof(
  boundArb,
  fc.integer({ min: 0, max: 2 }).map((m) => `${m}`),
  fc.integer({ min: 0, max: 2 }).map((m) => `${m}.x`),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([m, n]) => `${m}.${n}`),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([m, n]) => `${m}.${n}.x`),
  fc.constantFrom("*", "x"),
);

const comparatorArb = fc
  .tuple(
    fc.constantFrom("", "=", ">", ">=", "<", "<=", "^", "~", "~>"),
    fc.constantFrom("", "", " "),
    partialArb,
  )
  .map(([op, space, v]) => `${op}${op === "" ? "" : space}${v}`);

const setArb = fc.oneof(
  fc
    .tuple(fc.array(comparatorArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(" ", "  "))
    .map(([cs, sep]) => cs.join(sep)),
  fc.tuple(partialArb, partialArb).map(([a, b]) => `${a} - ${b}`),
);

const rangeTextArb = fc
  .tuple(fc.array(setArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(" || ", "||", " ||  "))
  .map(([sets, sep]) => sets.join(sep));

describe("ranges", () => {
  it("rangeIntervals and VersionRange.test match node-semver's satisfies (prereleases included)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(versionArb, { maxLength: 24 }), rangeTextArb, (versions, text) => {
        const range = parseRange(text);
        expect(range === null, `"${text}" parses as node-semver reads it`).toBe(
          semver.validRange(text, { includePrerelease: true }) === null,
        );
        if (range === null) return;
        const sorted = versions
          .map((v) => parseVersion(v) as semver.SemVer)
          .sort((a, b) => a.compare(b));
        const want = sorted.flatMap((v, i) =>
          semver.satisfies(v.version, text, { includePrerelease: true }) ? [i] : [],
        );
        const got: number[] = [];
        for (const [lo, hi] of rangeIntervals(range, sorted))
          for (let i = lo; i < hi; i++) got.push(i);
        const what = `${text} over ${sorted.map((v) => v.version).join(" ")}`;
        expect(got, what).toEqual(want);
        // With the index of release versions (as the shipping index passes it), when the
        // versions are distinct releases.
        const keys = sorted.map((v) => v.version);
        if (new Set(keys).size === keys.length) {
          const indexed: number[] = [];
          const indexOf = new Map(keys.map((k, i) => [k, i]));
          for (const [lo, hi] of rangeIntervals(range, sorted, indexOf))
            for (let i = lo; i < hi; i++) indexed.push(i);
          expect(indexed, what).toEqual(want);
        }
        expect(
          sorted.flatMap((v, i) => (range.test(v) ? [i] : [])),
          what,
        ).toEqual(want);
      }),
      runs(500),
    );
  });
});

/** Every assignment of one of `values` to each name. */
function assignments(
  names: readonly string[],
  values: readonly number[],
): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const n of names) out = out.flatMap((a) => values.map((v) => ({ ...a, [n]: v })));
  return out;
}

describe("suggest is minimal in scripts", () => {
  it("no other choice of a suggestion's epochs (shipping every script) closes the same pairs with fewer scripts on their plans", () => {
    fc.assert(
      fc.property(
        graphArb,
        fc.constantFrom<"golden" | "all">("golden", "all"),
        fc.option(fc.constant(PLATFORM), { freq: 3 }),
        (g, kind, platform) => {
          const ctx = new PlanContext(model(g), platform);
          const gapList = gaps(ctx, matrix(ctx, selectReleases(ctx, { kind })));
          const { suggestions } = suggest(ctx, gapList);
          const names = ctx.components.map((c) => c.name);
          const epochs = [
            ...new Set([
              ...Array.from(ctx.epochs),
              ...ctx.graph.migrations.flatMap((m) => [m.from, m.to]),
            ]),
          ];
          const everyId = ctx.graph.migrations.map((m) => m.id).sort();
          // The scripts the plans of these pairs run with `entry` in place of suggestion i
          // (the others stay); null when one of them is not closed.
          const scriptsWith = (i: number, entry: (typeof suggestions)[number]["release"]) => {
            const entries = suggestions.map((s, j) => (j === i ? entry : s.release));
            const next = new PlanContext(withReleases(ctx.graph, entries), platform);
            let total = 0;
            for (const p of suggestions[i]?.closes ?? []) {
              const res = plan(next, {
                from: at(next, p.from.version),
                to: at(next, p.to.version),
              });
              if (!res.reachable) return null;
              total += res.plan.steps.reduce((n, s) => n + s.preFlash.length + s.boot.length, 0);
            }
            return total;
          };
          suggestions.forEach((s, i) => {
            const mine = scriptsWith(i, s.release);
            expect(mine, `${s.release.version} closes what it claims`).not.toBeNull();
            // A reused release keeps its epochs (it exists): only its ships are compared.
            const vectors = s.extends === null ? assignments(names, epochs) : [s.release.epochs];
            for (const vector of vectors) {
              const other = scriptsWith(i, { ...s.release, epochs: vector, ships: everyId });
              if (other === null) continue;
              expect(
                mine as number,
                `${s.release.version} at ${JSON.stringify(s.release.epochs)} vs ${JSON.stringify(vector)}`,
              ).toBeLessThanOrEqual(other);
            }
          });
        },
      ),
      runs(200),
    );
  });
});
