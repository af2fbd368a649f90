import type { Release, ReleaseGraph } from "@stepstone/graph";
import { PlanContext } from "./context.js";
import { type DeviceData, deviceEpochIndex } from "./device.js";
import type { PlanResult } from "./plan.js";
import { type StopReason, stopReasons, withMore } from "./stops.js";
import { type PlansToward, plansToward, type Route, reachWithoutWipes } from "./toward.js";

/** The key of a DeviceStart's planner-side form: not re-exported by the package. */
export const ORIGIN: unique symbol = Symbol("origin");

/**
 * Where a device's plans start: its release and its data. Made by `DevicePlanner.start`,
 * which checks the device's data once; the planner's own form (indices) stays inside.
 */
export interface DeviceStart {
  readonly release: Release;
  /** Is the device's data at its release's own epochs (so it plans as the release itself)? */
  readonly atReleaseEpochs: boolean;
  readonly [ORIGIN]: { readonly at: number; readonly epochs: Int32Array | undefined };
}

export type DeviceStartResult =
  | { readonly ok: true; readonly start: DeviceStart }
  | { readonly ok: false; readonly problem: string };

/** Why one intermediate stop of a route is needed. */
export interface StopReasons {
  readonly stop: Release;
  /** The reasons; a `more` entry last names the components not explained. */
  readonly why: readonly StopReason[];
}

/** The best plans of many devices toward one release, wipes as allowed (see plansToward). */
export interface Toward {
  readonly to: Release;
  /** Exactly what `plan` gives for this device. */
  plan(start: DeviceStart): PlanResult;
  /** That plan's releases and wipes without its scripts; null when there is no plan. */
  route(start: DeviceStart): Route | null;
  /** Why each intermediate stop of `route` (this device's route) is needed, in order. */
  stops(start: DeviceStart, route: Route): StopReasons[];
}

/**
 * Planning for many devices on one platform (a fleet): device states checked once,
 * searches shared between devices (one backward search per target), answers in releases.
 */
export class DevicePlanner {
  readonly #ctx: PlanContext;
  readonly #toward = new Map<string, Toward>();

  constructor(graph: ReleaseGraph, platform: string | null) {
    this.#ctx = new PlanContext(graph, platform);
  }

  get platform(): string | null {
    return this.#ctx.platform;
  }

  /**
   * The components a device lists whose data is not at the release's epochs on this
   * platform (a component the graph does not have included), with the epoch it reports.
   */
  differing(release: Release, device: DeviceData): Record<string, number | null> {
    const ctx = this.#ctx;
    const own = ctx.releaseEpochs(ctx.releaseIndex(release));
    const out: Record<string, number | null> = {};
    for (const c of device.components) {
      const ci = ctx.componentIndex(c.name);
      if (ci < 0 || c.epoch !== own[ci]) out[c.name] = c.epoch;
    }
    return out;
  }

  /**
   * Where a device on `release` starts, with the data it holds (null: at the release's
   * epochs); or what must be fixed before it can be planned.
   */
  start(release: Release, device: DeviceData | null): DeviceStartResult {
    const ctx = this.#ctx;
    const at = ctx.releaseIndex(release);
    if (device === null) return { ok: true, start: makeStart(release, at, undefined) };
    const res = deviceEpochIndex(ctx, at, device);
    if (!res.ok) return res;
    const own = ctx.releaseEpochs(at);
    // A device at the release's own epochs plans as the release itself.
    const same = res.epochs.every((e, i) => e === own[i]);
    return { ok: true, start: makeStart(release, at, same ? undefined : res.epochs) };
  }

  /** The plans toward `to`, wiping only what `allowWipe` names (made once per pair). */
  toward(to: Release, allowWipe: readonly string[] | "all"): Toward {
    const key = `${to.version}:${allowWipe === "all" ? "all" : allowWipe.join(",")}`;
    let t = this.#toward.get(key);
    if (t === undefined) {
      t = toward(
        this.#ctx,
        plansToward(this.#ctx, { to: this.#ctx.releaseIndex(to), allowWipe }),
        allowWipe,
      );
      this.#toward.set(key, t);
    }
    return t;
  }

  /** For each target, whether a device has a plan there without a wipe. */
  reachWithoutWipes(targets: readonly Release[]): (start: DeviceStart) => boolean[] {
    const reach = reachWithoutWipes(
      this.#ctx,
      targets.map((t) => this.#ctx.releaseIndex(t)),
    );
    return (start) => reach(start[ORIGIN].at, start[ORIGIN].epochs);
  }
}

function makeStart(release: Release, at: number, epochs: Int32Array | undefined): DeviceStart {
  return { release, atReleaseEpochs: epochs === undefined, [ORIGIN]: { at, epochs } };
}

function toward(ctx: PlanContext, t: PlansToward, allowWipe: readonly string[] | "all"): Toward {
  // After the first hop a device runs a release with that release's data, so the reasons
  // of later stops depend only on (stop before, stop, stop after): found once per target.
  const reasons = new Map<string, StopReason[]>();
  return {
    to: t.to,
    plan: (start) => t.plan(start[ORIGIN].at, start[ORIGIN].epochs),
    route: (start) => t.route(start[ORIGIN].at, start[ORIGIN].epochs),
    stops(start, route) {
      const out: StopReasons[] = [];
      const steps = route.steps;
      let { at, epochs } = start[ORIGIN];
      for (const [i, { to: stop }] of steps.entries()) {
        const after = steps[i + 1]?.to;
        if (after === undefined) break;
        const key = `${at}\u0000${stop.version}\u0000${after.version}`;
        let why = epochs === undefined ? reasons.get(key) : undefined;
        if (why === undefined) {
          const r = stopReasons(ctx, at, [{ to: stop }, { to: after }], epochs, allowWipe);
          why = withMore(r[0]?.why ?? [], r[0]?.more ?? []);
          if (epochs === undefined) reasons.set(key, why);
        }
        out.push({ stop, why });
        at = ctx.releaseIndex(stop);
        epochs = undefined;
      }
      return out;
    },
  };
}
