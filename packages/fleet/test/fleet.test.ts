import { Readable } from "node:stream";
import { InputError } from "@stepstone/errors";
import { parseGraph } from "@stepstone/graph/schema";
import { deviceEpochs, PlanContext, plan } from "@stepstone/planner";
import type { DeviceStatus } from "@stepstone/runner";
import { type GraphJson, graphArb, graphJson } from "@stepstone/test-utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Device,
  distribution,
  Fleet,
  type FleetClass,
  readInventory,
  summarize,
  waves,
} from "../src/index.js";

/**
 * A small OpenBMC-like history: 1.0 (golden, before the runner), 1.1 moves users to
 * unprivileged groups, 2.0 (golden) changes the network format and upgrades only from 1.1.
 */
const GRAPH = parseGraph(
  graphJson({
    components: {
      users: { paths: ["etc/passwd"] },
      network: { wipeable: false, paths: ["etc/systemd/network"] },
    },
    releases: [
      { version: "1.0.0", golden: true, runner: false, epochs: { users: 1, network: 1 } },
      {
        version: "1.1.0",
        epochs: { users: 2, network: 1 },
        platforms: { arm: { epochs: { users: 1 } } },
      },
      { version: "2.0.0", golden: true, epochs: { users: 2, network: 2 }, upgradeFrom: ">=1.1.0" },
    ],
    migrations: [
      { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=1.1.0" },
      { id: "network-1-2", component: "network", from: 1, to: 2, shippedIn: ">=2.0.0" },
    ],
  }),
  "release-graph.json",
).graph;

const short = (id: string, release: string, platform: string | null = null): Device => ({
  id,
  release,
  platform,
  status: null,
});

/** A device on 1.1.0 whose boot migration users-1-2 failed: its users data is still at 1. */
const failed = (id: string): Device => ({
  id,
  release: "1.1.0",
  platform: null,
  status: {
    release: "1.1.0",
    platform: null,
    components: [
      { name: "users", epoch: 1, interrupted: null, failed: true },
      { name: "network", epoch: 1, interrupted: null, failed: false },
    ],
    failures: [{ id: "users-1-2", component: "users" }],
  },
});

function fleetOf(devices: Device[], to: string | null = "2.0.0") {
  const fleet = new Fleet(GRAPH, { to, platformDefault: null, allowWipe: [] });
  for (const d of devices) fleet.add(d);
  return fleet;
}

const row = (c: FleetClass) => ({
  id: c.id,
  devices: c.devices,
  flashes: c.plan?.reachable ? c.plan.route.steps.map((s) => s.to.version) : null,
  firstStop: c.firstStop,
});

describe("a small fleet toward 2.0.0", () => {
  const fleet = fleetOf([
    short("a1", "1.0.0"),
    short("a2", "1.0.0"),
    short("a3", "v1.0.0"),
    short("b1", "1.1.0"),
    short("b2", "1.1.0"),
    failed("c1"),
    short("d1", "2.0.0"),
    short("e1", "1.1.0", "arm"),
  ]);
  const classes = fleet.classes();

  it("groups devices by release, platform, data epochs and failures", () => {
    expect(classes.map(row)).toEqual([
      { id: "1.0.0", devices: 3, flashes: ["1.1.0", "2.0.0"], firstStop: "1.1.0" },
      { id: "1.1.0", devices: 2, flashes: ["2.0.0"], firstStop: "2.0.0" },
      {
        id: "1.1.0 users=1 failed=users-1-2",
        devices: 1,
        flashes: ["2.0.0"],
        firstStop: "2.0.0",
      },
      { id: "1.1.0/arm", devices: 1, flashes: ["2.0.0"], firstStop: "2.0.0" },
      { id: "2.0.0", devices: 1, flashes: [], firstStop: "" },
    ]);
  });

  it("says why a stop is needed", () => {
    const c = classes[0] as FleetClass;
    expect(c.plan?.reachable && c.plan.stops).toMatchObject([
      {
        stop: { version: "1.1.0" },
        why: [
          {
            code: "upgradeFrom",
            message:
              '2.0.0 upgrades only from ">=1.1.0", which 1.0.0 does not satisfy: stop at a release in that range first',
          },
        ],
      },
    ]);
  });

  it("sums the fleet up", () => {
    expect(summarize(classes)).toEqual({
      devices: 8,
      classes: 5,
      atTarget: 1,
      direct: 4,
      throughStops: 3,
      needingWipes: 0,
      unreachable: 0,
      failed: 1,
    });
  });

  it("orders the flashes into waves: every first hop before any second", () => {
    expect(
      waves(classes, GRAPH.releases).map((w) => [
        w.wave,
        w.step,
        w.flash.version,
        w.devices,
        w.classes.length,
      ]),
    ).toEqual([
      [1, 1, "1.1.0", 3, 1],
      [2, 1, "2.0.0", 4, 3],
      [3, 2, "2.0.0", 3, 1],
    ]);
  });

  it("without a target: the distribution and the golden releases the fleet could reach", () => {
    const d = distribution(
      fleetOf([short("a1", "1.0.0"), short("b1", "1.1.0"), failed("c1")], null),
    );
    expect(d.releases).toEqual([
      { release: "1.1.0", platform: null, devices: 2, failed: 1 },
      { release: "1.0.0", platform: null, devices: 1, failed: 0 },
    ]);
    expect(d.failedComponents).toEqual([{ component: "users", devices: 1 }]);
    expect(d.golden.map((g) => [g.release.version, g.atRelease, g.reachable])).toEqual([
      // users 2 -> 1 has no migration: 1.1.0 goes back only with a wipe, but the device
      // whose users data stayed at 1 can.
      ["1.0.0", 1, 2],
      ["2.0.0", 0, 3],
    ]);
  });
});

describe("devices that cannot be planned", () => {
  it("unknown releases and platforms, a non-wipeable component that must go down", () => {
    const fleet = fleetOf(
      [short("x", "9.9.9"), short("y", "1.1.0", "riscv"), short("z", "2.0.0")],
      "1.0.0",
    );
    const byId = new Map(fleet.classes().map((c) => [c.id, c]));
    const blockers = (id: string) => {
      const p = byId.get(id)?.plan;
      return p && !p.reachable ? p.blockers.map((b) => b.code) : null;
    };
    expect(blockers("9.9.9")).toEqual(["unknownRelease"]);
    expect(blockers("1.1.0/riscv")).toEqual(["unknownPlatform"]);
    // network 2 -> 1 has no migration and network may not be wiped.
    expect(blockers("2.0.0")).toContain("noChain");
    expect(summarize(fleet.classes()).unreachable).toBe(3);
  });
});

describe("reading an inventory", () => {
  const read = async (text: string) => {
    const devices: [number, string][] = [];
    const bad: [number, string][] = [];
    const r = await readInventory(
      "inventory",
      {
        device: (d, line) => devices.push([line, d.id]),
        bad: (message, line) => bad.push([line, message]),
      },
      Readable.from([text]),
    );
    return { ...r, devices, bad };
  };

  it("JSON Lines: both forms, blank lines skipped, bad lines counted with their number", async () => {
    const r = await read(
      [
        '{"id":"a","release":"1.0.0"}',
        "",
        "{not json",
        '{"id":"b","status":{"release":"1.1.0","platform":null,"components":[],"failures":[]}}',
        '{"release":"1.0.0"}',
        '{"id":"c","status":{"release":"1.1.0","components":"users"}}',
        '{"id":"d","release":"2.0.0","platform":"arm"}\r',
      ].join("\n"),
    );
    expect(r.format).toBe("jsonl");
    expect(r.devices).toEqual([
      [1, "a"],
      [4, "b"],
      [7, "d"],
    ]);
    expect(r.bad.map(([line]) => line)).toEqual([3, 5, 6]);
    expect(r.bad[1]?.[1]).toMatch(/^id: expected the device's id/);
    expect(r.bad[2]?.[1]).toMatch(/device c: status: components: expected an array/);
  });

  it("CSV with a header, quoted fields, a missing platform", async () => {
    const r = await read('id,release,platform\na,1.0.0,\n"b,1",1.1.0,arm\nc\n');
    expect(r.format).toBe("csv");
    expect(r.devices).toEqual([
      [2, "a"],
      [3, "b,1"],
    ]);
    expect(r.bad).toEqual([[4, "device c: release: empty; the columns are id,release,platform"]]);
  });

  it("a line split across chunks is one line", async () => {
    const devices: string[] = [];
    await readInventory(
      "inventory",
      { device: (d) => devices.push(d.id), bad: () => expect.unreachable() },
      Readable.from(['{"id":"a","rel', 'ease":"1.0.0"}\n{"id":"b",', '"release":"1.0.0"}']),
    );
    expect(devices).toEqual(["a", "b"]);
  });
});

/**
 * The fleet's promise: a device's class plan is exactly `plan --device` for that device
 * (its platform, its data epochs after an interrupted pre-flash script, its release).
 */
describe("every device's class plan is its own plan", () => {
  const deviceArb = (names: readonly string[], versions: readonly string[]) =>
    fc.record({
      release: fc.constantFrom(...versions),
      platform: fc.constantFrom(null, "qemuarm"),
      status: fc.option(
        fc.record({
          epochs: fc.array(fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), {
            minLength: names.length,
            maxLength: names.length,
          }),
          failed: fc.boolean(),
        }),
        { nil: null },
      ),
    });

  it("on random graphs and fleets", () => {
    fc.assert(
      fc.property(
        graphArb.chain((g) =>
          fc.tuple(
            fc.constant(g),
            fc.array(
              deviceArb(
                Object.keys(g.components),
                g.releases.map((r) => r.version),
              ),
              { minLength: 1, maxLength: 12 },
            ),
            fc.nat(g.releases.length - 1),
            fc.constantFrom<"none" | "all">("none", "all"),
          ),
        ),
        ([g, raw, toAt, wipes]) => {
          const graph = parseGraph(
            graphJson(g as unknown as GraphJson),
            "release-graph.json",
          ).graph;
          const names = Object.keys(g.components);
          const to = (g.releases[toAt] as { version: string }).version;
          const allowWipe = wipes === "all" ? "all" : [];
          const fleet = new Fleet(graph, { to, platformDefault: null, allowWipe });
          const devices = raw.map((d, i): Device => {
            const status: DeviceStatus | null =
              d.status === null
                ? null
                : {
                    release: d.release,
                    platform: d.platform,
                    components: names.flatMap((name, ci) => {
                      const epoch = d.status?.epochs[ci];
                      return epoch === undefined ? [] : [{ name, epoch, interrupted: null }];
                    }),
                    failures: d.status.failed
                      ? [{ id: `@${names[0]}`, component: names[0] ?? null }]
                      : [],
                  };
            return { id: `d${i}`, release: d.release, platform: d.platform, status };
          });
          const classes = devices.map((d) => fleet.add(d));
          devices.forEach((d, i) => {
            // What `plan --device` does for this device.
            const ctx = new PlanContext(
              graph,
              d.platform !== null && graph.platforms.includes(d.platform) ? d.platform : null,
            );
            const from = ctx.releases.find((r) => r.version === d.release);
            const target = ctx.releases.find((r) => r.version === to);
            if (from === undefined || target === undefined) throw new Error("not in the graph");
            let device: Record<string, number> | undefined;
            let problem = false;
            try {
              device = d.status === null ? undefined : deviceEpochs(ctx, d.status, "status", from);
            } catch (e) {
              if (!(e instanceof InputError)) throw e;
              problem = true;
            }
            const cls = classes[i] as FleetClass;
            if (d.platform !== null && !graph.platforms.includes(d.platform)) {
              expect(cls.plan).toMatchObject({
                reachable: false,
                blockers: [{ code: "unknownPlatform" }],
              });
              return;
            }
            if (problem) {
              expect(cls.plan).toMatchObject({ reachable: false, blockers: [{ code: "device" }] });
              return;
            }
            const want = plan(ctx, {
              from,
              to: target,
              allowWipe,
              ...(device && { device }),
            });
            const got = cls.plan;
            if (!want.reachable) {
              expect(got).toEqual({ reachable: false, blockers: want.blockers });
              return;
            }
            expect(got?.reachable).toBe(true);
            if (!got?.reachable) return;
            expect({
              hops: got.route.hops,
              wipes: got.route.wipes,
              scripts: got.route.scripts,
            }).toEqual({
              hops: want.plan.hops,
              wipes: want.plan.wipes,
              scripts: want.plan.scripts,
            });
            expect(got.route.steps.map((s) => [s.to.version, s.wipe])).toEqual(
              want.plan.steps.map((s) => [s.to.version, [...s.wipe]]),
            );
            expect(cls.firstStop).toBe(want.plan.steps[0]?.to.version ?? "");
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
