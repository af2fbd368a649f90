import type { GraphJson } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { blockersOf, hopsOf, plain, planOf, routeOf } from "./helpers.js";

/** DESIGN.md "Planning": which sequence of legal hops is the plan. */

const users = { users: { paths: ["etc/passwd"] } };

describe("required stops follow from the graph", () => {
  it("a migration that stopped shipping forces a stop at a release that still ships it", () => {
    const g: GraphJson = {
      components: { users: { wipeable: false } },
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "2.1.0", epochs: { users: 2 } },
        { version: "3.0.0", epochs: { users: 2 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0 <3.0.0" },
      ],
    };
    // The newest release that still ships it (2.1.0) is the stop.
    expect(hopsOf(g, "1.0.0", "3.0.0")).toEqual([
      { to: "2.1.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
      plain("3.0.0"),
    ]);
    // Once past the transition, nothing is forced.
    expect(routeOf(g, "2.0.0", "3.0.0")).toEqual(["3.0.0"]);
  });

  it("epochs far apart plan like small ones (the index falls back from dense ids)", () => {
    const big = 2_000_000_000;
    const g: GraphJson = {
      components: { users: { wipeable: false } },
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: big } },
        { version: "2.1.0", epochs: { users: big } },
        { version: "3.0.0", epochs: { users: big } },
      ],
      migrations: [
        { id: "users-1-big", component: "users", from: 1, to: big, shippedIn: ">=2.0.0 <3.0.0" },
      ],
    };
    expect(hopsOf(g, "1.0.0", "3.0.0")).toEqual([
      { to: "2.1.0", preFlash: [], boot: ["users-1-big"], wipe: [] },
      plain("3.0.0"),
    ]);
    expect(blockersOf(g, "3.0.0", "1.0.0").map((b) => b.code)).toEqual(["noChain"]);
  });

  it("upgradeFrom chains force every stop in turn", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "1.5.0", epochs: {} },
        { version: "2.0.0", epochs: {}, upgradeFrom: ">=1.5.0" },
        { version: "2.5.0", epochs: {}, upgradeFrom: ">=1.5.0" },
        { version: "3.0.0", epochs: {}, upgradeFrom: ">=2.5.0" },
      ],
    };
    expect(routeOf(g, "1.0.0", "3.0.0")).toEqual(["1.5.0", "2.5.0", "3.0.0"]);
  });
});

describe("cost order: wipes, then hops, then transition stops, then scripts", () => {
  it("fewer wipes beat fewer hops", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "3.0.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "2.0.0" }],
    };
    expect(hopsOf(g, "1.0.0", "3.0.0", { allowWipe: "all" })).toEqual([
      { to: "2.0.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
      plain("3.0.0"),
    ]);
  });

  it("a wipe is taken only when no plan without one exists", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
      ],
    };
    expect(planOf(g, "1.0.0", "2.0.0", { allowWipe: ["users"] })).toMatchObject({
      hops: 1,
      wipes: 1,
      steps: [{ to: "2.0.0", wipe: ["users"] }],
    });
  });

  it("fewer hops beat fewer transition stops", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "1.1.0-transition.1", transition: true, epochs: {} },
        { version: "1.2.0", epochs: {} },
        { version: "1.3.0", epochs: {}, upgradeFrom: ">=1.2.0" },
        { version: "2.0.0", epochs: {}, upgradeFrom: ">=1.3.0 || 1.1.0-transition.1" },
      ],
    };
    expect(routeOf(g, "1.0.0", "2.0.0")).toEqual(["1.1.0-transition.1", "2.0.0"]);
  });

  it("fewer transition stops beat fewer scripts", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "1.1.0-transition.1", transition: true, epochs: { users: 1 } },
        { version: "1.2.0", epochs: { users: 2 } },
        { version: "2.0.0", epochs: { users: 1 }, upgradeFrom: "1.1.0-transition.1 || 1.2.0" },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "1.2.0" },
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "1.2.0" },
      ],
    };
    expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
      { to: "1.2.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
      { to: "2.0.0", preFlash: ["users-2-1"], boot: [], wipe: [] },
    ]);
  });

  it("transition releases count only as intermediate stops, not as source or target", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "1.1.0-transition.1", transition: true, epochs: {} },
        { version: "1.2.0-transition.1", transition: true, epochs: {} },
      ],
    };
    expect(routeOf(g, "1.1.0-transition.1", "1.2.0-transition.1")).toEqual(["1.2.0-transition.1"]);
    expect(routeOf(g, "1.0.0", "1.2.0-transition.1")).toEqual(["1.2.0-transition.1"]);
  });

  it("fewer scripts beat higher versions", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "1.1.0", epochs: { users: 1 } },
        { version: "1.2.0", epochs: { users: 2 } },
        { version: "2.0.0", epochs: { users: 1 }, upgradeFrom: ">=1.1.0 <2.0.0" },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "*" },
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "*" },
      ],
    };
    expect(routeOf(g, "1.0.0", "2.0.0")).toEqual(["1.1.0", "2.0.0"]);
  });
});

describe("among equal plans, higher versions win, stop by stop from the first", () => {
  it("the newest patch of a required stop, like GitLab's upgrade path", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "1.5.0", epochs: {} },
        { version: "1.5.1", epochs: {} },
        { version: "1.5.2-rc.1", epochs: {} },
        { version: "1.5.2", epochs: {} },
        { version: "2.0.0", epochs: {}, upgradeFrom: "~1.5.0" },
      ],
    };
    expect(routeOf(g, "1.0.0", "2.0.0")).toEqual(["1.5.2", "2.0.0"]);
  });

  it("the first stop decides before the later ones", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "2.1.0", epochs: {} },
        { version: "2.2.0", epochs: {} },
        { version: "2.3.0", epochs: {}, upgradeFrom: "2.2.0" },
        { version: "2.5.0", epochs: {}, upgradeFrom: "2.1.0" },
        { version: "3.0.0", epochs: {}, upgradeFrom: "2.3.0 || 2.5.0" },
      ],
    };
    // [2.2.0, 2.3.0] beats [2.1.0, 2.5.0]: 2.2.0 > 2.1.0, though 2.5.0 > 2.3.0.
    expect(routeOf(g, "1.0.0", "3.0.0")).toEqual(["2.2.0", "2.3.0", "3.0.0"]);
  });

  it("a stop above the target counts as higher too", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 2 } },
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "2.5.0", epochs: { users: 1 } },
        { version: "3.0.0", epochs: { users: 2 } },
      ],
      migrations: [
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "2.0.0 || 3.0.0" },
      ],
    };
    // 1.0.0 cannot convert its data; 2.0.0 and 3.0.0 both can, before flashing 2.5.0.
    expect(hopsOf(g, "1.0.0", "2.5.0")).toEqual([
      plain("3.0.0"),
      { to: "2.5.0", preFlash: ["users-2-1"], boot: [], wipe: [] },
    ]);
  });
});

describe("prereleases", () => {
  const g: GraphJson = {
    releases: [
      { version: "2.0.0-rc.2", epochs: {} },
      { version: "2.0.0-rc.9", epochs: {} },
      { version: "2.0.0-rc.10", epochs: {}, upgradeFrom: ">=2.0.0-rc.9" },
      { version: "2.0.0", epochs: {}, upgradeFrom: ">=2.0.0-rc.10" },
      { version: "1.9.0", epochs: {} },
    ],
  };

  it("order by semver precedence: numeric identifiers numerically, the release after its prereleases", () => {
    // rc.10 is above rc.9 (so its upgradeFrom applies from rc.2), and 2.0.0 above them all.
    expect(routeOf(g, "2.0.0-rc.2", "2.0.0-rc.10")).toEqual(["2.0.0-rc.9", "2.0.0-rc.10"]);
    expect(routeOf(g, "1.9.0", "2.0.0")).toEqual(["2.0.0-rc.9", "2.0.0-rc.10", "2.0.0"]);
  });

  it("flashing a prerelease of the running version is a downgrade", () => {
    expect(planOf(g, "2.0.0", "2.0.0-rc.2").steps).toMatchObject([{ direction: "downgrade" }]);
    expect(planOf(g, "2.0.0-rc.2", "2.0.0-rc.9").steps).toMatchObject([{ direction: "upgrade" }]);
  });
});

describe("plans from a device's actual epochs (plan --device)", () => {
  const g: GraphJson = {
    components: users,
    releases: [
      { version: "2.9.0", epochs: { users: 1 } },
      { version: "2.10.0", epochs: { users: 2 } },
      { version: "2.11.0", epochs: { users: 2 } },
    ],
    migrations: [
      { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "2.10.0" },
      { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: ">=2.10.0" },
    ],
  };

  it("a device whose boot migration failed still has data at the old epoch: the pending script runs", () => {
    expect(hopsOf(g, "2.10.0", "2.11.0")).toEqual([plain("2.11.0")]);
    // 2.11.0 does not ship users-1-2 any more; 2.10.0, still running, runs it before flashing.
    expect(hopsOf(g, "2.10.0", "2.11.0", { device: { users: 1 } })).toEqual([
      { to: "2.11.0", preFlash: ["users-1-2"], boot: [], wipe: [] },
    ]);
  });

  it("the data's epoch, not the release's, decides which down-migrations are needed", () => {
    expect(hopsOf(g, "2.10.0", "2.9.0")).toEqual([
      { to: "2.9.0", preFlash: ["users-2-1"], boot: [], wipe: [] },
    ]);
    expect(hopsOf(g, "2.10.0", "2.9.0", { device: { users: 1 } })).toEqual([plain("2.9.0")]);
  });

  it("to its own release: real hops, since a release cannot be flashed over itself", () => {
    expect(routeOf(g, "2.11.0", "2.11.0")).toEqual([]);
    expect(hopsOf(g, "2.11.0", "2.11.0", { device: { users: 1 } })).toEqual([
      { to: "2.10.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
      plain("2.11.0"),
    ]);
  });

  it("with nowhere to go, a device off its release's epochs has no plan (not an empty one)", () => {
    const alone: GraphJson = {
      components: { users: { wipeable: false } },
      releases: [{ version: "2.10.0", epochs: { users: 2 } }],
    };
    expect(routeOf(alone, "2.10.0", "2.10.0")).toEqual([]);
    expect(blockersOf(alone, "2.10.0", "2.10.0", { device: { users: 1 } })).toEqual([
      { code: "noChain", component: "users" },
    ]);
  });
});

describe("no plan: the blockers say which component, key or constraint", () => {
  const two = (
    a: Record<string, unknown>,
    b: Record<string, unknown>,
    rest: Partial<GraphJson> = {},
  ): GraphJson => ({
    components: { users: { paths: ["etc/passwd"] }, network: { wipeable: false } },
    releases: [
      { version: "1.0.0", epochs: { users: 1, network: 1 }, ...a },
      { version: "2.0.0", epochs: { users: 1, network: 1 }, ...b },
    ],
    ...rest,
  });

  it.each([
    ["wipe", two({}, { epochs: { users: 2, network: 1 } }), [{ code: "wipe", component: "users" }]],
    [
      "noChain",
      two({}, { epochs: { users: 1, network: 2 } }),
      [{ code: "noChain", component: "network" }],
    ],
    ["key", two({ trusts: ["k1"] }, { signedBy: "k2" }), [{ code: "key", key: "k2" }]],
    ["upgradeFrom", two({}, { upgradeFrom: ">=1.5.0" }), [{ code: "upgradeFrom" }]],
    ["withdrawn", two({}, { withdrawn: true }), [{ code: "withdrawn" }]],
    [
      "runner",
      two(
        { epochs: { users: 2, network: 1 } },
        { runner: false },
        {
          migrations: [{ id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "2.0.0" }],
        },
      ),
      [{ code: "runner", component: "users" }],
    ],
    [
      "several at once",
      two({ trusts: ["k1"] }, { upgradeFrom: ">=1.5.0", epochs: { users: 1, network: 2 } }),
      [{ code: "key" }, { code: "upgradeFrom" }, { code: "noChain", component: "network" }],
    ],
  ])("%s", (_, g, blockers) => {
    expect(blockersOf(g, "1.0.0", "2.0.0")).toEqual(blockers);
  });

  it("when wipes would make a plan, the blockers are the wipes it needs, hop by hop", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "3.0.0", epochs: { users: 1 }, upgradeFrom: ">=2.0.0" },
      ],
    };
    expect(blockersOf(g, "1.0.0", "3.0.0")).toEqual([
      { code: "wipe", component: "users" },
      { code: "wipe", component: "users" },
    ]);
    expect(planOf(g, "1.0.0", "3.0.0", { allowWipe: "all" })).toMatchObject({ hops: 2, wipes: 2 });
  });

  it("the JSON shape of no plan: from, to, reachable false, blockers with a sentence each", () => {
    expect(planOf(two({ trusts: ["k1"] }, { signedBy: "k2" }), "1.0.0", "2.0.0")).toEqual({
      from: "1.0.0",
      to: "2.0.0",
      reachable: false,
      blockers: [{ code: "key", key: "k2", message: expect.stringContaining('"k2"') }],
    });
  });
});

describe("the plan JSON", () => {
  it("a release to itself is an empty plan", () => {
    const g: GraphJson = { releases: [{ version: "1.0.0", epochs: {} }] };
    expect(planOf(g, "1.0.0", "1.0.0")).toEqual({
      from: "1.0.0",
      to: "1.0.0",
      platform: null,
      reachable: true,
      hops: 0,
      wipes: 0,
      steps: [],
    });
  });

  it("names releases as written in the file, build metadata included", () => {
    const g: GraphJson = {
      releases: [
        { version: "1.0.0+build.7", epochs: {} },
        { version: "2.0.0", epochs: {} },
      ],
    };
    expect(planOf(g, "1.0.0+build.7", "2.0.0")).toMatchObject({
      from: "1.0.0+build.7",
      steps: [{ from: "1.0.0+build.7", to: "2.0.0" }],
    });
  });
});
