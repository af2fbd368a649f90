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
      "users-2-1": ["may-go", false],
      "network-1-2": ["may-go", false],
      "network-2-1": ["may-go", false],
      "users-1-3": ["may-go", false],
      // 1.2.0 -> 1.3.0 could also go down to 1 before flashing and take users-1-3 at boot,
      // but users-1-3 went first: keep one of the two.
      "users-2-3": ["must-stay", true],
      "users-3-2": ["must-stay", false],
      "users-3-1": ["retired", false],
    });
    expect(verdict["users-1-2"]?.shippedIn).toBe(">=1.1.0 <1.3.0");
    expect(verdict["users-3-2"]?.opens.map((g) => `${g.from.version}->${g.to.version}`)).toEqual([
      "1.3.0->1.0.0",
      "1.3.0->1.2.0",
    ]);
    expect(verdict["users-3-1"]?.lastShippedBy).toBeNull();
  });

  it("is right: dropping what may go opens no gap; dropping a must-stay as well does", () => {
    const mayGo = Object.fromEntries(
      res.entries
        .filter((e) => e.verdict === "may-go")
        .map((e) => [e.migration.id, e.shippedIn as string]),
    );
    expect(gapPairs(dropped(GRAPH, mayGo))).toEqual([]);
    for (const e of res.entries.filter((x) => x.verdict === "must-stay")) {
      const m = e.migration;
      const more = { ...mayGo, [m.id]: capRange(m.shippedIn?.raw ?? "", "1.3.0") };
      const opened = gapPairs(dropped(GRAPH, more));
      expect(opened.length, m.id).toBeGreaterThan(0);
      expect(opened).toEqual(e.opens.map((g) => `${g.from.version}->${g.to.version}`));
    }
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
