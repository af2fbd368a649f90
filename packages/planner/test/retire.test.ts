import { parseRange, type ReleaseGraph } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import { describe, expect, it } from "vitest";
import { capRange, gaps, matrix, PlanContext, retire, selectReleases } from "../src/index.js";

type Json = Record<string, unknown>;

/**
 * users moves 1 -> 2 in 1.1 and 2 -> 3 in 1.3 (with a 1 -> 3 shortcut); network (not
 * wipeable) moves 1 -> 2 in 1.2. 1.0.0 and 1.2.0 are golden; 1.3.0, the newest, is the
 * release being prepared.
 */
const GRAPH: Json = {
  schemaVersion: 1,
  components: {
    users: { paths: ["etc/passwd"] },
    network: { wipeable: false, paths: ["etc/systemd/network"] },
  },
  releases: [
    { version: "1.0.0", golden: true, epochs: { users: 1, network: 1 } },
    { version: "1.1.0", epochs: { users: 2, network: 1 } },
    { version: "1.2.0", golden: true, epochs: { users: 2, network: 2 } },
    { version: "1.3.0", epochs: { users: 3, network: 2 } },
  ],
  migrations: [
    ["users-1-2", "users", 1, 2, ">=1.1.0"],
    ["users-2-1", "users", 2, 1, ">=1.1.0"],
    ["network-1-2", "network", 1, 2, ">=1.2.0"],
    ["network-2-1", "network", 2, 1, ">=1.2.0"],
    ["users-1-3", "users", 1, 3, ">=1.3.0"],
    ["users-2-3", "users", 2, 3, ">=1.3.0"],
    ["users-3-2", "users", 3, 2, ">=1.3.0"],
    ["users-3-1", "users", 3, 1, "<1.0.0"],
  ].map(([id, component, from, to, shippedIn]) => ({
    id,
    component,
    from,
    to,
    script: `migrations/${id}.sh`,
    shippedIn,
  })),
};

const graphOf = (doc: Json): ReleaseGraph => parseGraph(doc, "g").graph;

/** The golden releases plus the newest, as retire checks them: their gap pairs. */
function gapPairs(g: ReleaseGraph): string[] {
  const ctx = new PlanContext(g, null);
  const set = [...selectReleases(ctx, { kind: "golden" }), ctx.n - 1];
  return gaps(ctx, matrix(ctx, set)).map((x) => `${x.from.version}->${x.to.version}`);
}

/** The hops of every connected pair of the same set, by "from->to". */
function hopPairs(g: ReleaseGraph): Record<string, number> {
  const ctx = new PlanContext(g, null);
  const set = [...selectReleases(ctx, { kind: "golden" }), ctx.n - 1];
  return Object.fromEntries(
    matrix(ctx, set)
      .cells.filter((c) => c.reachable)
      .map((c) => [`${c.from.version}->${c.to.version}`, c.hops as number]),
  );
}

/** The graph with these migrations' shippedIn replaced. */
function dropped(doc: Json, ranges: Record<string, string>): ReleaseGraph {
  const copy = structuredClone(doc);
  for (const m of copy.migrations as Json[]) {
    const r = ranges[m.id as string];
    if (r !== undefined) m.shippedIn = r;
  }
  return graphOf(copy);
}

describe("retire: how long must a migration be kept", () => {
  const res = retire(graphOf(GRAPH), null, { kind: "golden" });
  const verdict = Object.fromEntries(res.entries.map((e) => [e.migration.id, e]));

  it("asks about the newest release and keeps it connected with the golden ones", () => {
    expect(res.next.version).toBe("1.3.0");
    expect(res.keep.map((r) => r.version)).toEqual(["1.0.0", "1.2.0", "1.3.0"]);
    expect(res.gaps).toBe(0);
  });

  it("says what may go, what must stay, and why", () => {
    expect(
      Object.fromEntries(res.entries.map((e) => [e.migration.id, [e.verdict, e.alternative]])),
    ).toEqual({
      "users-1-2": ["may-go", false],
      // 1.3.0 -> 1.0.0 would stop at 1.1.0 or 1.2.0 to take users 2 -> 1 there.
      "users-2-1": ["must-stay", false],
      // 1.0.0 -> 1.3.0 would stop at 1.2.0 for network 1 -> 2 (and back down).
      "network-1-2": ["must-stay", false],
      "network-2-1": ["must-stay", false],
      // Alone it could go (users-1-2 then users-2-3 do 1 -> 3 on the same hop), but
      // users-1-2 went first: keep one of the two.
      "users-1-3": ["must-stay", true],
      "users-2-3": ["may-go", false],
      "users-3-2": ["must-stay", false],
      "users-3-1": ["retired", false],
    });
    expect(verdict["users-1-2"]?.shippedIn).toBe(">=1.1.0 <1.3.0");
    const longer = (id: string) =>
      verdict[id]?.lengthens.map((l) => [
        l.from.version,
        l.to.version,
        l.hops.before,
        l.hops.after,
      ]);
    expect(longer("users-2-1")).toEqual([["1.3.0", "1.0.0", 1, 2]]);
    expect(longer("network-1-2")).toEqual([["1.0.0", "1.3.0", 1, 2]]);
    expect(longer("network-2-1")).toEqual([["1.3.0", "1.0.0", 1, 2]]);
    expect(verdict["users-3-2"]?.opens.map((g) => `${g.from.version}->${g.to.version}`)).toEqual([
      "1.3.0->1.0.0",
      "1.3.0->1.2.0",
    ]);
    expect(verdict["users-3-1"]?.lastShippedBy).toBeNull();
  });

  it("is right: dropping what may go opens no gap and lengthens no plan; a must-stay as well does one or the other", () => {
    const mayGo = Object.fromEntries(
      res.entries
        .filter((e) => e.verdict === "may-go")
        .map((e) => [e.migration.id, e.shippedIn as string]),
    );
    const before = hopPairs(graphOf(GRAPH));
    expect(gapPairs(dropped(GRAPH, mayGo))).toEqual([]);
    expect(hopPairs(dropped(GRAPH, mayGo))).toEqual(before);
    // Each must-stay makes something worse if dropped as well (what it reports is measured
    // when it was tried, oldest first: a later may-go can turn a longer plan into a gap).
    for (const e of res.entries.filter((x) => x.verdict === "must-stay")) {
      const m = e.migration;
      const more = { ...mayGo, [m.id]: capRange(m.shippedIn?.raw ?? "", "1.3.0") };
      const opened = gapPairs(dropped(GRAPH, more));
      const after = hopPairs(dropped(GRAPH, more));
      const grew = Object.keys(after).filter(
        (k) => before[k] !== undefined && (after[k] as number) > (before[k] as number),
      );
      expect(opened.length + grew.length, m.id).toBeGreaterThan(0);
      expect(e.opens.length + e.lengthens.length, m.id).toBeGreaterThan(0);
    }
  });

  it("a migration whose loss adds a required stop must stay: the plans that get longer, from how many hops to how many", () => {
    // users 1 -> 2 in 1.1.0. Today 2.0.0 ships both directions, so 1.0.0 and 2.0.0 are one
    // hop apart; without them in 2.0.0 no gap opens (1.1.0 ships them too), but every
    // device stops at 1.1.0 on the way.
    const doc: Json = {
      schemaVersion: 1,
      components: { users: { paths: ["etc/passwd"] } },
      releases: [
        { version: "1.0.0", golden: true, epochs: { users: 1 } },
        { version: "1.1.0", epochs: { users: 2 } },
        { version: "2.0.0", epochs: { users: 2 } },
      ],
      migrations: [
        {
          id: "users-1-2",
          component: "users",
          from: 1,
          to: 2,
          script: "m/1-2.sh",
          shippedIn: ">=1.1.0",
        },
        {
          id: "users-2-1",
          component: "users",
          from: 2,
          to: 1,
          script: "m/2-1.sh",
          shippedIn: ">=1.1.0",
        },
      ],
    };
    const r = retire(graphOf(doc), null, { kind: "golden" });
    expect(
      r.entries.map((e) => ({
        id: e.migration.id,
        verdict: e.verdict,
        opens: e.opens.length,
        lengthens: e.lengthens.map((l) => ({
          from: l.from.version,
          to: l.to.version,
          hops: l.hops,
        })),
      })),
    ).toEqual([
      {
        id: "users-1-2",
        verdict: "must-stay",
        opens: 0,
        lengthens: [{ from: "1.0.0", to: "2.0.0", hops: { before: 1, after: 2 } }],
      },
      {
        id: "users-2-1",
        verdict: "must-stay",
        opens: 0,
        lengthens: [{ from: "2.0.0", to: "1.0.0", hops: { before: 1, after: 2 } }],
      },
    ]);
  });

  it("counts only new gaps: a gap that exists already is not the migration's fault", () => {
    const doc = structuredClone(GRAPH);
    (doc.releases as Json[]).unshift({
      version: "0.9.0",
      golden: true,
      epochs: { users: 7, network: 1 },
    });
    const r = retire(graphOf(doc), null, { kind: "golden" });
    expect(r.gaps).toBeGreaterThan(0);
    expect(r.entries.find((e) => e.migration.id === "users-1-2")?.verdict).toBe("may-go");
  });

  it("takes the kept set from --keep", () => {
    const r = retire(graphOf(GRAPH), null, {
      kind: "range",
      range: parseRange(">=1.1.0") as never,
    });
    expect(r.keep.map((x) => x.version)).toEqual(["1.1.0", "1.2.0", "1.3.0"]);
  });

  it("caps each alternative of a range", () => {
    expect(capRange(">=1.1.0", "1.3.0")).toBe(">=1.1.0 <1.3.0");
    expect(capRange("1.0.0 || >=1.2.0", "1.3.0")).toBe("1.0.0 <1.3.0 || >=1.2.0 <1.3.0");
    expect(capRange("*", "1.3.0")).toBe("<1.3.0");
  });
});
