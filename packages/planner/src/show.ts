import type { Epoch, Migration, Release } from "@stepstone/graph";
import type { PlanContext } from "./context.js";
import { type MatrixCell, matrix } from "./matrix.js";

/** How one release connects with another of the set: the best plan, wipes allowed (as `matrix`). */
export interface Connection {
  readonly other: Release;
  readonly reachable: boolean;
  readonly hops: number | null;
  readonly wipes: number | null;
  /** The plan's intermediate stops, first to last. */
  readonly via: readonly Release[];
}

export interface PlatformEpochs {
  /** null: the release's own epochs; otherwise a platform of the graph. */
  readonly platform: string | null;
  readonly epochs: Readonly<Record<string, Epoch>>;
  /** The components this release overrides on that platform. */
  readonly overridden: readonly string[];
}

/** `stepstone show V`: one release, and how it connects with the set's releases. */
export interface ReleaseView {
  readonly release: Release;
  /** Its epochs, then on each platform the graph names (its own overrides applied). */
  readonly epochs: readonly PlatformEpochs[];
  /** The migrations its image carries, by id. */
  readonly ships: readonly Migration[];
  /** The releases it is compared with (the set, without it). */
  readonly set: readonly Release[];
  /** Each release of the set, and its best plan to this release. */
  readonly reachedFrom: readonly Connection[];
  /** Each release of the set, and this release's best plan to it. */
  readonly reaches: readonly Connection[];
}

/**
 * Release r as `stepstone show` says it: epochs per platform, what it ships, and, per the
 * best plans of `matrix` (wipes allowed, so a cell says what it costs), who can reach it
 * and whom it reaches among the releases of `set`.
 */
export function showRelease(
  ctx: PlanContext,
  release: Release,
  set: readonly Release[],
): ReleaseView {
  const r = ctx.releaseIndex(release);
  const epochs: PlatformEpochs[] = [{ platform: null, epochs: release.epochs, overridden: [] }];
  for (const platform of ctx.graph.platforms) {
    const own = release.platforms[platform]?.epochs ?? {};
    epochs.push({
      platform,
      epochs: { ...release.epochs, ...own },
      overridden: Object.keys(own),
    });
  }
  const others = set.filter((x) => x !== release);
  const m = matrix(ctx, [...others, release]);
  const connection = (c: MatrixCell, other: Release): Connection => ({
    other,
    reachable: c.reachable,
    hops: c.hops,
    wipes: c.wipes,
    via: c.plan ? c.plan.steps.slice(0, -1).map((s) => s.to) : [],
  });
  return {
    release,
    epochs,
    ships: ctx.shipping.shippedBy(r),
    set: others,
    reachedFrom: m.cells.filter((c) => c.to === release).map((c) => connection(c, c.from)),
    reaches: m.cells.filter((c) => c.from === release).map((c) => connection(c, c.to)),
  };
}

/** A best plan of the set that runs the migration, and where. */
export interface MigrationUse {
  readonly from: Release;
  readonly to: Release;
  /** The hop (1-based) and where on it the script runs. */
  readonly hop: number;
  readonly phase: "pre-flash" | "boot";
}

/** `stepstone show MIGRATION-ID`: one migration, who carries it and which plans run it. */
export interface MigrationView {
  readonly migration: Migration;
  readonly direction: "up" | "down";
  /** Releases whose image carries it (they have the runner), ascending. */
  readonly shippedBy: readonly Release[];
  /** Of those, the ones that name it in `ships`. */
  readonly namedBy: readonly Release[];
  /** Migrations that name it in their `after`. */
  readonly before: readonly Migration[];
  /** The best plans between the releases of `set` that run it. */
  readonly usedBy: readonly MigrationUse[];
  readonly set: readonly Release[];
}

export function showMigration(
  ctx: PlanContext,
  migration: Migration,
  set: readonly Release[],
): MigrationView {
  const shipping = ctx.shipping.releasesShipping(migration);
  const usedBy: MigrationUse[] = [];
  for (const c of matrix(ctx, set).cells) {
    c.plan?.steps.forEach((s, i) => {
      if (s.preFlash.includes(migration))
        usedBy.push({ from: c.from, to: c.to, hop: i + 1, phase: "pre-flash" });
      if (s.boot.includes(migration))
        usedBy.push({ from: c.from, to: c.to, hop: i + 1, phase: "boot" });
    });
  }
  return {
    migration,
    direction: migration.to > migration.from ? "up" : "down",
    shippedBy: shipping.map((r) => ctx.release(r)),
    namedBy: shipping
      .filter((r) => ctx.shipping.explicitOf(r)?.has(migration) === true)
      .map((r) => ctx.release(r)),
    before: ctx.graph.migrations.filter((x) => x.after.includes(migration.id)),
    usedBy,
    set,
  };
}

const connectionJson = (key: "from" | "to") => (c: Connection) => ({
  [key]: c.other.version,
  reachable: c.reachable,
  hops: c.hops,
  wipes: c.wipes,
  via: c.via.map((r) => r.version),
});

/** `show V --format json`. */
export function showReleaseJson(v: ReleaseView, platform: string | null) {
  const r: Release = v.release;
  return {
    kind: "release",
    version: r.version,
    line: r.line,
    tag: r.tag ?? null,
    golden: r.golden,
    transition: r.transition,
    withdrawn: r.withdrawn,
    runner: r.runner,
    upgradeFrom: r.upgradeFrom?.raw ?? null,
    signedBy: r.signedBy,
    trusts: r.trusts,
    platform,
    epochs: v.epochs.map((e) => ({
      platform: e.platform,
      epochs: e.epochs,
      overridden: e.overridden,
    })),
    ships: v.ships.map((m) => ({ id: m.id, component: m.component, from: m.from, to: m.to })),
    set: v.set.map((x) => x.version),
    reachedFrom: v.reachedFrom.map(connectionJson("from")),
    reaches: v.reaches.map(connectionJson("to")),
  };
}

/** `show MIGRATION-ID --format json`. */
export function showMigrationJson(v: MigrationView) {
  const m = v.migration;
  return {
    kind: "migration",
    id: m.id,
    component: m.component,
    from: m.from,
    to: m.to,
    direction: v.direction,
    script: m.script,
    sha256: m.sha256 ?? null,
    shippedIn: m.shippedIn?.raw ?? null,
    after: m.after,
    before: v.before.map((x) => x.id),
    description: m.description ?? null,
    shippedBy: v.shippedBy.map((r) => r.version),
    namedBy: v.namedBy.map((r) => r.version),
    set: v.set.map((r) => r.version),
    usedBy: v.usedBy.map((u) => ({
      from: u.from.version,
      to: u.to.version,
      hop: u.hop,
      phase: u.phase,
    })),
  };
}
