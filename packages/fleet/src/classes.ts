import { parseVersion, type Release, type ReleaseGraph } from "@stepstone/graph";
import {
  deviceEpochIndex,
  PlanContext,
  type PlansToward,
  plansToward,
  type Route,
  type StopReason,
  stopReasons,
} from "@stepstone/planner";
import type { Device } from "./device.js";

export interface FleetOptions {
  /** The target release's version (as the graph spells it), or null: no target. */
  readonly to: string | null;
  /** The platform of devices whose inventory line names none (null: the base epochs). */
  readonly platformDefault: string | null;
  /** Components a plan may wipe, or "all" wipeable ones (checked against the graph). */
  readonly allowWipe: readonly string[] | "all";
}

/** Why a class has no plan: a planner blocker, or a device state that cannot be planned. */
export interface ClassBlocker {
  readonly code: string;
  readonly component?: string;
  readonly key?: string;
  readonly message: string;
}

/**
 * Why a stop is needed: one entry per reason code, naming the components of that code;
 * code `more` names the components that have no chain on the skipped hop either (not
 * classified: explaining each one searches all its migrations).
 */
export interface StopWhy {
  readonly code: string;
  readonly message: string;
  readonly key?: string;
  readonly components?: readonly string[];
}

export type ClassPlan =
  | {
      readonly reachable: true;
      readonly route: Route;
      readonly stops: readonly { readonly stop: Release; readonly why: readonly StopWhy[] }[];
    }
  | { readonly reachable: false; readonly blockers: readonly ClassBlocker[] };

/** Where a class's devices start, for planning: or why they cannot be planned. */
type Origin =
  | {
      readonly ok: true;
      readonly ctx: PlanContext;
      readonly from: number;
      readonly epochs?: Int32Array;
    }
  | { readonly ok: false; readonly problem: ClassBlocker };

/**
 * Devices with the same release, platform, data epochs and failures: planned once. The id
 * says all of it: `2.10.3`, `2.10.3/qemuarm`, `2.10.3 users=1 failed=users-1-2` (data
 * epochs that differ from the release's, interrupted pre-flash scripts as `users>ID`,
 * failure records as `failed=ID`).
 */
export interface FleetClass {
  readonly id: string;
  /** The release's version as the graph spells it (as the inventory does when unknown). */
  readonly release: string;
  readonly platform: string | null;
  /** Components whose data is not at the release's epoch, with the epoch it is at. */
  readonly epochs: Readonly<Record<string, number | null>>;
  /** Pre-flash scripts cut by a power loss, by component. */
  readonly interrupted: Readonly<Record<string, string>>;
  /** The device's failure records (script ids, `@component`). */
  readonly failures: readonly string[];
  /** The components those failures name. */
  readonly failedComponents: readonly string[];
  devices: number;
  /** The plan to the target (null without one). */
  readonly plan: ClassPlan | null;
  /** The first release to flash ("" when there is none: at the target, or no plan). */
  readonly firstStop: string;
  readonly origin: Origin;
}

interface Platformed {
  readonly ctx: PlanContext;
  /** By target and wipe allowance. */
  readonly toward: Map<string, PlansToward>;
}

/**
 * A fleet being read: each device is put in its class; a class is planned the first time
 * one of its devices is seen, so memory grows with distinct device states, not devices.
 */
export class Fleet {
  /** Devices added. */
  devices = 0;
  /** Devices with a status, by the state it says (before it is resolved). */
  private readonly byRaw = new Map<string, FleetClass>();
  /** Short-form devices, by release text, then platform. */
  private readonly byRelease = new Map<string, Map<string | null, FleetClass>>();
  private readonly byId = new Map<string, FleetClass>();
  private readonly platforms = new Map<string | null, Platformed>();
  private readonly releaseAt = new Map<string, number>();
  private readonly reasons = new Map<string, StopWhy[]>();
  private readonly target: number;

  constructor(
    readonly graph: ReleaseGraph,
    readonly options: FleetOptions,
  ) {
    this.target = options.to === null ? -1 : this.releaseIndex(options.to);
    if (options.to !== null && this.target < 0)
      throw new RangeError(`${options.to} is not a release of the graph`);
  }

  /** Counts a device in its class (made and planned on first sight) and returns the class. */
  add(d: Device): FleetClass {
    this.devices++;
    // Most lines are the short form: looked up by release, then platform, with no key
    // to build.
    const platform = d.platform ?? this.options.platformDefault;
    let cls: FleetClass | undefined;
    let byPlatform: Map<string | null, FleetClass> | undefined;
    let key = "";
    if (d.status === null) {
      byPlatform = this.byRelease.get(d.release);
      if (byPlatform === undefined) {
        byPlatform = new Map();
        this.byRelease.set(d.release, byPlatform);
      }
      cls = byPlatform.get(platform);
    } else {
      key = rawKey(d, platform);
      cls = this.byRaw.get(key);
    }
    if (cls === undefined) {
      const made = this.classOf(d);
      cls = this.byId.get(made.id);
      if (cls === undefined) {
        cls = made;
        this.byId.set(cls.id, cls);
      }
      if (byPlatform !== undefined) byPlatform.set(platform, cls);
      else this.byRaw.set(key, cls);
    }
    cls.devices++;
    return cls;
  }

  get classCount(): number {
    return this.byId.size;
  }

  /** The classes, the largest first (then by id). */
  classes(): FleetClass[] {
    return [...this.byId.values()].sort(
      (a, b) => b.devices - a.devices || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /** The planning context of a platform (the graph's base epochs for null). */
  context(platform: string | null): PlanContext {
    return this.platformed(platform).ctx;
  }

  /** The plans toward `to` (a release index) on a platform, wipes as the options allow. */
  toward(platform: string | null, to: number, allowWipe = this.options.allowWipe): PlansToward {
    const p = this.platformed(platform);
    const key = `${to}:${allowWipe === "all" ? "all" : allowWipe.join(",")}`;
    let t = p.toward.get(key);
    if (t === undefined) {
      t = plansToward(p.ctx, { to, allowWipe });
      p.toward.set(key, t);
    }
    return t;
  }

  private platformed(platform: string | null): Platformed {
    let p = this.platforms.get(platform);
    if (p === undefined) {
      p = { ctx: new PlanContext(this.graph, platform), toward: new Map() };
      this.platforms.set(platform, p);
    }
    return p;
  }

  /** The index of the release a version names (`v` prefix and +build tolerated), or -1. */
  releaseIndex(text: string): number {
    let i = this.releaseAt.get(text);
    if (i === undefined) {
      const sv = parseVersion(text.replace(/^v(?=\d)/, ""));
      i = sv === null ? -1 : this.graph.releases.findIndex((r) => r.semver.compare(sv) === 0);
      this.releaseAt.set(text, i);
    }
    return i;
  }

  private classOf(d: Device): FleetClass {
    const platform = d.platform ?? this.options.platformDefault;
    const from = this.releaseIndex(d.release);
    const release = from < 0 ? d.release : (this.graph.releases[from] as Release).version;
    const records = d.status?.failures ?? [];
    const failures = [...new Set(records.map((f) => f.id))].sort();
    const failedComponents = [
      ...new Set(records.map((f) => f.component ?? (f.id.startsWith("@") ? f.id.slice(1) : "?"))),
    ].sort();
    const epochs: Record<string, number | null> = {};
    const interrupted: Record<string, string> = {};
    const known = platform === null || this.graph.platforms.includes(platform);
    let origin: Origin;
    if (!known) {
      const names = this.graph.platforms;
      origin = problem(
        "unknownPlatform",
        `platform "${platform}" is not in the graph (it names ${names.length === 0 ? "no platform" : names.map((p) => `"${p}"`).join(", ")}); fix the inventory, or add the platform to the graph`,
      );
    } else if (from < 0) {
      origin = problem(
        "unknownRelease",
        `release ${d.release} is not in the graph; add it (stepstone sync), or fix the inventory`,
      );
    } else {
      const ctx = this.context(platform);
      const own = ctx.releaseEpochs(from);
      for (const c of d.status?.components ?? []) {
        const ci = ctx.componentIndex(c.name);
        if (ci < 0 || c.epoch !== own[ci]) epochs[c.name] = c.epoch;
        if (typeof c.interrupted === "string") interrupted[c.name] = c.interrupted;
      }
      const res = d.status === null ? null : deviceEpochIndex(ctx, from, d.status);
      if (res === null) origin = { ok: true, ctx, from };
      // A status at the release's own epochs plans as the release itself.
      else if (res.ok)
        origin = res.epochs.every((e, i) => e === own[i])
          ? { ok: true, ctx, from }
          : { ok: true, ctx, from, epochs: res.epochs };
      else origin = problem("device", res.problem);
    }
    const id = [
      platform === null ? release : `${release}/${platform}`,
      ...Object.entries(epochs).map(([c, e]) => `${c}=${e ?? "?"}`),
      ...Object.entries(interrupted).map(([c, m]) => `${c}>${m}`),
      ...failures.map((f) => `failed=${f}`),
    ].join(" ");
    const plan = this.target < 0 ? null : this.planOf(origin, platform);
    const firstStop =
      plan?.reachable === true && plan.route.steps.length > 0
        ? (plan.route.steps[0] as { to: Release }).to.version
        : "";
    return {
      id,
      release,
      platform,
      epochs,
      interrupted,
      failures,
      failedComponents,
      devices: 0,
      plan,
      firstStop,
      origin,
    };
  }

  /**
   * Why each stop of a route is needed. After the first hop a device runs a release with
   * that release's data, so the reasons of later stops depend only on (stop before, stop,
   * stop after): computed once per fleet.
   */
  private stopsOf(
    origin: Origin & { ok: true },
    platform: string | null,
    route: Route,
  ): { stop: Release; why: StopWhy[] }[] {
    const out: { stop: Release; why: StopWhy[] }[] = [];
    const steps = route.steps;
    for (let i = 0; i + 1 < steps.length; i++) {
      const stop = (steps[i] as { to: Release }).to;
      const after = (steps[i + 1] as { to: Release }).to;
      const at =
        i === 0 ? origin.from : this.releaseIndex((steps[i - 1] as { to: Release }).to.version);
      const epochs = i === 0 ? origin.epochs : undefined;
      const key = `${platform ?? ""}\u0000${at}\u0000${stop.version}\u0000${after.version}`;
      let why = epochs === undefined ? this.reasons.get(key) : undefined;
      if (why === undefined) {
        const r = stopReasons(
          origin.ctx,
          at,
          [{ to: stop }, { to: after }],
          epochs,
          this.options.allowWipe,
        );
        why = grouped(r[0]?.why ?? [], r[0]?.more ?? []);
        if (epochs === undefined) this.reasons.set(key, why);
      }
      out.push({ stop, why });
    }
    return out;
  }

  private planOf(origin: Origin, platform: string | null): ClassPlan {
    if (!origin.ok) return { reachable: false, blockers: [origin.problem] };
    const toward = this.toward(platform, this.target);
    const route = toward.route(origin.from, origin.epochs);
    if (route === null) {
      const res = toward.plan(origin.from, origin.epochs);
      if (res.reachable) throw new Error("internal: a plan without a route");
      return { reachable: false, blockers: res.blockers };
    }
    const stops = this.stopsOf(origin, platform, route);
    return { reachable: true, route, stops };
  }
}

/**
 * Reasons grouped by code, the first message of each, with every component (or key) of
 * that code: skipping a stop often breaks the chains of many components at once.
 */
function grouped(why: readonly StopReason[], more: readonly string[]): StopWhy[] {
  const byCode = new Map<string, StopWhy & { components: string[] }>();
  for (const w of why) {
    let g = byCode.get(w.code);
    if (g === undefined) {
      g = {
        code: w.code,
        message: w.message,
        components: [],
        ...(w.key !== undefined && { key: w.key }),
      };
      byCode.set(w.code, g);
    }
    if (w.components !== undefined) g.components.push(...w.components);
  }
  const out: StopWhy[] = [...byCode.values()].map(({ components, ...g }) =>
    components.length > 0 ? { ...g, components } : g,
  );
  if (more.length > 0)
    out.push({
      code: "more",
      message: `${more.length === 1 ? "one more component has" : `${more.length} more components have`} no chain on that hop either: ${more.join(", ")}`,
      components: more,
    });
  return out;
}

const problem = (code: string, message: string): Origin => ({
  ok: false,
  problem: { code, message },
});

/** The key of a device's status as the inventory writes it (before it is resolved). */
function rawKey(d: Device, platform: string | null): string {
  let key = `${d.release}\u0000${platform ?? ""}`;
  for (const c of d.status?.components ?? [])
    key += `\u0000${c.name}:${c.epoch}:${c.interrupted ?? ""}`;
  const f = d.status?.failures ?? [];
  if (f.length > 0)
    key += `\u0001${f
      .map((x) => x.id)
      .sort()
      .join("\u0000")}`;
  return key;
}
