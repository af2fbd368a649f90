import type { Release } from "@stepstone/graph";
import type { GraphJson } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import {
  failedMigrations,
  PlanContext,
  reach,
  reachJson,
  reachTargets,
  withoutMigrations,
} from "../src/index.js";
import { context, graph, planOf } from "./helpers.js";

/** Each step's `why` as `plan --format json` prints it: [to, [code, components?]...]. */
function whyOf(g: GraphJson, from: string, to: string, opts: Parameters<typeof planOf>[3] = {}) {
  const p = planOf(g, from, to, opts);
  if (!p.reachable) throw new Error(`no plan from ${from} to ${to}`);
  return p.steps.map((s) => [s.to, s.why.map((w) => [w.code, ...(w.components ?? [])])]);
}

const users = { users: { paths: ["etc/passwd"] } };

describe("why each stop is needed (steps[].why)", () => {
  it("a target's upgradeFrom: the stop is in its range", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "1.1.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 1 }, upgradeFrom: ">=1.1.0" },
      ],
      migrations: [],
    };
    const p = planOf(g, "1.0.0", "2.0.0");
    expect(p.reachable && p.steps.map((s) => s.why)).toEqual([
      [
        {
          code: "upgradeFrom",
          message:
            '2.0.0 upgrades only from ">=1.1.0", which 1.0.0 does not satisfy: stop at a release in that range first',
        },
      ],
      [],
    ]);
  });

  it("a key the next image needs: the stop trusts both", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 }, signedBy: "old", trusts: ["old"] },
        { version: "1.1.0", epochs: { users: 1 }, signedBy: "old", trusts: ["old", "new"] },
        { version: "2.0.0", epochs: { users: 1 }, signedBy: "new", trusts: ["new"] },
      ],
      migrations: [],
    };
    const p = planOf(g, "1.0.0", "2.0.0");
    expect(p.reachable && p.steps[0]?.why).toEqual([
      {
        code: "key",
        key: "new",
        message:
          '1.0.0 does not trust key "new" that signs 2.0.0 (it trusts "old"); a release that trusts both keys must come in between',
      },
    ]);
  });

  it("scripts only the stop ships (a migration that stopped shipping): it converts the data at its boot", () => {
    const g: GraphJson = {
      components: { ...users, network: { paths: ["etc/network"] } },
      releases: [
        { version: "1.0.0", epochs: { users: 1, network: 1 } },
        { version: "2.0.0", epochs: { users: 2, network: 2 } },
        { version: "3.0.0", epochs: { users: 2, network: 2 } },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "2.x" },
        { id: "network-1-2", component: "network", from: 1, to: 2, shippedIn: "2.x" },
      ],
    };
    const p = planOf(g, "1.0.0", "3.0.0");
    expect(p.reachable && p.steps[0]?.why).toEqual([
      {
        code: "ships",
        components: ["users", "network"],
        message:
          "the hop 1.0.0 → 3.0.0 has no chain for users 1→2 and network 1→2 (neither 1.0.0, before flashing, nor 3.0.0, at boot, ships one): 2.0.0 runs users-1-2, network-1-2 at its boot",
      },
    ]);
  });

  it("an image without the runner: the stop runs the down-migration before flashing it, and is a transition release", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", golden: true, runner: false, epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
        {
          version: "2.0.1-transition.1",
          transition: true,
          epochs: { users: 2 },
          ships: ["users-2-1"],
        },
        { version: "3.0.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
    };
    // 3.0.0 ships no way down and 1.0.0 runs nothing: the transition release carries it.
    expect(whyOf(g, "3.0.0", "1.0.0")).toEqual([
      ["2.0.1-transition.1", [["transition"], ["runner", "users"]]],
      ["1.0.0", []],
    ]);
  });

  it("the wipe a stop avoids, when wipes are allowed", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "3.0.0", epochs: { users: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: "2.0.0" }],
    };
    const p = planOf(g, "1.0.0", "3.0.0", { allowWipe: "all" });
    expect(p.reachable && p.steps[0]?.why).toEqual([
      {
        code: "wipe",
        components: ["users"],
        message:
          "skipping 2.0.0 would wipe users: the hop 1.0.0 → 3.0.0 has no chain for users 1→2; 2.0.0 runs users-1-2 at its boot",
      },
    ]);
  });

  it("a direct hop, and the target, need no reason", () => {
    const g: GraphJson = {
      components: users,
      releases: [
        { version: "1.0.0", epochs: { users: 1 } },
        { version: "2.0.0", epochs: { users: 1 } },
      ],
      migrations: [],
    };
    expect(whyOf(g, "1.0.0", "2.0.0")).toEqual([["2.0.0", []]]);
  });
});

/** The bundled story in small: two lines, a golden, a withdrawn and a transition release. */
const lines: GraphJson = {
  components: users,
  releases: [
    { version: "1.0.0", golden: true, epochs: { users: 1 } },
    { version: "1.1.0", epochs: { users: 1 } },
    { version: "1.2.0", epochs: { users: 1 }, withdrawn: true },
    { version: "2.0.0", epochs: { users: 2 }, upgradeFrom: ">=1.1.0" },
    { version: "2.0.1-transition.1", transition: true, epochs: { users: 2 } },
    { version: "2.1.0", golden: true, epochs: { users: 2 }, upgradeFrom: ">=2.0.0" },
    { version: "3.0.0", epochs: { users: 3 } },
  ],
  migrations: [
    { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0 <3.0.0" },
    { id: "users-2-3", component: "users", from: 2, to: 3, shippedIn: ">=3.0.0" },
  ],
};

describe("what a release can reach (plan without --to)", () => {
  it("lists the golden releases and the newest release of each line, not withdrawn, transition or itself", () => {
    const ctx = context(lines);
    const from = ctx.releases.find((r) => r.version === "1.0.0") as Release;
    expect(reachTargets(ctx, from).map((r) => r.version)).toEqual([
      "1.1.0",
      "2.0.0",
      "2.1.0",
      "3.0.0",
    ]);
  });

  it("gives each target its hops, wipes and first stop", () => {
    const ctx = context(lines);
    const from = ctx.releases.find((r) => r.version === "1.0.0") as Release;
    const json = reachJson(from, null, [], reach(ctx, { from }));
    expect(json.targets.map(({ blockers, ...t }) => ({ ...t, blocked: blockers.length }))).toEqual([
      {
        to: "1.1.0",
        line: "1.1",
        golden: false,
        reachable: true,
        hops: 1,
        wipes: 0,
        wipe: [],
        firstStop: "1.1.0",
        needsAllowWipe: [],
        blocked: 0,
      },
      // 2.0.0's upgradeFrom puts 1.1.0 first (the transition release would do too, but
      // costs a transition stop).
      {
        to: "2.0.0",
        line: "2.0",
        golden: false,
        reachable: true,
        hops: 2,
        wipes: 0,
        wipe: [],
        firstStop: "1.1.0",
        needsAllowWipe: [],
        blocked: 0,
      },
      // The transition release satisfies 2.1.0's upgradeFrom and ships users-1-2, which
      // 3.0.0 does not: one hop fewer than through 1.1.0 and 2.0.0.
      {
        to: "2.1.0",
        line: "2.1",
        golden: true,
        reachable: true,
        hops: 2,
        wipes: 0,
        wipe: [],
        firstStop: "2.0.1-transition.1",
        needsAllowWipe: [],
        blocked: 0,
      },
      {
        to: "3.0.0",
        line: "3.0",
        golden: false,
        reachable: true,
        hops: 2,
        wipes: 0,
        wipe: [],
        firstStop: "2.0.1-transition.1",
        needsAllowWipe: [],
        blocked: 0,
      },
    ]);
  });

  it("marks a target reachable only by wiping, and one not reachable at all", () => {
    const g: GraphJson = {
      components: { users: { paths: ["etc/passwd"] }, network: { wipeable: false } },
      releases: [
        { version: "1.0.0", golden: true, epochs: { users: 1, network: 1 } },
        { version: "2.0.0", golden: true, epochs: { users: 2, network: 1 } },
        { version: "3.0.0", golden: true, epochs: { users: 1, network: 2 } },
      ],
      migrations: [],
    };
    const ctx = context(g);
    const from = ctx.releases[0] as Release;
    const json = reachJson(from, null, [], reach(ctx, { from }));
    expect(
      json.targets.map((t) => [t.to, t.reachable, t.hops, t.needsAllowWipe, t.blockers[0]?.code]),
    ).toEqual([
      ["2.0.0", false, 1, ["users"], "wipe"],
      ["3.0.0", false, null, [], "noChain"],
    ]);
    // Allowed, the wipe is part of the plan: reachable.
    const allowed = reachJson(from, null, ["users"], reach(ctx, { from, allowWipe: ["users"] }));
    expect(allowed.targets[0]).toMatchObject({ reachable: true, wipe: ["users"], wipes: 1 });
  });

  it("gives the same plans as plan --to, target by target", () => {
    const ctx = context(lines);
    for (const from of ctx.releases.filter((r) => !r.withdrawn)) {
      for (const e of reach(ctx, { from })) {
        const p = planOf(lines, from.version, e.to.version);
        expect(
          e.plan?.steps.map((s) => s.to.version) ?? null,
          `${from.version} -> ${e.to.version}`,
        ).toEqual(p.reachable ? p.steps.map((s) => s.to) : null);
      }
    }
  });
});

describe("a script that failed on the device", () => {
  const g: GraphJson = {
    components: users,
    releases: [
      { version: "1.0.0", epochs: { users: 1 } },
      { version: "2.0.0", epochs: { users: 2 } },
      { version: "2.1.0", epochs: { users: 2 }, ships: ["users-1-2-fixed"] },
    ],
    migrations: [
      { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0" },
      { id: "users-1-2-fixed", component: "users", from: 1, to: 2 },
    ],
  };
  const device = {
    release: "2.1.0",
    platform: null,
    components: [{ name: "users", epoch: 1, failed: true }],
    failures: [
      { id: "users-1-2", component: "users", phase: "boot" as const, from: 1, to: 2, status: 1 },
      { id: "@network", component: "network" },
    ],
  };

  it("is the graph's migration the record names; a record not tied to a script names none", () => {
    expect(failedMigrations(graph(g), device).map((m) => m.id)).toEqual(["users-1-2"]);
  });

  it("is not counted on: the plan takes the other chain", () => {
    const full = graph(g);
    const ctx = new PlanContext(withoutMigrations(full, failedMigrations(full, device)), null);
    const on2 = ctx.releases[1] as Release;
    const [to21] = reach(ctx, {
      from: on2,
      device: { users: 1 },
      targets: [ctx.releases[2] as Release],
    });
    // 2.1.0 would pick users-1-2 by id; without it, its own fixed script.
    expect(to21?.plan?.steps.map((s) => s.boot.map((m) => m.id))).toEqual([["users-1-2-fixed"]]);
    const [back] = reach(ctx, {
      from: on2,
      device: { users: 1 },
      targets: [ctx.releases[1] as Release],
    });
    expect(back?.plan?.steps.map((s) => [s.to.version, s.boot.map((m) => m.id)])).toEqual([
      ["2.1.0", ["users-1-2-fixed"]],
      ["2.0.0", []],
    ]);
  });
});
