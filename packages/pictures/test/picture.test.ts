import { transitionUse } from "@stepstone/planner";
import { describe, expect, it } from "vitest";
import { FOLD_MIN, type Picture, picture } from "../src/index.js";
import { big, context, MARKED, pathOf, sample } from "./helpers.js";

/** Each edge as one line: `from -> to` (`<->` both ways), why it is drawn, its label. */
function edges(p: Picture): string[] {
  return p.edges.map((e) => {
    const why = [e.next && "next", e.golden && "golden", e.step !== null && `step ${e.step}`]
      .filter(Boolean)
      .join("+");
    const extra = [
      ...(e.wipe.length > 0 ? [`wipes ${e.wipe.join(",")}`] : []),
      ...(e.blocked ? [`blocked ${e.blocked}`] : []),
    ];
    return `${e.from} ${e.both ? "<->" : "->"} ${e.to} ${why || "path"}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
  });
}

/** The marked releases: each stop's rule (and the release it is the way to), "unused". */
function marks(p: Picture): Record<string, string[]> {
  return Object.fromEntries(
    p.lines
      .flatMap((l) => l.nodes)
      .filter((n) => n.stops.length > 0 || n.unused)
      .map((n) => [
        n.id,
        [
          ...n.stops.map((m) =>
            m.code === "key"
              ? `key ${m.key} (to ${m.after})`
              : `upgradeFrom ${m.range} (of ${m.after})`,
          ),
          ...(n.unused ? ["unused"] : []),
        ],
      ]),
  );
}

const rows = (p: Picture) => p.lines.map((l) => `${l.name}: ${l.nodes.map((n) => n.id).join(" ")}`);

describe("the sample graph", () => {
  const p = picture(sample());

  it("groups the releases by line, each line in version order", () => {
    expect(rows(p)).toEqual([
      "2.8: 2.8.0",
      "2.9: 2.9.0 2.9.1 2.9.2",
      "2.10: 2.10.0 2.10.1-transition.1 2.10.1 2.10.2 2.10.3",
      "2.11: 2.11.0 2.11.1",
      "2.12: 2.12.0",
      "2.13: 2.13.0",
    ]);
  });

  it("tags golden, transition, withdrawn and runner-less releases", () => {
    const tags = Object.fromEntries(
      p.lines.flatMap((l) => l.nodes).map((n) => [n.id, n.tags.join(",")]),
    );
    expect(tags["2.8.0"]).toBe("golden,no runner");
    expect(tags["2.9.2"]).toBe("golden");
    expect(tags["2.10.1-transition.1"]).toBe("transition");
    expect(tags["2.10.2"]).toBe("withdrawn");
    expect(tags["2.10.1"]).toBe("");
  });

  it("draws the way up and the hops of the golden releases' plans, nothing else", () => {
    expect(edges(p)).toEqual([
      // The way up: the next release, past the withdrawn 2.10.2 and the transition release.
      "2.8.0 -> 2.9.0 next",
      // The key rotation: 2.8.0 trusts only vendor-2023, 2.9.1 trusts both keys.
      "2.8.0 -> 2.9.1 golden",
      "2.9.0 -> 2.9.1 next",
      "2.9.1 -> 2.9.2 next+golden",
      "2.9.2 -> 2.8.0 golden",
      "2.9.2 -> 2.10.0 next",
      // 2.11.0 upgrades only from >=2.10.0: a stop first.
      "2.9.2 -> 2.10.3 golden",
      "2.10.0 -> 2.10.1 next",
      // The way down: through the transition release, which ships the down-migrations.
      "2.10.1-transition.1 -> 2.9.2 golden",
      "2.10.1 -> 2.10.3 next",
      // The way off the withdrawn release.
      "2.10.2 -> 2.10.3 next",
      "2.10.3 -> 2.11.0 next+golden",
      "2.11.0 -> 2.10.1-transition.1 golden",
      "2.11.0 -> 2.11.1 next",
      "2.11.0 -> 2.13.0 golden",
      "2.11.1 -> 2.12.0 next",
      "2.12.0 -> 2.13.0 next",
      // 2.13.0's way back is not built yet (the gap of the README).
      "2.13.0 -> 2.11.0 golden (wipes ownership)",
    ]);
    expect(p.path).toBeNull();
  });

  it("highlights a plan: its releases, its hops numbered, the ones not drawn added", () => {
    const ctx = sample();
    const q = picture(ctx, { path: pathOf(ctx, "2.13.0", "2.9.2") });
    const path = edges(q).filter((e) => /step/.test(e) || / path/.test(e));
    expect(path).toEqual([
      "2.10.1-transition.1 -> 2.9.2 golden+step 2",
      "2.13.0 -> 2.10.1-transition.1 step 1 (wipes ownership)",
    ]);
    const on = q.lines.flatMap((l) => l.nodes).filter((n) => n.onPath);
    expect(on.map((n) => n.id)).toEqual(["2.9.2", "2.10.1-transition.1", "2.13.0"]);
  });

  it("marks the stops the key rotation and 2.11.0's upgradeFrom force; the transition release is used", () => {
    expect(marks(p)).toEqual({
      "2.9.1": ["key vendor-2025 (to 2.9.2)"],
      "2.10.3": ["upgradeFrom >=2.10.0 (of 2.11.0)"],
    });
  });

  it("applies a platform's epochs", () => {
    // On qemuarm 2.9.2 is already non-root: 2.9.1's data reaches it only through 2.10.x.
    const q = picture(sample("qemuarm"));
    expect(q.platform).toBe("qemuarm");
    expect(edges(q)).toContain("2.9.1 -> 2.9.2 next (wipes users,ownership)");
  });
});

const plain = (version: string, extra: Record<string, unknown> = {}) => ({
  version,
  epochs: { data: 1 },
  signedBy: "k1",
  trusts: ["k1"],
  ...extra,
});

describe("marks", () => {
  it("marks a stop a key rotation forces, one an upgradeFrom forces, and an unused transition release", () => {
    // MARKED: 1.0.0 trusts k1 only, 2.0.0 is signed with k2, 1.1.0 trusts both; 3.0.0
    // upgrades only from >=2.1.0; nothing needs 2.1.1-transition.1.
    const p = picture(context(MARKED));
    expect(marks(p)).toEqual({
      "1.1.0": ["key k2 (to 2.0.0)"],
      "2.1.0": ["upgradeFrom >=2.1.0 (of 3.0.0)"],
      "2.1.1-transition.1": ["unused"],
    });
    // The golden plans take the marked stops; no drawn hop touches the unused release.
    expect(edges(p)).toEqual([
      "1.0.0 -> 1.1.0 next+golden",
      "1.1.0 -> 2.0.0 next+golden",
      "2.0.0 -> 1.0.0 golden",
      "2.0.0 -> 2.1.0 next+golden",
      "2.1.0 -> 3.0.0 next+golden",
      "3.0.0 -> 2.0.0 golden",
    ]);
  });

  it("calls a transition release unused exactly when the planner's transitionUse finds no plan stopping at it", () => {
    for (const ctx of [context(MARKED), sample(), sample("qemuarm")]) {
      const unused = picture(ctx)
        .lines.flatMap((l) => l.nodes)
        .filter((n) => n.unused)
        .map((n) => n.id);
      const none = ctx.releases
        .filter((r) => r.transition && transitionUse(ctx.graph, r, ctx.platform).stops.length === 0)
        .map((r) => r.version);
      expect(unused).toEqual(none);
    }
  });

  it("marks the forced stops of a highlighted plan too", () => {
    // 1.0.0 -> 3.0.0 is not a pair of neighbouring golden releases: its plan is drawn only
    // as the path, and its stops are marked from it.
    const ctx = context({
      ...MARKED,
      releases: MARKED.releases.filter((r) => r.version !== "2.0.0"),
    });
    expect(marks(picture(ctx))).toEqual({
      "1.1.0": ["key k2 (to 2.1.0)"],
      "2.1.0": ["upgradeFrom >=2.1.0 (of 3.0.0)"],
      "2.1.1-transition.1": ["unused"],
    });
    const q = picture(ctx, { path: pathOf(ctx, "1.1.0", "3.0.0") });
    expect(marks(q)["2.1.0"]).toEqual(["upgradeFrom >=2.1.0 (of 3.0.0)"]);
  });
});

describe("folding", () => {
  // 1.0.0 ... 1.0.6 golden at both ends; 1.0.6 upgrades only from >=1.0.3; 2.0.0 signed
  // with a key no 1.x release trusts.
  const g = {
    components: { data: { paths: ["var/lib/data"] } },
    releases: [
      plain("1.0.0", { golden: true }),
      plain("1.0.1"),
      plain("1.0.2"),
      plain("1.0.3"),
      plain("1.0.4"),
      plain("1.0.5"),
      plain("1.0.6", { golden: true, upgradeFrom: ">=1.0.3" }),
      plain("2.0.0", { signedBy: "k2", trusts: ["k2"] }),
    ],
  };

  it(`folds ${FOLD_MIN} or more ordinary releases, but not where a golden plan stops`, () => {
    const p = picture(context(g));
    // 1.0.0 -> 1.0.6 must stop in >=1.0.3 first, and the higher stop wins: 1.0.5.
    expect(rows(p)).toEqual(["1.0: 1.0.0 1.0.1..1.0.4 1.0.5 1.0.6", "2.0: 2.0.0"]);
    const run = p.lines[0]?.nodes[1];
    expect(run?.releases.map((r) => r.version)).toEqual(["1.0.1", "1.0.2", "1.0.3", "1.0.4"]);
    expect(edges(p)).toEqual([
      "1.0.0 -> 1.0.1..1.0.4 next",
      "1.0.0 -> 1.0.5 golden",
      "1.0.1..1.0.4 -> 1.0.5 next",
      "1.0.5 -> 1.0.6 next+golden",
      "1.0.6 -> 1.0.0 golden",
      // A blocked hop is drawn where the way up breaks, with the reason.
      "1.0.6 -> 2.0.0 next (blocked key)",
    ]);
  });

  it("keeps the releases of a highlighted plan out of the fold", () => {
    const ctx = context(g);
    const p = picture(ctx, { path: pathOf(ctx, "1.0.1", "1.0.6") });
    expect(rows(p)[0]).toBe("1.0: 1.0.0 1.0.1 1.0.2..1.0.4 1.0.5 1.0.6");
    expect(edges(p)).toContain("1.0.1 -> 1.0.5 step 1");
    expect(edges(p)).toContain("1.0.5 -> 1.0.6 next+golden+step 2");
  });

  it("draws a hop both ways as one edge when both are alike", () => {
    const components = { data: { paths: ["var/lib/data"] } };
    const p = picture(
      context({
        components,
        releases: [plain("1.0.0", { golden: true }), plain("1.1.0", { golden: true })],
      }),
    );
    expect(edges(p)).toEqual(["1.0.0 <-> 1.1.0 next+golden"]);
    const q = picture(
      context({
        components,
        releases: [
          plain("1.0.0", { golden: true }),
          plain("1.0.1"),
          plain("1.0.2"),
          plain("1.0.3"),
          plain("1.1.0", { golden: true }),
        ],
      }),
    );
    expect(edges(q)).toEqual([
      "1.0.0 -> 1.0.1..1.0.3 next",
      "1.0.0 <-> 1.1.0 golden",
      "1.0.1..1.0.3 -> 1.1.0 next",
    ]);
  });
});

describe("the way up", () => {
  it("skips a line of withdrawn releases, and leaves it by the next line", () => {
    const p = picture(
      context({
        components: { data: { paths: ["var/lib/data"] } },
        releases: [plain("1.0.0"), plain("1.1.0", { withdrawn: true }), plain("1.2.0")],
      }),
    );
    expect(edges(p)).toEqual(["1.0.0 -> 1.2.0 next", "1.1.0 -> 1.2.0 next"]);
  });
});

describe("a graph of 1,000 releases", () => {
  const ctx = big();
  const p = picture(ctx);
  const nodes = p.lines.flatMap((l) => l.nodes);

  it("stays readable: a few nodes per line, fewer edges than half the releases", () => {
    expect(ctx.releases).toHaveLength(1000);
    expect(p.lines).toHaveLength(50);
    expect(nodes.length).toBeLessThanOrEqual(300);
    expect(p.edges.length).toBeLessThanOrEqual(500); // also Mermaid's limit
    expect(p.edges.length).toBeLessThan(ctx.releases.length / 2);
  });

  it("shows every release exactly once, every golden and transition release on its own", () => {
    const shown = nodes.flatMap((n) => n.releases.map((r) => r.version));
    expect(shown).toHaveLength(1000);
    expect(new Set(shown).size).toBe(1000);
    for (const r of ctx.releases.filter((x) => x.golden || x.transition)) {
      expect(nodes.find((n) => n.id === r.version)?.releases).toEqual([r]);
    }
  });

  it("connects every line to the next, and every golden release to its neighbours", () => {
    const linked = new Set(p.edges.flatMap((e) => [e.from, e.to]));
    for (const n of nodes.filter((x) => x.tags.includes("golden"))) expect(linked).toContain(n.id);
    expect(p.edges.filter((e) => e.blocked !== null)).toEqual([]);
  });
});
