import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBundle } from "@stepstone/bundle";
import type { Epoch, Release } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import { type HopDetail, hop, PlanContext } from "@stepstone/planner";
import { graphArb, largeGraphArb, PLATFORM, type RefGraph, rangeArb } from "@stepstone/test-utils";
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  BUNDLE_REL,
  defaultBody,
  makeRoot,
  type RunResult,
  readState,
  runs,
  SHELLS,
  type Shell,
  shellArgv,
  type TestRoot,
  tempDir,
  tool,
  writeState,
} from "../../packages/runner/test/helpers.js";

/**
 * The runner's chain choice is a third copy of DESIGN.md's rule 4 ("Hop legality"), after
 * the planner's and its brute-force reference: here it is run for real. A graph's bundles
 * are built by @stepstone/bundle, the source's is installed on a device root with the
 * emitted runner and the data at the source's epochs, `runner pre-flash --target` runs
 * toward the target's bundle, the target is flashed (its bundle replaces the source's) and
 * `runner boot` runs. The scripts run, in order and by phase, must be the planner's
 * hopDetail for the same pair and platform. Rules 1-3 (withdrawn, keys, upgradeFrom) are
 * the planner's business and are not compared; bundles are unsigned.
 */

type Json = Record<string, unknown>;
type LoadedGraph = Parameters<typeof writeBundle>[0];

/**
 * A graph as a test writes it: the JSON a user writes, minus schemaVersion and the
 * migrations' scripts (the planner's random graphs are such).
 */
interface GraphSpec {
  components: Record<string, object>;
  releases: readonly object[];
  migrations: readonly { id: string; component: string; from: number; to: number }[];
}

/**
 * Writes release-graph.json and one real script per migration (migrations/<id>.sh, the
 * runner tests' default body: appends "<id> <phase> <from> <to>" to $MIGRATION_ROOT/runs,
 * re-runnable) and reads it back as the bundle package takes it.
 */
function writeGraph(dir: string, g: GraphSpec): LoadedGraph {
  mkdirSync(join(dir, "migrations"), { recursive: true });
  const json = {
    schemaVersion: 1,
    components: g.components,
    releases: g.releases,
    migrations: g.migrations.map((m) => {
      const script = `migrations/${m.id}.sh`;
      const body = defaultBody({ id: m.id, component: m.component, from: m.from, to: m.to });
      writeFileSync(join(dir, script), `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o755 });
      return { script, ...m };
    }),
  };
  const file = join(dir, "release-graph.json");
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return { ...parseGraph(json, file), file, root: dir, json };
}

/** How `pre-flash --target` is given the target's bundle: all three forms the runner takes. */
type TargetForm = "tarball" | "rootfs" | "folder";

/**
 * A command's status and output, without blocking the event loop: most of a runner's time
 * is spent waiting in `sync`, so the shells' cases run concurrently.
 */
function exec(argv: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function ok(argv: readonly string[]): Promise<void> {
  const r = await exec(argv);
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
}

/** The runner test helpers' runRunner, awaited. */
function runRunner(t: TestRoot, shell: Shell, args: readonly string[]): Promise<RunResult> {
  return exec([...shellArgv(shell), t.runner, "--root", t.root, ...args], {
    MIGRATION_LOCK_TIMEOUT: "5",
  });
}

/** "Flashing": the image's bundle folder is replaced by the one in the tarball. */
async function install(t: TestRoot, tarball: string): Promise<void> {
  rmSync(t.bundleDir, { recursive: true, force: true });
  await ok([tool("tar"), "-xzf", tarball, "-C", t.root]);
}

async function target(tarball: string, form: TargetForm): Promise<string> {
  if (form === "tarball") return tarball;
  const rootfs = tempDir("stepstone-chains-target-");
  await ok([tool("tar"), "-xzf", tarball, "-C", rootfs]);
  return form === "rootfs" ? rootfs : join(rootfs, BUNDLE_REL);
}

/** What the runner did on one hop, in the terms the planner's answer is checked in. */
interface Observed {
  preFlash: { status: number | null; runs: string[] };
  /** Absent when pre-flash refused (nothing is flashed then). */
  boot?: { status: number | null; runs: string[] };
  epochs: Record<string, number | null>;
}

/** A runs line per script of the planner's chain (the default body's format). */
const lines = (ms: HopDetail["boot"], phase: string) =>
  ms.map((m) => `${m.id} ${phase} ${m.from} ${m.to}`);

function epochRecords(t: TestRoot, ctx: PlanContext): Record<string, number | null> {
  return Object.fromEntries(
    ctx.components.map((c) => {
      const e = readState(t, `epoch/${c.name}`);
      return [c.name, e === undefined ? null : Number(e.trim())];
    }),
  );
}

/**
 * Source A's image on a fresh device root, its data at A's epochs; pre-flash toward B;
 * when that succeeds, B flashed and booted.
 */
async function runHop(
  shell: Shell,
  loaded: LoadedGraph,
  ctx: PlanContext,
  a: number,
  b: number,
  form: TargetForm,
): Promise<{ observed: Observed; stderr: string }> {
  const out = tempDir("stepstone-chains-bundles-");
  const [bundleA, bundleB] = await Promise.all([
    writeBundle(loaded, ctx, a, join(out, "a")),
    writeBundle(loaded, ctx, b, join(out, "b")),
  ]);
  const t = await makeRoot();
  await install(t, bundleA.file);
  ctx.components.forEach((c, ci) => {
    writeState(t, `epoch/${c.name}`, `${ctx.epoch(a, ci)}\n`);
  });
  const pre = await runRunner(t, shell, [
    "pre-flash",
    "--target",
    await target(bundleB.file, form),
  ]);
  const observed: Observed = {
    preFlash: { status: pre.status, runs: runs(t) },
    epochs: epochRecords(t, ctx),
  };
  if (pre.status !== 0) return { observed, stderr: pre.stderr };
  await install(t, bundleB.file);
  const boot = await runRunner(t, shell, ["boot"]);
  observed.boot = { status: boot.status, runs: runs(t).slice(observed.preFlash.runs.length) };
  observed.epochs = epochRecords(t, ctx);
  return { observed, stderr: pre.stderr + boot.stderr };
}

/**
 * The contract: with a chain for every component, pre-flash runs exactly the planner's
 * pre-flash scripts and boot exactly its boot scripts, both exit 0, and every component
 * ends at B's epoch. When some component has no chain (the planner would wipe it),
 * pre-flash exits 1 having run nothing and changed no epoch.
 */
function expected(ctx: PlanContext, a: number, b: number, hop: HopDetail): Observed {
  const epochsOf = (r: number) =>
    Object.fromEntries(ctx.components.map((c, ci) => [c.name, ctx.epoch(r, ci) as Epoch]));
  if (hop.wipe.length > 0) return { preFlash: { status: 1, runs: [] }, epochs: epochsOf(a) };
  return {
    preFlash: { status: 0, runs: lines(hop.preFlash, "pre-flash") },
    boot: { status: 0, runs: lines(hop.boot, "boot") },
    epochs: epochsOf(b),
  };
}

function hopOf(ctx: PlanContext, a: number, b: number): HopDetail {
  return hop(ctx, ctx.releases[a] as Release, ctx.releases[b] as Release);
}

function indexOf(ctx: PlanContext, version: string): number {
  const i = ctx.releases.findIndex((r) => r.version === version);
  if (i < 0) throw new Error(`no release ${version} in the test graph`);
  return i;
}

// --- random graphs -----------------------------------------------------------------------

/**
 * Ids that byte order, dictionary order and numeric order sort differently, and that are
 * prefixes of each other: some graphs get these instead of the arbitrary's `a-3`, `m-5`.
 */
const TRICKY_IDS = [
  "a",
  "a-1",
  "a-1-2",
  "a-1-2-x",
  "a-10",
  "a-9",
  "a.1",
  "a1",
  "a_1",
  "b",
  "m-0",
  "z",
] as const;

/** The graph with its migrations renamed (ships lists follow). */
function renamed(g: RefGraph, names: readonly string[] | null): RefGraph {
  if (names === null) return g;
  const to = new Map(g.migrations.map((m, i) => [m.id, names[i] as string]));
  return {
    ...g,
    releases: g.releases.map((r) =>
      r.ships ? { ...r, ships: r.ships.map((id) => to.get(id) as string) } : r,
    ),
    migrations: g.migrations.map((m) => ({ ...m, id: to.get(m.id) as string })),
  };
}

interface Twin {
  of: number;
  /** Its own shippedIn, or null: the original's (then only the ids tell them apart). */
  shippedIn: string | null;
  /** Its id sorts before the original's (`<k>-<id>`) rather than after (`<id>.t<k>`). */
  before: boolean;
  /** A detour through this epoch (no release is at it) instead of a copy; see withTwins. */
  via: number | null;
}

type RefMigration = RefGraph["migrations"][number];

/**
 * The graph with twins, so that chains of one length compete and the tie-breaks decide:
 * copies of some migrations (same component, from and to) or detours (m then a migration
 * m2 that continues it, copied as m.from -> via -> m2.to: same length, other epochs), with
 * an id that sorts just after the original's (`<id>.t<k>`: the original is a prefix) or
 * before it (`<k>-<id>`), maybe shipped by other releases. Epochs of the arbitraries are
 * 1-3: without a detour, two chains of one length never differ but by their ids.
 */
function withTwins(g: RefGraph, twins: readonly Twin[]): RefGraph {
  const ms = g.migrations;
  if (ms.length === 0) return g;
  const shipped = (t: Twin, m: RefMigration) => {
    const { shippedIn: _, ...rest } = m;
    const shippedIn = t.shippedIn ?? m.shippedIn;
    return { ...rest, ...(shippedIn !== undefined && { shippedIn }) };
  };
  const copies = twins.flatMap((t, k): RefMigration[] => {
    const m = ms[t.of % ms.length] as RefMigration;
    const id = t.before ? `${k}-${m.id}` : `${m.id}.t${k}`;
    if (t.via === null) return [{ ...shipped(t, m), id }];
    const next = ms.find((x) => x.component === m.component && x.from === m.to && x.to !== m.from);
    if (next === undefined) return [];
    return [
      { ...shipped(t, m), id, to: t.via },
      { ...shipped(t, next), id: `${next.id}.d${k}`, from: t.via },
    ];
  });
  return { ...g, migrations: [...ms, ...copies] };
}

/**
 * Which pair of releases a case takes: most pairs of a random graph need no script or have
 * no chain, so a case may ask for a pair whose chains run scripts, on both sides ("split"), or
 * chosen among rivals ("branch").
 */
type Prefer = "any" | "scripts" | "split" | "branch";

const caseArb = fc
  .record({
    graph: fc.oneof(graphArb, largeGraphArb),
    names: fc.option(fc.shuffledSubarray([...TRICKY_IDS], { minLength: 12, maxLength: 12 }), {
      nil: null,
      freq: 2,
    }),
    twins: fc.array(
      fc.record({
        of: fc.nat(),
        shippedIn: fc.option(rangeArb, { nil: null, freq: 2 }),
        before: fc.boolean(),
        via: fc.constantFrom(null, 0, 4),
      }),
      { maxLength: 5 },
    ),
    platform: fc.constantFrom<string | null>(null, PLATFORM),
    prefer: fc.constantFrom<Prefer>("any", "scripts", "split", "branch", "branch"),
    pair: fc.nat(),
    form: fc.constantFrom<TargetForm>("tarball", "rootfs", "folder"),
  })
  .map((c) => ({ ...c, graph: withTwins(renamed(c.graph, c.names), c.twins) }))
  // Only releases with the runner have a bundle.
  .filter((c) => c.graph.releases.filter((r) => r.runner !== false).length >= 2);

/** The pair (A, B) a case asks for, falling back to any pair when none is of its kind. */
function pick(
  ctx: PlanContext,
  prefer: Prefer,
  k: number,
): { a: number; b: number; hop: HopDetail } {
  const withRunner = ctx.releases.flatMap((r, i) => (r.runner ? [i] : []));
  const pairs = withRunner.flatMap((a) =>
    withRunner.filter((b) => b !== a).map((b) => ({ a, b, hop: hopOf(ctx, a, b) })),
  );
  const scripts = pairs.filter(
    (p) => p.hop.wipe.length === 0 && p.hop.preFlash.length + p.hop.boot.length > 0,
  );
  const kinds: Record<Prefer, typeof pairs> = {
    any: pairs,
    scripts,
    split: scripts.filter((p) => p.hop.preFlash.length > 0 && p.hop.boot.length > 0),
    branch: scripts.filter((p) => branches(ctx, p.a, p.b, p.hop)),
  };
  const from = [kinds[prefer], scripts, pairs].find((list) => list.length > 0) as typeof pairs;
  return from[k % from.length] as (typeof pairs)[number];
}

/**
 * Whether some script of the hop's chains had a rival: another script of its component
 * from the same epoch, shipped by A or B (so the tie-breaks, or the counts, chose).
 */
function branches(ctx: PlanContext, a: number, b: number, hop: HopDetail): boolean {
  return [...hop.preFlash, ...hop.boot].some((m) =>
    ctx.graph.migrations.some(
      (x) =>
        x !== m &&
        x.component === m.component &&
        x.from === m.from &&
        (ctx.shipping.ships(a, x) || ctx.shipping.ships(b, x)),
    ),
  );
}

/** RUNNER_CHAIN_RUNS: random cases per shell (default 150; both shells at once, about 15 s). */
const RUNS = Number(process.env.RUNNER_CHAIN_RUNS ?? 150) || 150;
/**
 * Shrinking reruns the device for every candidate (up to a second each on a loaded host):
 * capped, so that a failure is reported, with its counterexample, before the test's time
 * limit.
 */
const SHRINKS = 200;

describe.concurrent.each(SHELLS)(
  "runner chains against the planner's, on random graphs (%s)",
  (shell) => {
    it("pre-flash then boot run exactly the planner's chains, or pre-flash refuses when it would wipe", async ({
      expect,
    }) => {
      await fc.assert(
        fc.asyncProperty(fc.limitShrink(caseArb, SHRINKS), async (c) => {
          const loaded = writeGraph(tempDir("stepstone-chains-graph-"), c.graph);
          const ctx = new PlanContext(loaded.graph, c.platform);
          const { a, b, hop } = pick(ctx, c.prefer, c.pair);
          const got = await runHop(shell, loaded, ctx, a, b, c.form);
          const what = `${ctx.releases[a]?.version} -> ${ctx.releases[b]?.version}${c.platform ? ` on ${c.platform}` : ""}, target as ${c.form}; the runner said:\n${got.stderr}`;
          expect(got.observed, what).toEqual(expected(ctx, a, b, hop));
        }),
        { numRuns: RUNS },
      );
    }, 600_000);
  },
);

// --- hand-written cases ------------------------------------------------------------------

interface Example {
  name: string;
  graph: GraphSpec;
  from: string;
  to: string;
  platform?: string;
  /** The chains, or "refused" when some component has none (pre-flash exits 1). */
  want: { preFlash: string[]; boot: string[] } | "refused";
}

const USERS = { users: { paths: ["var/lib/users"] } };
const rel = (version: string, epochs: Record<string, number>, extra: Json = {}): Json => ({
  version,
  epochs,
  ...extra,
});
const mig = (id: string, from: number, to: number, shippedIn: string, extra: Json = {}) => ({
  id,
  component: "users",
  from,
  to,
  shippedIn,
  ...extra,
});

const EXAMPLES: Example[] = [
  {
    name: "the running image's part before the flash, the target's at boot",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [mig("a-1-2", 1, 2, "1.0.0"), mig("b-2-3", 2, 3, "2.0.0")],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: ["a-1-2"], boot: ["b-2-3"] },
  },
  {
    name: "a downgrade: the running image ships the way down, the target nothing",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [mig("u-3-2", 3, 2, ">=2.0.0"), mig("u-2-1", 2, 1, ">=2.0.0")],
    },
    from: "2.0.0",
    to: "1.0.0",
    want: { preFlash: ["u-3-2", "u-2-1"], boot: [] },
  },
  {
    name: "fewest scripts first: one boot script with a larger id beats two pre-flash ones",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [
        mig("a-1-2", 1, 2, "1.0.0"),
        mig("a-2-3", 2, 3, "1.0.0"),
        mig("z-1-3", 1, 3, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["z-1-3"] },
  },
  {
    name: "then fewer pre-flash scripts, before ids: [b-1-2 b-2-3] at boot beats a-1-2 before the flash",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [
        mig("a-1-2", 1, 2, "1.0.0"),
        mig("b-1-2", 1, 2, "2.0.0"),
        mig("b-2-3", 2, 3, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["b-1-2", "b-2-3"] },
  },
  {
    name: "scripts both images ship run at the target's boot (fewer pre-flash scripts)",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [mig("u-1-2", 1, 2, ">=1.0.0"), mig("u-2-3", 2, 3, ">=1.0.0")],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["u-1-2", "u-2-3"] },
  },
  {
    name: "then ids element by element: [a-1-2 z-4-3] beats [a-1-2-x b-2-3] (not the joined string)",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [
        mig("a-1-2-x", 1, 2, "2.0.0"),
        mig("b-2-3", 2, 3, "2.0.0"),
        mig("a-1-2", 1, 4, "2.0.0"),
        mig("z-4-3", 4, 3, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["a-1-2", "z-4-3"] },
  },
  {
    name: "a prefix is smaller: a-1-2 before a-1-2-x",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 2 })],
      migrations: [mig("a-1-2-x", 1, 2, "2.0.0"), mig("a-1-2", 1, 2, "2.0.0")],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["a-1-2"] },
  },
  {
    name: "ids as byte strings (C locale): m-3 < m.2 < m1 < m_0, whatever a dictionary says",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 2 })],
      migrations: [
        mig("m_0", 1, 2, "2.0.0"),
        mig("m1", 1, 2, "2.0.0"),
        mig("m.2", 1, 2, "2.0.0"),
        mig("m-3", 1, 2, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: [], boot: ["m-3"] },
  },
  {
    name: "ids as byte strings, not numbers: u-10 before u-9, in the pre-flash part too",
    graph: {
      components: USERS,
      releases: [rel("1.0.0", { users: 1 }), rel("2.0.0", { users: 3 })],
      migrations: [
        mig("u-9", 1, 2, "1.0.0"),
        mig("u-10", 1, 2, "1.0.0"),
        mig("v-2-3", 2, 3, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: ["u-10"], boot: ["v-2-3"] },
  },
  {
    name: "components in migration order (from after), each chain in chain order",
    graph: {
      components: { net: { paths: ["var/lib/net"] }, users: { paths: ["var/lib/users"] } },
      releases: [rel("1.0.0", { net: 1, users: 1 }), rel("2.0.0", { net: 3, users: 3 })],
      migrations: [
        { ...mig("n-1-2", 1, 2, "1.0.0", { after: ["u-1-2"] }), component: "net" },
        { ...mig("n-2-3", 2, 3, "2.0.0"), component: "net" },
        mig("u-1-2", 1, 2, "1.0.0"),
        mig("u-2-3", 2, 3, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: { preFlash: ["u-1-2", "n-1-2"], boot: ["u-2-3", "n-2-3"] },
  },
  {
    name: "the platform's epochs: on qemuarm 2.0.0 is at 2, so one script",
    graph: {
      components: USERS,
      releases: [
        rel("1.0.0", { users: 1 }),
        rel("2.0.0", { users: 3 }, { platforms: { qemuarm: { epochs: { users: 2 } } } }),
      ],
      migrations: [mig("u-1-2", 1, 2, ">=2.0.0"), mig("u-2-3", 2, 3, ">=2.0.0")],
    },
    from: "1.0.0",
    to: "2.0.0",
    platform: "qemuarm",
    want: { preFlash: [], boot: ["u-1-2"] },
  },
  {
    name: "no chain for one component: pre-flash refuses and runs nothing, not even the other's",
    graph: {
      components: { net: { paths: ["var/lib/net"] }, users: { paths: ["var/lib/users"] } },
      releases: [rel("1.0.0", { net: 1, users: 1 }), rel("2.0.0", { net: 2, users: 3 })],
      migrations: [
        { ...mig("n-1-2", 1, 2, "1.0.0"), component: "net" },
        mig("u-1-2", 1, 2, "1.0.0"),
        mig("u-3-1", 3, 1, "2.0.0"),
      ],
    },
    from: "1.0.0",
    to: "2.0.0",
    want: "refused",
  },
];

describe.concurrent.each(SHELLS)("runner chains, hand-written (%s)", (shell) => {
  it.for(EXAMPLES)("$name", async (ex, { expect }) => {
    const loaded = writeGraph(tempDir("stepstone-chains-graph-"), ex.graph);
    const ctx = new PlanContext(loaded.graph, ex.platform ?? null);
    const a = indexOf(ctx, ex.from);
    const b = indexOf(ctx, ex.to);
    const hop = hopOf(ctx, a, b);
    // The planner's answer is the one written here...
    if (ex.want === "refused") expect(hop.wipe.length).toBeGreaterThan(0);
    else {
      expect({
        preFlash: hop.preFlash.map((m) => m.id),
        boot: hop.boot.map((m) => m.id),
        wipe: hop.wipe,
      }).toEqual({ ...ex.want, wipe: [] });
    }
    // ...and the runner's, on a device.
    const got = await runHop(shell, loaded, ctx, a, b, "tarball");
    expect(got.observed, got.stderr).toEqual(expected(ctx, a, b, hop));
  });
});
