import { parseRange, type Release } from "@stepstone/graph";
import type { GraphJson } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { selectReleases, withReleases } from "../src/index.js";
import { context, graph, hopsOf, planOf, report, routeOf, withEntries } from "./helpers.js";

/** DESIGN.md "Planning": matrix, gaps and suggest over a release set. */

const sample: GraphJson = {
  components: { users: { paths: ["etc/passwd"] }, network: { wipeable: false } },
  releases: [
    { version: "2.8.0", golden: true, runner: false, epochs: { users: 1, network: 1 } },
    { version: "2.9.0", golden: true, epochs: { users: 1, network: 1 } },
    { version: "2.9.5", epochs: { users: 1, network: 1 } },
    { version: "2.10.0", golden: true, epochs: { users: 2, network: 1 }, upgradeFrom: ">=2.9.0" },
    { version: "2.11.0", golden: true, withdrawn: true, epochs: { users: 2, network: 1 } },
  ],
  migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.10.0" }],
};

describe("matrix", () => {
  it("by default: the golden, non-withdrawn releases; every ordered pair but the diagonal; wipes allowed", () => {
    expect(report(sample).matrix).toEqual({
      releases: ["2.8.0", "2.9.0", "2.10.0"],
      cells: [
        { from: "2.8.0", to: "2.9.0", reachable: true, hops: 1, wipes: 0 },
        { from: "2.8.0", to: "2.10.0", reachable: true, hops: 2, wipes: 0 },
        { from: "2.9.0", to: "2.8.0", reachable: true, hops: 1, wipes: 0 },
        { from: "2.9.0", to: "2.10.0", reachable: true, hops: 1, wipes: 0 },
        { from: "2.10.0", to: "2.8.0", reachable: true, hops: 1, wipes: 1 },
        { from: "2.10.0", to: "2.9.0", reachable: true, hops: 1, wipes: 1 },
      ],
    });
  });

  it("a cell is the plan's cost: the 2-hop cell goes through the newest stop, golden or not", () => {
    expect(routeOf(sample, "2.8.0", "2.10.0")).toEqual(["2.9.5", "2.10.0"]);
  });

  it("--all takes every release but the withdrawn; --releases RANGE those in the range", () => {
    const ctx = context(sample);
    const versions = (set: readonly Release[]) => set.map((r) => r.version);
    expect(versions(selectReleases(ctx, { kind: "all" }))).toEqual([
      "2.8.0",
      "2.9.0",
      "2.9.5",
      "2.10.0",
    ]);
    const range = parseRange(">=2.9.0") as NonNullable<ReturnType<typeof parseRange>>;
    expect(versions(selectReleases(ctx, { kind: "range", range }))).toEqual([
      "2.9.0",
      "2.9.5",
      "2.10.0",
    ]);
  });

  it("reachable: false when there is no plan even with wipes, with null hops and wipes", () => {
    const g: GraphJson = {
      ...sample,
      releases: [
        ...sample.releases,
        { version: "3.0.0", golden: true, epochs: { users: 2, network: 2 } },
      ],
    };
    const cells = report(g).matrix.cells.filter((c) => c.to === "3.0.0" || c.from === "3.0.0");
    expect(cells).toContainEqual({
      from: "2.10.0",
      to: "3.0.0",
      reachable: false,
      hops: null,
      wipes: null,
    });
    expect(cells).toContainEqual({
      from: "3.0.0",
      to: "2.9.0",
      reachable: false,
      hops: null,
      wipes: null,
    });
  });

  it("applies the platform", () => {
    const g: GraphJson = {
      ...sample,
      releases: sample.releases.map((r) =>
        r.version === "2.9.0" ? { ...r, platforms: { qemuarm: { epochs: { users: 2 } } } } : r,
      ),
    };
    const cell = (platform: string | null) =>
      report(g, { kind: "golden" }, platform).matrix.cells.find(
        (c) => c.from === "2.10.0" && c.to === "2.9.0",
      );
    expect(cell(null)).toMatchObject({ hops: 1, wipes: 1 });
    expect(cell("qemuarm")).toMatchObject({ hops: 1, wipes: 0 });
  });
});

describe("gaps", () => {
  it("are the pairs whose best plan wipes, with the component it wipes", () => {
    expect(report(sample).gaps.gaps).toEqual([
      {
        from: "2.10.0",
        to: "2.8.0",
        reason: { code: "wipe", component: "users", message: expect.any(String) },
      },
      {
        from: "2.10.0",
        to: "2.9.0",
        reason: { code: "wipe", component: "users", message: expect.any(String) },
      },
    ]);
  });

  const pair = (
    a: Record<string, unknown>,
    b: Record<string, unknown>,
    rest: Partial<GraphJson> = {},
  ) => ({
    components: { network: { wipeable: false } },
    releases: [
      { version: "1.0.0", golden: true, epochs: { network: 1 }, ...a },
      { version: "2.0.0", golden: true, epochs: { network: 1 }, ...b },
    ],
    ...rest,
  });

  it.each([
    ["noChain", pair({}, { epochs: { network: 2 } }), { code: "noChain", component: "network" }],
    ["key", pair({ trusts: ["k1"] }, { signedBy: "k2" }), { code: "key", key: "k2" }],
    ["upgradeFrom", pair({}, { upgradeFrom: ">=1.5.0" }), { code: "upgradeFrom" }],
    [
      "runner",
      pair(
        { runner: false },
        { epochs: { network: 2 } },
        {
          migrations: [
            { id: "network-1-2", component: "network", from: 1, to: 2, shippedIn: "1.0.0" },
          ],
        },
      ),
      { code: "runner", component: "network" },
    ],
  ])("unreachable pairs carry the reason: %s", (_, g, reason) => {
    const found = report(g).gaps.gaps.find((x) => x.from === "1.0.0" && x.to === "2.0.0");
    expect(found?.reason).toEqual({ ...reason, message: expect.any(String) });
  });

  it("an unreachable pair's reason comes from the route that would work with wipes, not from the direct hop", () => {
    // The key rotation is bridged (1.9.0-transition.1 trusts both keys); what still blocks
    // 1.0.0 -> 2.0.0 is sel-logs, which no script converts 1 -> 2 and must never be wiped.
    const g: GraphJson = {
      components: { "sel-logs": { wipeable: false } },
      releases: [
        {
          version: "1.0.0",
          golden: true,
          epochs: { "sel-logs": 1 },
          signedBy: "k1",
          trusts: ["k1"],
        },
        {
          version: "1.9.0-transition.1",
          transition: true,
          epochs: { "sel-logs": 1 },
          signedBy: "k1",
          trusts: ["k1", "k2"],
        },
        {
          version: "2.0.0",
          golden: true,
          epochs: { "sel-logs": 2 },
          signedBy: "k2",
          trusts: ["k2"],
        },
      ],
    };
    expect(report(g).gaps.gaps).toEqual([
      {
        from: "1.0.0",
        to: "2.0.0",
        reason: {
          code: "noChain",
          component: "sel-logs",
          message: expect.stringMatching(
            /^sel-logs 1 -> 2 on the hop 1\.9\.0-transition\.1 -> 2\.0\.0: .*write that migration$/,
          ),
        },
      },
      // Back from 2.0.0 nothing is signed with a key it trusts: the key is the reason.
      {
        from: "2.0.0",
        to: "1.0.0",
        reason: { code: "key", key: "k1", message: expect.any(String) },
      },
    ]);
  });

  it("none when every pair connects without a wipe", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", golden: true, epochs: {} },
        { version: "2.0.0", golden: true, epochs: {} },
      ],
    };
    expect(report(g).gaps).toEqual({ gaps: [], suggestions: [], missing: [] });
  });
});

describe("suggest", () => {
  it("names the missing migration when no existing script could close a gap", () => {
    const { gaps: out } = report(sample);
    expect(out.suggestions).toEqual([]);
    expect(out.missing).toEqual([
      {
        component: "users",
        from: 2,
        to: 1,
        for: [
          { from: "2.10.0", to: "2.8.0" },
          { from: "2.10.0", to: "2.9.0" },
        ],
      },
    ]);
  });

  const withDown: GraphJson = {
    ...sample,
    migrations: [
      ...(sample.migrations ?? []),
      { id: "users-2-1", component: "users", from: 2, to: 1 },
    ],
  };

  it("one transition release, shipping the script, closes every gap it can (fewer builds)", () => {
    const { gaps: out } = report(withDown);
    expect(out.missing).toEqual([]);
    expect(out.suggestions).toEqual([
      {
        release: {
          version: "2.10.1-transition.1",
          line: "2.10",
          transition: true,
          epochs: { users: 2, network: 1 },
          ships: ["users-2-1"],
          notes: expect.any(String),
        },
        closes: [
          { from: "2.10.0", to: "2.8.0" },
          { from: "2.10.0", to: "2.9.0" },
        ],
      },
    ]);
  });

  it("appended to the file, the suggested release closes those gaps", () => {
    const { suggested } = report(withDown);
    const entries = suggested.suggestions.map((s) => s.release);
    const next = withEntries(withDown, entries);
    expect(report(next).gaps.gaps).toEqual([]);
    expect(planOf(next, "2.10.0", "2.8.0").steps).toMatchObject([
      { to: "2.10.1-transition.1", transition: true, preFlash: [], boot: [] },
      { to: "2.8.0", preFlash: [{ id: "users-2-1" }], boot: [] },
    ]);
    // The same, added in memory.
    expect(report(withReleases(graph(withDown), entries)).gaps.gaps).toEqual([]);
  });

  it("puts the image at the epochs with the fewest scripts: a format both ends share is not converted there and back", () => {
    // 3.0.0 moved network 2 -> 3 and ships both directions; the goldens are both at network
    // 2. Closing 2.5.0 -> 2.1.0 (users 2 -> 1) at network 3, the newest that works, would
    // run network 2 -> 3 at the image's boot and 3 -> 2 before flashing 2.1.0 for nothing.
    const g: GraphJson = {
      components: { users: {}, network: { wipeable: false } },
      releases: [
        { version: "2.1.0", golden: true, epochs: { users: 1, network: 2 } },
        { version: "2.5.0", golden: true, epochs: { users: 2, network: 2 } },
        { version: "3.0.0", epochs: { users: 2, network: 3 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.5.0" },
        // Written, but shipped by no release yet.
        { id: "users-2-1", component: "users", from: 2, to: 1 },
        { id: "network-2-3", component: "network", from: 2, to: 3, shippedIn: ">=3.0.0" },
        { id: "network-3-2", component: "network", from: 3, to: 2, shippedIn: ">=3.0.0" },
      ],
    };
    const { gaps: out } = report(g);
    expect(out.suggestions).toEqual([
      {
        release: {
          version: "2.5.1-transition.1",
          line: "2.5",
          transition: true,
          epochs: { users: 2, network: 2 },
          ships: ["users-2-1"],
          notes: expect.any(String),
        },
        closes: [{ from: "2.5.0", to: "2.1.0" }],
      },
    ]);
    const next = withEntries(
      g,
      out.suggestions.map((s) => s.release),
    );
    expect(hopsOf(next, "2.5.0", "2.1.0")).toEqual([
      { to: "2.5.1-transition.1", preFlash: [], boot: [], wipe: [] },
      { to: "2.1.0", preFlash: ["users-2-1"], boot: [], wipe: [] },
    ]);
  });

  it("reuses a transition release the graph has (one written before) by shipping more scripts in it, before proposing a new one", () => {
    // 2.5.1-transition.1 is the image written for 2.5.0 -> 2.1.0; then 2.6.0 moved users
    // to 3. Its way down goes through the same image, once the image ships users-3-2.
    const g: GraphJson = {
      components: { users: {} },
      releases: [
        { version: "2.1.0", golden: true, epochs: { users: 1 } },
        { version: "2.5.0", golden: true, epochs: { users: 2 } },
        {
          version: "2.5.1-transition.1",
          line: "2.5",
          transition: true,
          epochs: { users: 2 },
          ships: ["users-2-1"],
          notes: "Suggested by stepstone gaps --suggest: connects 2.5.0 -> 2.1.0.",
        },
        { version: "2.6.0", golden: true, epochs: { users: 3 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.5.0" },
        { id: "users-2-1", component: "users", from: 2, to: 1 },
        { id: "users-2-3", component: "users", from: 2, to: 3, shippedIn: ">=2.6.0" },
        { id: "users-3-2", component: "users", from: 3, to: 2 },
      ],
    };
    const { gaps: out } = report(g);
    expect(out.gaps.map((x) => `${x.from} -> ${x.to}`)).toEqual([
      "2.6.0 -> 2.1.0",
      "2.6.0 -> 2.5.0",
    ]);
    expect(out.suggestions).toEqual([
      {
        release: {
          version: "2.5.1-transition.1",
          line: "2.5",
          transition: true,
          epochs: { users: 2 },
          ships: ["users-2-1", "users-3-2"],
          notes: "Suggested by stepstone gaps --suggest: connects 2.5.0 -> 2.1.0.",
        },
        extends: "2.5.1-transition.1",
        adds: ["users-3-2"],
        closes: [
          { from: "2.6.0", to: "2.1.0" },
          { from: "2.6.0", to: "2.5.0" },
        ],
      },
    ]);
    const next = withEntries(
      g,
      out.suggestions.map((s) => s.release),
    );
    expect(report(next).gaps.gaps).toEqual([]);
    // A transition someone built (its notes say so) is never changed: a new one is proposed.
    const built = structuredClone(g);
    (built.releases[2] as Record<string, unknown>).notes = "Built from 2.5.0 for the field.";
    expect(report(built).gaps.suggestions.map((s) => [s.release.version, s.extends])).toEqual([
      ["2.6.1-transition.1", undefined],
    ]);
    expect(next.releases.map((r) => r.version)).toEqual([
      "2.1.0",
      "2.5.0",
      "2.5.1-transition.1",
      "2.6.0",
    ]);
  });

  it("bridges a key rotation with releases signed by a key the sources trust, trusting both", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", golden: true, epochs: {}, signedBy: "k1", trusts: ["k1"] },
        { version: "1.1.0", golden: true, epochs: {}, signedBy: "k1", trusts: ["k1"] },
        { version: "2.0.0", golden: true, epochs: {}, signedBy: "k2", trusts: ["k2"] },
      ],
    };
    const { gaps: out } = report(g);
    expect(out.gaps.map((x) => [x.from, x.to, x.reason.code, x.reason.key])).toEqual([
      ["1.0.0", "2.0.0", "key", "k2"],
      ["1.1.0", "2.0.0", "key", "k2"],
      ["2.0.0", "1.0.0", "key", "k1"],
      ["2.0.0", "1.1.0", "key", "k1"],
    ]);
    expect(out.suggestions).toEqual([
      {
        release: {
          version: "2.0.0-transition.1",
          line: "2.0",
          transition: true,
          epochs: {},
          ships: [],
          signedBy: "k1",
          trusts: ["k1", "k2"],
          notes: expect.any(String),
        },
        closes: [
          { from: "1.0.0", to: "2.0.0" },
          { from: "1.1.0", to: "2.0.0" },
        ],
      },
      {
        release: {
          version: "2.0.1-transition.1",
          line: "2.0",
          transition: true,
          epochs: {},
          ships: [],
          signedBy: "k2",
          trusts: ["k1", "k2"],
          notes: expect.any(String),
        },
        closes: [
          { from: "2.0.0", to: "1.0.0" },
          { from: "2.0.0", to: "1.1.0" },
        ],
      },
    ]);
    const entries = out.suggestions.map((s) => s.release);
    const next = withEntries(g, entries);
    expect(report(next).gaps.gaps).toEqual([]);
  });

  it("signs with a key the targets trust when the sources trust one, not the source's old key", () => {
    // Three keys: 1.0.0 is signed with k1 and already trusts k3; 2.0.0 moved on to k2
    // and trusts k2 and k3 (k1 is retired). A transition signed with k1 would be legal
    // for 1.0.0 but would bring k1 back after the rotation; k3 is trusted on both sides.
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", golden: true, epochs: {}, signedBy: "k1", trusts: ["k1", "k3"] },
        { version: "2.0.0", golden: true, epochs: {}, signedBy: "k2", trusts: ["k2", "k3"] },
      ],
    };
    const { gaps: out } = report(g);
    expect(out.suggestions.map((s) => [s.release.signedBy, s.release.trusts, s.closes])).toEqual([
      ["k3", ["k2", "k3"], [{ from: "1.0.0", to: "2.0.0" }]],
      ["k3", ["k1", "k3"], [{ from: "2.0.0", to: "1.0.0" }]],
    ]);
    expect(
      report(
        withEntries(
          g,
          out.suggestions.map((s) => s.release),
        ),
      ).gaps.gaps,
    ).toEqual([]);
  });

  it("signs with the old key only for the rotation itself: sources that trust nothing else", () => {
    // 1.0.0 trusts only k1, so the image it installs must be k1's, though 2.0.0 trusts
    // only k2: the transition is the rotation (signed k1, trusting k2).
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", golden: true, epochs: {}, signedBy: "k1", trusts: ["k1"] },
        { version: "1.5.0", golden: true, epochs: {}, signedBy: "k2", trusts: ["k1", "k2"] },
        { version: "2.0.0", golden: true, epochs: {}, signedBy: "k2", trusts: ["k2"] },
      ],
    };
    const { gaps: out } = report(g);
    const up = out.suggestions.find((s) => s.closes.some((c) => c.from === "1.0.0"));
    expect(up?.release).toMatchObject({ signedBy: "k1", trusts: ["k1", "k2"] });
    expect(up?.closes).toEqual([
      { from: "1.0.0", to: "1.5.0" },
      { from: "1.0.0", to: "2.0.0" },
    ]);
  });

  it("is deterministic: the same answer twice, and whatever the order of the file", () => {
    const shuffled: GraphJson = {
      ...withDown,
      releases: [...withDown.releases].reverse(),
      migrations: [...(withDown.migrations ?? [])].reverse(),
    };
    const once = report(withDown).gaps;
    expect(report(withDown).gaps).toEqual(once);
    expect(report(shuffled).gaps).toEqual(once);
  });

  it("claims hold with the suggested releases alone, not with drafts it left out", () => {
    // Drafted images below 1.0.0 and 1.1.0 cannot satisfy their upgradeFrom; the one
    // drafted for 0.9.0 -> 1.1.0 (1.1.0-transition.1) is left out, though flashing it and
    // then 1.0.0 (a downgrade) would connect 0.9.0 -> 1.0.0.
    const g: GraphJson = {
      components: { net: { paths: ["etc/net"] } },
      releases: [
        { version: "0.9.0", golden: true, epochs: { net: 1 } },
        { version: "1.0.0", golden: true, epochs: { net: 1 }, upgradeFrom: ">=2.0.0" },
        { version: "1.1.0", golden: true, epochs: { net: 1 }, upgradeFrom: ">=1.1.0" },
        { version: "2.0.0", golden: true, epochs: { net: 2 } },
      ],
    };
    const { suggested } = report(g);
    const next = context(
      withReleases(
        graph(g),
        suggested.suggestions.map((s) => s.release),
      ),
    );
    for (const s of suggested.suggestions) {
      for (const c of s.closes) {
        const res = planOf(next.graph, c.from.version, c.to.version);
        expect(
          res.reachable,
          `${c.from.version} -> ${c.to.version} with ${s.release.version}`,
        ).toBe(true);
      }
    }
  });

  it("over every release (--all) too, it claims only gaps, and closes each one it claims", () => {
    const { gaps: out, suggested } = report(withDown, { kind: "all" });
    const pairs = (xs: { from: string; to: string }[]) =>
      xs.map((x) => `${x.from} -> ${x.to}`).sort();
    const claimed = out.suggestions.flatMap((s) => s.closes);
    expect(pairs(claimed)).toEqual(pairs(out.gaps));
    const next = withEntries(
      withDown,
      suggested.suggestions.map((s) => s.release),
    );
    // The new transition release joins the --all set; the old pairs are all closed.
    const old = new Set(withDown.releases.map((r) => r.version));
    const left = report(next, { kind: "all" }).gaps.gaps.filter(
      (x) => old.has(x.from) && old.has(x.to),
    );
    expect(left).toEqual([]);
  });
  it("chooses an image's epochs for the plans its pairs take once every suggestion is released", () => {
    // Two images: 3.0.1-transition.2 (users 3) for the way down, and 3.0.1-transition.1
    // for the way up. On its own, users 2 and users 3 cost transition.1's pairs 7 scripts
    // each (through it alone), and the newest would win; but with both released the plans
    // run through transition.2 at users 3 wherever that costs the same (the higher version
    // wins the tie), so at users 3 transition.1 is only a copy of it: 7 scripts. At users 2
    // it carries 1.0.0 -> 3.0.0 with no script at all, and its pairs run 5.
    const g: GraphJson = {
      components: { users: {} },
      releases: [
        { version: "1.0.0", epochs: { users: 2 } },
        { version: "1.1.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 3 } },
        // Refuses every upgrade: only a downgrade from a higher image reaches it.
        { version: "3.0.0", epochs: { users: 2 }, upgradeFrom: "<0.9.0" },
      ],
      migrations: [
        { id: "users-1-3", component: "users", from: 1, to: 3 },
        { id: "users-3-2", component: "users", from: 3, to: 2 },
        { id: "users-2-3", component: "users", from: 2, to: 3 },
      ],
    };
    const { gaps: out } = report(g, { kind: "all" });
    const ships = ["users-1-3", "users-2-3", "users-3-2"];
    expect(
      out.suggestions.map((s) => [s.release.version, s.release.epochs, s.release.ships, s.closes]),
    ).toEqual([
      [
        "3.0.1-transition.1",
        { users: 2 },
        ships,
        [
          { from: "1.0.0", to: "2.0.0" },
          { from: "1.0.0", to: "3.0.0" },
          { from: "1.1.0", to: "2.0.0" },
          { from: "1.1.0", to: "3.0.0" },
          { from: "2.0.0", to: "3.0.0" },
        ],
      ],
      [
        "3.0.1-transition.2",
        { users: 3 },
        ships,
        [
          { from: "1.1.0", to: "1.0.0" },
          { from: "2.0.0", to: "1.0.0" },
          { from: "3.0.0", to: "2.0.0" },
        ],
      ],
    ]);
    const next = withEntries(
      g,
      out.suggestions.map((s) => s.release),
    );
    expect(hopsOf(next, "1.0.0", "3.0.0")).toEqual([
      { to: "3.0.1-transition.1", preFlash: [], boot: [], wipe: [] },
      { to: "3.0.0", preFlash: [], boot: [], wipe: [] },
    ]);
    // The scripts each of transition.1's pairs runs (2.0.0's through transition.2).
    const scripts = out.suggestions[0]?.closes.map((c) =>
      (hopsOf(next, c.from, c.to) ?? []).reduce((n, h) => n + h.preFlash.length + h.boot.length, 0),
    );
    expect(scripts).toEqual([1, 0, 1, 2, 1]);
  });
});
