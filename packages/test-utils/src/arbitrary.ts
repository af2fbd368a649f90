import fc from "fast-check";
import semver from "semver";
import type { RefGraph, RefMigration, RefRelease } from "./reference.js";

/**
 * Random small release graphs for the property tests: 2-8 releases (prereleases and
 * transition builds among them, in random file order), 1-3 components, up to 7 migrations
 * between epochs 1-3, and random shippedIn, ships, upgradeFrom, keys, runner, withdrawn,
 * golden and one platform's overrides.
 */

export const VERSIONS = [
  "0.9.0",
  "1.0.0-rc.1",
  "1.0.0",
  "1.0.1",
  "1.1.0-transition.1",
  "1.1.0",
  "2.0.0-rc.2",
  "2.0.0-rc.10",
  "2.0.0",
  "2.0.1-transition.1",
  "2.1.0",
  "3.0.0",
] as const;

export const COMPONENTS = ["users", "net", "logs"] as const;

export const PLATFORM = "qemuarm";

const version = fc.constantFrom(...VERSIONS);

/** The ranges a graph author writes: half-lines, intervals, carets, tildes, exact versions. */
export const rangeArb: fc.Arbitrary<string> = fc.oneof(
  version.map((v) => `>=${v}`),
  version.map((v) => `<${v}`),
  fc.tuple(version, version).map(([a, b]) => `>=${a} <${b}`),
  version.map((v) => `^${v}`),
  version.map((v) => `~${v}`),
  version,
  fc.tuple(version, version).map(([a, b]) => `<=${a} || >${b}`),
  fc.constant("*"),
);

/** True with probability p (a weighted choice: fast-check biases numbers toward extremes). */
const chance = (p: number) =>
  fc.oneof(
    { arbitrary: fc.constant(true), weight: Math.round(p * 100) },
    { arbitrary: fc.constant(false), weight: Math.round((1 - p) * 100) },
  );
const epoch = fc.integer({ min: 1, max: 3 });

/** The value with probability p, else null. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> =>
  fc.oneof(
    { arbitrary: arb, weight: Math.round(p * 100) },
    { arbitrary: fc.constant(null), weight: Math.round((1 - p) * 100) },
  );

/** Per release: mostly realistic (epochs that grow with the version), sometimes odd. */
const releaseRaw = fc.record({
  bumps: fc.array(chance(0.35), { minLength: 3, maxLength: 3 }),
  odd: fc.array(sometimes(epoch, 0.15), { minLength: 3, maxLength: 3 }),
  golden: chance(0.6),
  transition: chance(0.2),
  withdrawn: chance(0.1),
  runner: chance(0.85),
  ships: fc.array(fc.nat(6), { maxLength: 2 }),
  upgradeFrom: sometimes(
    fc.oneof(
      fc.nat(7).map((i) => ({ at: i })),
      rangeArb,
    ),
    0.3,
  ),
  signedBy: fc.oneof(
    { arbitrary: fc.constant("k1"), weight: 6 },
    { arbitrary: fc.constantFrom("k2", null), weight: 2 },
  ),
  trusts: sometimes(fc.constantFrom([], ["k1"], ["k2"], ["k1", "k2"], ["k1", "k2"]), 0.25),
  override: sometimes(fc.record({ component: fc.nat(2), epoch }), 0.2),
});

/** Mostly one epoch up or down, shipped from some release on; sometimes anything. */
const migrationRaw = fc.record({
  component: fc.nat(2),
  from: epoch,
  to: fc.oneof(
    { arbitrary: fc.constantFrom(1, -1), weight: 4 },
    { arbitrary: fc.constantFrom(2, -2), weight: 1 },
  ),
  prefix: fc.constantFrom("a", "b", "m"),
  shippedIn: fc.oneof(
    { arbitrary: fc.nat(7).map((i) => ({ from: i })), weight: 5 },
    {
      arbitrary: fc.tuple(fc.nat(7), fc.nat(7)).map(([i, j]) => ({ from: i, until: j })),
      weight: 2,
    },
    { arbitrary: rangeArb, weight: 1 },
    { arbitrary: fc.constant(null), weight: 2 },
  ),
});

type Raw = {
  /** GitLab-like required stops: every n-th release is one, and later ones upgrade only from it. */
  stopEvery?: number | null;
  components: boolean[];
  versions: string[];
  releases: (typeof releaseRaw extends fc.Arbitrary<infer T> ? T : never)[];
  migrations: (typeof migrationRaw extends fc.Arbitrary<infer T> ? T : never)[];
};

/** Builds the graph's JSON from the random choices. */
function build({ stopEvery, components, versions, releases, migrations }: Raw): RefGraph {
  const names = COMPONENTS.slice(0, components.length);
  // File order is random; epochs follow precedence order, like a real history.
  const sorted = [...versions].sort(semver.compare);
  const nth = (i: number) => sorted[i % sorted.length] as string;
  const ms: RefMigration[] = [];
  migrations.forEach((m, i) => {
    const to = m.from + m.to;
    if (to < 1 || to > 3) return;
    const s = m.shippedIn;
    const shippedIn =
      s === null || typeof s === "string"
        ? s
        : "until" in s
          ? `>=${nth(s.from)} <${nth(s.until)}`
          : `>=${nth(s.from)}`;
    ms.push({
      id: `${m.prefix}-${i}`,
      component: names[m.component % names.length] as string,
      from: m.from,
      to,
      ...(shippedIn !== null && { shippedIn }),
    });
  });
  const level = names.map(() => 1);
  const rs = new Map<string, RefRelease>();
  sorted.forEach((v, i) => {
    const raw = releases[i] as Raw["releases"][number];
    names.forEach((_, ci) => {
      if (raw.bumps[ci]) level[ci] = Math.min(3, (level[ci] as number) + 1);
    });
    const epochs = Object.fromEntries(
      names.map((n, ci) => [n, raw.odd[ci] ?? (level[ci] as number)]),
    );
    const ships = [
      ...new Set(
        ms.length === 0 ? [] : raw.ships.map((k) => (ms[k % ms.length] as RefMigration).id),
      ),
    ];
    const u = raw.upgradeFrom;
    const stop = stopEvery ? Math.floor((i - 1) / stopEvery) * stopEvery : -1;
    const upgradeFrom =
      typeof u === "string"
        ? u
        : stopEvery
          ? stop >= 0
            ? `>=${nth(stop)}`
            : null
          : u === null
            ? null
            : `>=${nth(u.at)}`;
    const o = raw.override;
    rs.set(v, {
      version: v,
      epochs,
      ...(raw.golden && { golden: true }),
      ...(raw.transition && { transition: true }),
      ...(raw.withdrawn && { withdrawn: true }),
      ...(!raw.runner && { runner: false }),
      ...(ships.length > 0 && { ships }),
      ...(upgradeFrom !== null && { upgradeFrom }),
      ...(raw.signedBy !== null && { signedBy: raw.signedBy }),
      ...(raw.trusts !== null && { trusts: [...raw.trusts] }),
      ...(o !== null && {
        platforms: {
          [PLATFORM]: { epochs: { [names[o.component % names.length] as string]: o.epoch } },
        },
      }),
    });
  });
  return {
    components: Object.fromEntries(
      names.map((n, ci) => [n, { wipeable: components[ci] as boolean, paths: [`var/lib/${n}`] }]),
    ),
    releases: versions.map((v) => rs.get(v) as RefRelease),
    migrations: ms,
  };
}

export const graphArb: fc.Arbitrary<RefGraph> = fc
  .record({
    components: fc.array(chance(0.6), { minLength: 1, maxLength: 3 }),
    versions: fc.shuffledSubarray([...VERSIONS], { minLength: 2, maxLength: 8 }),
    releases: fc.array(releaseRaw, { minLength: 8, maxLength: 8 }),
    migrations: fc.array(migrationRaw, { minLength: 1, maxLength: 7 }),
  })
  .map(build);

/**
 * Bigger histories (20-70 releases), past the 32 releases of one bitset word, with the
 * same kinds of choices; too big for the exhaustive reference, checked by refPlansFrom.
 */
export const largeGraphArb: fc.Arbitrary<RefGraph> = fc
  .integer({ min: 20, max: 70 })
  .chain((n) =>
    fc.record({
      stopEvery: sometimes(fc.integer({ min: 2, max: 8 }), 0.6),
      components: fc.array(chance(0.6), { minLength: 1, maxLength: 3 }),
      versions: fc.uniqueArray(
        fc
          .record({
            major: fc.integer({ min: 1, max: 3 }),
            minor: fc.integer({ min: 0, max: 9 }),
            patch: fc.integer({ min: 0, max: 3 }),
            pre: fc.constantFrom("", "", "", "", "-rc.1", "-rc.2", "-transition.1"),
          })
          .map((v) => `${v.major}.${v.minor}.${v.patch}${v.pre}`),
        { minLength: n, maxLength: n },
      ),
      releases: fc.array(releaseRaw, { minLength: n, maxLength: n }),
      migrations: fc.array(migrationRaw, { minLength: 2, maxLength: 12 }),
    }),
  )
  .map(build);

/** What a plan request may vary: which wipes are allowed, the platform, the device's data. */
export const requestArb = fc.record({
  allowWipe: fc.constantFrom<"none" | "all" | "first">("none", "all", "first"),
  platform: sometimes(fc.constant(PLATFORM), 0.3),
  device: sometimes(fc.array(epoch, { minLength: 3, maxLength: 3 }), 0.3),
});
