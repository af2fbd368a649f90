import { type Release, type ReleaseGraph, releaseByVersion } from "@stepstone/graph";
import { DevicePlanner, type DeviceStart, type Route, type StopReason } from "@stepstone/planner";
import { failedComponent } from "@stepstone/runner";
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
  | { readonly ok: true; readonly planner: DevicePlanner; readonly start: DeviceStart }
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
  private readonly planners = new Map<string | null, DevicePlanner>();
  private readonly named = new Map<string, Release | null>();
  private readonly groups = new WeakMap<readonly StopReason[], StopWhy[]>();
  private readonly target: Release | null;

  constructor(
    readonly graph: ReleaseGraph,
    readonly options: FleetOptions,
  ) {
    this.target = options.to === null ? null : this.release(options.to);
    if (options.to !== null && this.target === null)
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

  /** The planner of a platform (the graph's base epochs for null). */
  planner(platform: string | null): DevicePlanner {
    let p = this.planners.get(platform);
    if (p === undefined) {
      p = new DevicePlanner(this.graph, platform);
      this.planners.set(platform, p);
    }
    return p;
  }

  /** The release a version names (`v` prefix and +build tolerated), or null. */
  release(text: string): Release | null {
    let r = this.named.get(text);
    if (r === undefined) {
      r = releaseByVersion(this.graph.releases, text) ?? null;
      this.named.set(text, r);
    }
    return r;
  }

  private classOf(d: Device): FleetClass {
    const platform = d.platform ?? this.options.platformDefault;
    const from = this.release(d.release);
    const release = from === null ? d.release : from.version;
    const records = d.status?.failures ?? [];
    const failures = [...new Set(records.map((f) => f.id))].sort();
    const failedComponents = [...new Set(records.map((f) => failedComponent(f) ?? "?"))].sort();
    let epochs: Record<string, number | null> = {};
    const interrupted: Record<string, string> = {};
    const known = platform === null || this.graph.platforms.includes(platform);
    let origin: Origin;
    if (!known) {
      const names = this.graph.platforms;
      origin = problem(
        "unknownPlatform",
        `platform "${platform}" is not in the graph (it names ${names.length === 0 ? "no platform" : names.map((p) => `"${p}"`).join(", ")}); fix the inventory, or add the platform to the graph`,
      );
    } else if (from === null) {
      origin = problem(
        "unknownRelease",
        `release ${d.release} is not in the graph; add it (stepstone sync), or fix the inventory`,
      );
    } else {
      const planner = this.planner(platform);
      if (d.status !== null) {
        epochs = planner.differing(from, d.status);
        for (const c of d.status.components)
          if (typeof c.interrupted === "string") interrupted[c.name] = c.interrupted;
      }
      const res = planner.start(from, d.status);
      origin = res.ok ? { ok: true, planner, start: res.start } : problem("device", res.problem);
    }
    const id = [
      platform === null ? release : `${release}/${platform}`,
      ...Object.entries(epochs).map(([c, e]) => `${c}=${e ?? "?"}`),
      ...Object.entries(interrupted).map(([c, m]) => `${c}>${m}`),
      ...failures.map((f) => `failed=${f}`),
    ].join(" ");
    const plan = this.target === null ? null : this.planOf(origin, this.target);
    const firstStop = (plan?.reachable === true && plan.route.steps[0]?.to.version) || "";
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
   * grouped(why), once per reasons array: the planner shares the reasons of later stops
   * between classes, and so do their groups (thousands of classes, one copy).
   */
  private grouped(why: readonly StopReason[]): StopWhy[] {
    let g = this.groups.get(why);
    if (g === undefined) {
      g = grouped(why);
      this.groups.set(why, g);
    }
    return g;
  }

  private planOf(origin: Origin, target: Release): ClassPlan {
    if (!origin.ok) return { reachable: false, blockers: [origin.problem] };
    const toward = origin.planner.toward(target, this.options.allowWipe);
    const route = toward.route(origin.start);
    if (route === null) {
      const res = toward.plan(origin.start);
      if (res.reachable) throw new Error("internal: a plan without a route");
      return { reachable: false, blockers: res.blockers };
    }
    const stops = toward
      .stops(origin.start, route)
      .map(({ stop, why }) => ({ stop, why: this.grouped(why) }));
    return { reachable: true, route, stops };
  }
}

/**
 * Reasons grouped by code, the first message of each, with every component (or key) of
 * that code: skipping a stop often breaks the chains of many components at once.
 */
function grouped(why: readonly StopReason[]): StopWhy[] {
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
  return [...byCode.values()].map(({ components, ...g }) =>
    components.length > 0 ? { ...g, components } : g,
  );
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
