import type { GraphJson } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { blockersOf, hopsOf, plain, planOf, routeOf } from "./helpers.js";

/** DESIGN.md "Hop legality": each rule on the smallest graph that shows it. */

const users = { users: { paths: ["etc/passwd", "etc/group"] } };
const keep = { wipeable: false, paths: ["etc/systemd/network"] };

describe("rule 4: each component converts by a chain of migrations", () => {
  it("the target's up-migration runs at its boot", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.9.0", epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.10.0" }],
    };
    expect(planOf(g, "2.9.0", "2.10.0")).toEqual({
      from: "2.9.0",
      to: "2.10.0",
      platform: null,
      reachable: true,
      hops: 1,
      wipes: 0,
      steps: [
        {
          from: "2.9.0",
          to: "2.10.0",
          direction: "upgrade",
          transition: false,
          preFlash: [],
          boot: [{ id: "users-1-2", component: "users", from: 1, to: 2 }],
          wipe: [],
          why: [],
        },
      ],
    });
  });

  it("the source's down-migration runs before flashing (the old image cannot read the new data)", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.9.0", epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.10.0" },
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: ">=2.10.0" },
      ],
    };
    expect(planOf(g, "2.10.0", "2.9.0").steps).toEqual([
      {
        from: "2.10.0",
        to: "2.9.0",
        direction: "downgrade",
        transition: false,
        preFlash: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
        boot: [],
        wipe: [],
        why: [],
      },
    ]);
  });

  it("a chain may be split: the source runs its part before flashing, the target the rest at boot", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 3 }, ships: ["users-1-2"] },
        { version: "3.0.0", epochs: { users: 3 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2 },
        { id: "users-2-3", component: "users", from: 2, to: 3, shippedIn: ">=2.0.0" },
        { id: "users-3-2", component: "users", from: 3, to: 2, shippedIn: ">=3.0.0" },
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "<2.0.0" },
      ],
    };
    // Down: 3.0.0 knows 3 -> 2, only 1.0.0 knows 2 -> 1.
    expect(hopsOf(g, "3.0.0", "1.0.0")).toEqual([
      { to: "1.0.0", preFlash: ["users-3-2"], boot: ["users-2-1"], wipe: [] },
    ]);
    // Up: 2.0.0 ships the whole chain, so all of it runs at its boot.
    expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
      { to: "2.0.0", preFlash: [], boot: ["users-1-2", "users-2-3"], wipe: [] },
    ]);
  });

  it("scripts of several components run in component order, each chain in chain order", () => {
    const g: GraphJson = {
      components: { ownership: { paths: ["var/lib"] }, users: { paths: ["etc/passwd"] } },
      releases: [
        { version: "1.0.0", epochs: { users: 1, ownership: 1 } },
        { version: "2.0.0", epochs: { users: 3, ownership: 2 } },
      ],
      migrations: [
        {
          id: "ownership-1-2",
          component: "ownership",
          from: 1,
          to: 2,
          shippedIn: ">=2.0.0",
          after: ["users-2-3"],
        },
        { id: "users-2-3", component: "users", from: 2, to: 3, shippedIn: ">=2.0.0" },
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0" },
      ],
    };
    // ownership runs after users (its script runs after a users script), whatever the file order.
    expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
      { to: "2.0.0", preFlash: [], boot: ["users-1-2", "users-2-3", "ownership-1-2"], wipe: [] },
    ]);
  });

  describe("among chains", () => {
    const releases = [
      { version: "1.0.0", epochs: { users: 1 } },
      { version: "2.0.0", epochs: { users: 3 } },
    ];

    it("the fewest scripts win", () => {
      const g: GraphJson = {
        components: users,
        releases,
        migrations: [
          { id: "a-1-2", component: "users", from: 1, to: 2, shippedIn: "*" },
          { id: "a-2-3", component: "users", from: 2, to: 3, shippedIn: "*" },
          { id: "z-1-3", component: "users", from: 1, to: 3, shippedIn: "*" },
        ],
      };
      expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
        { to: "2.0.0", preFlash: [], boot: ["z-1-3"], wipe: [] },
      ]);
    });

    it("then the fewest pre-flash scripts, before the ids", () => {
      const g: GraphJson = {
        components: users,
        releases,
        migrations: [
          { id: "a-1-3", component: "users", from: 1, to: 3, shippedIn: "1.0.0" },
          { id: "b-1-3", component: "users", from: 1, to: 3, shippedIn: "2.0.0" },
        ],
      };
      expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
        { to: "2.0.0", preFlash: [], boot: ["b-1-3"], wipe: [] },
      ]);
    });

    it("a script both images ship runs at boot, not before flashing", () => {
      const g: GraphJson = {
        components: users,
        releases,
        migrations: [{ id: "users-1-3", component: "users", from: 1, to: 3, shippedIn: "*" }],
      };
      expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
        { to: "2.0.0", preFlash: [], boot: ["users-1-3"], wipe: [] },
      ]);
    });

    it("then the smallest sequence of ids, compared in order (not as a set)", () => {
      const g: GraphJson = {
        components: users,
        releases,
        migrations: [
          { id: "b-1-2", component: "users", from: 1, to: 2, shippedIn: "*" },
          { id: "z-2-3", component: "users", from: 2, to: 3, shippedIn: "*" },
          { id: "c-1-4", component: "users", from: 1, to: 4, shippedIn: "*" },
          { id: "a-4-3", component: "users", from: 4, to: 3, shippedIn: "*" },
        ],
      };
      // [b-1-2, z-2-3] < [c-1-4, a-4-3]: the first ids decide (as sets, a-4-3 would win).
      expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
        { to: "2.0.0", preFlash: [], boot: ["b-1-2", "z-2-3"], wipe: [] },
      ]);
    });

    it("ids compare as byte strings, like sort in the C locale on the device: m-10 before m-9", () => {
      const g: GraphJson = {
        components: users,
        releases,
        migrations: [
          { id: "m-9", component: "users", from: 1, to: 3, shippedIn: "*" },
          { id: "m-10", component: "users", from: 1, to: 3, shippedIn: "*" },
        ],
      };
      expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([
        { to: "2.0.0", preFlash: [], boot: ["m-10"], wipe: [] },
      ]);
    });
  });
});

describe("rule 4: wipes, when no chain exists", () => {
  const g: GraphJson = {
    components: { users: { paths: ["etc/passwd"] }, logs: { paths: ["var/log"] }, network: keep },
    releases: [
      { version: "1.0.0", epochs: { users: 1, logs: 1, network: 1 } },
      { version: "2.0.0", epochs: { users: 2, logs: 2, network: 1 } },
      { version: "3.0.0", epochs: { users: 3, logs: 2, network: 1 }, upgradeFrom: ">=2.0.0" },
      { version: "4.0.0", epochs: { users: 3, logs: 2, network: 2 } },
    ],
  };

  it("without --allow-wipe there is no plan, and the blocker names the component", () => {
    expect(blockersOf(g, "1.0.0", "2.0.0")).toEqual([
      { code: "wipe", component: "users" },
      { code: "wipe", component: "logs" },
    ]);
  });

  it("wipes are allowed per component: naming one is not enough when two need it", () => {
    expect(blockersOf(g, "1.0.0", "2.0.0", { allowWipe: ["users"] })).toEqual([
      { code: "wipe", component: "logs" },
    ]);
    expect(hopsOf(g, "1.0.0", "2.0.0", { allowWipe: ["users", "logs"] })).toEqual([
      { to: "2.0.0", preFlash: [], boot: [], wipe: ["users", "logs"] },
    ]);
  });

  it("wipes are counted per component per hop", () => {
    expect(planOf(g, "1.0.0", "2.0.0", { allowWipe: "all" })).toMatchObject({ hops: 1, wipes: 2 });
    // users is wiped on both hops (3.0.0 upgrades only from 2.0.0 on), logs once.
    expect(planOf(g, "1.0.0", "3.0.0", { allowWipe: "all" })).toMatchObject({
      hops: 2,
      wipes: 3,
      steps: [{ wipe: ["users", "logs"] }, { wipe: ["users"] }],
    });
  });

  it("a non-wipeable component is never wiped, not even with --allow-wipe all", () => {
    expect(blockersOf(g, "3.0.0", "4.0.0", { allowWipe: "all" })).toEqual([
      { code: "noChain", component: "network" },
    ]);
    // Naming it is refused by the CLI (exit 2); the planner ignores it all the same.
    expect(blockersOf(g, "3.0.0", "4.0.0", { allowWipe: ["network"] })).toEqual([
      { code: "noChain", component: "network" },
    ]);
  });

  it("with the chain a transition would need existing somewhere, the blocker still names the component", () => {
    const withScript: GraphJson = {
      ...g,
      migrations: [{ id: "network-1-2", component: "network", from: 1, to: 2 }],
    };
    expect(blockersOf(withScript, "3.0.0", "4.0.0", { allowWipe: "all" })).toEqual([
      { code: "noChain", component: "network" },
    ]);
  });
});

describe("rule 2: keys", () => {
  const g: GraphJson = {
    releases: [
      { version: "1.0.0", epochs: {}, signedBy: "k1", trusts: ["k1"] },
      { version: "1.1.0", epochs: {}, signedBy: "k1", trusts: ["k1", "k2"] },
      { version: "1.2.0", epochs: {}, signedBy: "k1", trusts: ["k1"] },
      { version: "2.0.0", epochs: {}, signedBy: "k2", trusts: ["k2"] },
      { version: "2.1.0", epochs: {} },
      { version: "2.2.0", epochs: {}, signedBy: "k9" },
    ],
  };

  it("a rotation goes through a release that trusts both keys (a higher one that does not is no help)", () => {
    expect(routeOf(g, "1.0.0", "2.0.0")).toEqual(["1.1.0", "2.0.0"]);
    expect(routeOf(g, "1.2.0", "2.0.0")).toEqual(["1.1.0", "2.0.0"]);
  });

  it("the blocker names the untrusted key", () => {
    const direct: GraphJson = { releases: [g.releases[0], g.releases[3]] as GraphJson["releases"] };
    expect(blockersOf(direct, "1.0.0", "2.0.0")).toEqual([{ code: "key", key: "k2" }]);
  });

  it("an unsigned image is refused by a release that has trusts", () => {
    const unsigned: GraphJson = {
      releases: [g.releases[0], g.releases[4]] as GraphJson["releases"],
    };
    expect(blockersOf(unsigned, "1.0.0", "2.1.0")).toEqual([{ code: "key" }]);
  });

  it("a release without trusts accepts any image, signed or not", () => {
    expect(hopsOf(g, "2.1.0", "2.2.0")).toEqual([plain("2.2.0")]);
    expect(hopsOf(g, "2.1.0", "1.0.0")).toEqual([plain("1.0.0")]);
    expect(hopsOf(g, "2.2.0", "2.1.0")).toEqual([plain("2.1.0")]);
  });

  it("an empty trusts list accepts nothing", () => {
    const locked: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {}, trusts: [] },
        { version: "2.0.0", epochs: {}, signedBy: "k1" },
      ],
    };
    expect(blockersOf(locked, "1.0.0", "2.0.0")).toEqual([{ code: "key", key: "k1" }]);
  });
});

describe("rule 3: upgradeFrom", () => {
  const g: GraphJson = {
    releases: [
      { version: "1.0.0", epochs: {} },
      { version: "2.0.0", epochs: {} },
      { version: "2.10.0-rc.1", epochs: {} },
      { version: "2.10.1-transition.1", epochs: {}, transition: true },
      { version: "3.0.0", epochs: {}, upgradeFrom: ">=2.10.0" },
      { version: "4.0.0", epochs: {}, upgradeFrom: "~3.0.0" },
    ],
  };

  it("applies when the target is higher: a lower source outside the range stops first", () => {
    expect(routeOf(g, "2.0.0", "3.0.0")).toEqual(["2.10.1-transition.1", "3.0.0"]);
    expect(routeOf(g, "1.0.0", "4.0.0")).toEqual(["2.10.1-transition.1", "3.0.0", "4.0.0"]);
  });

  it("is evaluated with prereleases included: 2.10.1-transition.1 satisfies >=2.10.0, 2.10.0-rc.1 does not", () => {
    expect(routeOf(g, "2.10.1-transition.1", "3.0.0")).toEqual(["3.0.0"]);
    expect(
      blockersOf(
        { releases: [g.releases[2], g.releases[4]] as GraphJson["releases"] },
        "2.10.0-rc.1",
        "3.0.0",
      ),
    ).toEqual([{ code: "upgradeFrom" }]);
  });

  it("does not apply downward: a higher source need not satisfy it", () => {
    const down: GraphJson = {
      releases: [
        { version: "3.0.0", epochs: {}, upgradeFrom: "~2.0.0" },
        { version: "5.0.0", epochs: {} },
      ],
    };
    expect(routeOf(down, "5.0.0", "3.0.0")).toEqual(["3.0.0"]);
  });
});

describe("rule 1: withdrawn releases", () => {
  const g: GraphJson = {
    releases: [
      { version: "1.0.0", epochs: {} },
      { version: "2.0.0", epochs: {} },
      { version: "2.0.1", epochs: {}, withdrawn: true },
      { version: "3.0.0", epochs: {}, upgradeFrom: ">=2.0.0" },
    ],
  };

  it("are never a stop, even where the tie-break would prefer them", () => {
    expect(routeOf(g, "1.0.0", "3.0.0")).toEqual(["2.0.0", "3.0.0"]);
  });

  it("are never a target", () => {
    expect(blockersOf(g, "1.0.0", "2.0.1")).toEqual([{ code: "withdrawn" }]);
  });

  it("may be a source: a device still runs it", () => {
    expect(routeOf(g, "2.0.1", "3.0.0")).toEqual(["3.0.0"]);
    expect(routeOf(g, "2.0.1", "1.0.0")).toEqual(["1.0.0"]);
  });

  it("when the only stop is withdrawn, no plan: the blocker is the constraint that needed it", () => {
    const only: GraphJson = {
      releases: [
        { version: "1.0.0", epochs: {} },
        { version: "2.0.0", epochs: {}, withdrawn: true },
        { version: "3.0.0", epochs: {}, upgradeFrom: ">=2.0.0" },
      ],
    };
    expect(blockersOf(only, "1.0.0", "3.0.0")).toEqual([{ code: "upgradeFrom" }]);
  });
});

describe("runner: false (images without the runner run nothing)", () => {
  it("no boot scripts on it: the down-migration it would ship by range runs on another stop", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.8.0", golden: true, runner: false, epochs: { users: 1 } },
        { version: "2.9.0", epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "<2.10.0" }],
    };
    expect(hopsOf(g, "2.10.0", "2.9.0")).toEqual([
      { to: "2.9.0", preFlash: [], boot: ["users-2-1"], wipe: [] },
    ]);
    expect(hopsOf(g, "2.10.0", "2.8.0")).toEqual([
      { to: "2.9.0", preFlash: [], boot: ["users-2-1"], wipe: [] },
      plain("2.8.0"),
    ]);
  });

  it("no pre-flash from it: its up-migration runs before flashing on another stop", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.8.0", golden: true, runner: false, epochs: { users: 1 } },
        { version: "2.9.0", epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "<2.10.0" }],
    };
    expect(hopsOf(g, "2.9.0", "2.10.0")).toEqual([
      { to: "2.10.0", preFlash: ["users-1-2"], boot: [], wipe: [] },
    ]);
    expect(hopsOf(g, "2.8.0", "2.10.0")).toEqual([
      plain("2.9.0"),
      { to: "2.10.0", preFlash: ["users-1-2"], boot: [], wipe: [] },
    ]);
  });

  it("a transition release carries the down-migration to a golden that cannot run it", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.8.0", golden: true, runner: false, epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
        {
          version: "2.10.1-transition.1",
          transition: true,
          epochs: { users: 2 },
          ships: ["users-2-1"],
        },
      ],
      migrations: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
    };
    expect(planOf(g, "2.10.0", "2.8.0").steps).toEqual([
      {
        from: "2.10.0",
        to: "2.10.1-transition.1",
        direction: "upgrade",
        transition: true,
        preFlash: [],
        boot: [],
        wipe: [],
        // Why the plan stops there: what it is, and what the hop that skips it lacks.
        why: [
          {
            code: "transition",
            message:
              "2.10.1-transition.1 is a transition release, built to connect releases that cannot reach each other directly: it is flashed only on the way to 2.8.0",
          },
          {
            code: "runner",
            components: ["users"],
            message:
              "the hop 2.10.0 → 2.8.0 has no chain for users 2→1: 2.8.0 has no runner, so the scripts cannot run at its boot; 2.10.1-transition.1 runs users-2-1 before flashing 2.8.0",
          },
        ],
      },
      {
        from: "2.10.1-transition.1",
        to: "2.8.0",
        direction: "downgrade",
        transition: false,
        preFlash: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
        boot: [],
        wipe: [],
        why: [],
      },
    ]);
  });

  it("without such a stop the blocker says the scripts exist but cannot run there (code runner)", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "2.8.0", runner: false, epochs: { users: 1 } },
        { version: "2.10.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: "<2.10.0" }],
    };
    expect(blockersOf(g, "2.10.0", "2.8.0")).toEqual([{ code: "runner", component: "users" }]);
    expect(hopsOf(g, "2.10.0", "2.8.0", { allowWipe: ["users"] })).toEqual([
      { to: "2.8.0", preFlash: [], boot: [], wipe: ["users"] },
    ]);
  });
});

describe("platforms", () => {
  const g: GraphJson = {
    components: users,
    releases: [
      { version: "1.0.0", epochs: { users: 1 } },
      { version: "2.0.0", epochs: { users: 1 }, platforms: { qemuarm: { epochs: { users: 2 } } } },
      { version: "2.1.0", epochs: { users: 1 } },
      { version: "3.0.0", epochs: { users: 2 } },
    ],
    migrations: [
      { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0" },
      { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: ">=2.0.0" },
    ],
  };

  it("an override moves one release's epochs on that platform only, so the scripts run elsewhere", () => {
    expect(hopsOf(g, "1.0.0", "2.0.0")).toEqual([plain("2.0.0")]);
    expect(hopsOf(g, "1.0.0", "2.0.0", { platform: "qemuarm" })).toEqual([
      { to: "2.0.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
    ]);
    expect(hopsOf(g, "2.0.0", "3.0.0")).toEqual([
      { to: "3.0.0", preFlash: [], boot: ["users-1-2"], wipe: [] },
    ]);
    expect(hopsOf(g, "2.0.0", "3.0.0", { platform: "qemuarm" })).toEqual([plain("3.0.0")]);
  });

  it("overrides are not inherited by later releases", () => {
    expect(hopsOf(g, "2.0.0", "2.1.0", { platform: "qemuarm" })).toEqual([
      { to: "2.1.0", preFlash: [], boot: ["users-2-1"], wipe: [] },
    ]);
  });

  it("the plan names its platform", () => {
    expect(planOf(g, "1.0.0", "3.0.0", { platform: "qemuarm" }).platform).toBe("qemuarm");
  });
});
