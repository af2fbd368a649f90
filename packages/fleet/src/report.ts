import type { Release } from "@stepstone/graph";
import type { DeviceStart } from "@stepstone/planner";
import type { Fleet, FleetClass } from "./classes.js";

/** How the fleet fares toward the target (each device in one of the first five). */
export interface Summary {
  readonly devices: number;
  readonly classes: number;
  /** Already on the target, data at its epochs. */
  readonly atTarget: number;
  /** One flash, no wipe. */
  readonly direct: number;
  /** Two flashes or more, no wipe. */
  readonly throughStops: number;
  readonly needingWipes: number;
  readonly unreachable: number;
  /** Devices whose status reports a failed migration (they are also counted above). */
  readonly failed: number;
}

export function summarize(classes: readonly FleetClass[]): Summary {
  const s = {
    devices: 0,
    classes: classes.length,
    atTarget: 0,
    direct: 0,
    throughStops: 0,
    needingWipes: 0,
    unreachable: 0,
    failed: 0,
  };
  for (const c of classes) {
    s.devices += c.devices;
    if (c.failures.length > 0) s.failed += c.devices;
    const p = c.plan;
    if (p === null) continue;
    if (!p.reachable) s.unreachable += c.devices;
    else if (p.route.wipes > 0) s.needingWipes += c.devices;
    else if (p.route.hops === 0) s.atTarget += c.devices;
    else if (p.route.hops === 1) s.direct += c.devices;
    else s.throughStops += c.devices;
  }
  return s;
}

/**
 * One deployment of a roll-out: flash `flash` on the devices of `classes` (their `step`-th
 * hop). Waves run in order; a device is in one wave per hop of its plan, and every wave of
 * a step comes after all of the step before, so each device's hops stay in order.
 */
export interface Wave {
  readonly wave: number;
  readonly step: number;
  readonly flash: Release;
  readonly devices: number;
  readonly classes: readonly string[];
  /** Components this flash wipes, with how many of the wave's devices lose them. */
  readonly wipes: readonly { readonly component: string; readonly devices: number }[];
}

export function waves(classes: readonly FleetClass[], releases: readonly Release[]): Wave[] {
  const byKey = new Map<
    string,
    {
      step: number;
      at: number;
      flash: Release;
      devices: number;
      classes: string[];
      wipes: Map<string, number>;
    }
  >();
  const index = new Map(releases.map((r, i) => [r, i]));
  for (const c of classes) {
    if (c.plan?.reachable !== true) continue;
    c.plan.route.steps.forEach((s, i) => {
      const key = `${i}\u0000${s.to.version}`;
      let w = byKey.get(key);
      if (w === undefined) {
        w = {
          step: i + 1,
          at: index.get(s.to) ?? 0,
          flash: s.to,
          devices: 0,
          classes: [],
          wipes: new Map(),
        };
        byKey.set(key, w);
      }
      w.devices += c.devices;
      w.classes.push(c.id);
      for (const comp of s.wipe) w.wipes.set(comp, (w.wipes.get(comp) ?? 0) + c.devices);
    });
  }
  return [...byKey.values()]
    .sort((a, b) => a.step - b.step || a.at - b.at)
    .map((w, i) => ({
      wave: i + 1,
      step: w.step,
      flash: w.flash,
      devices: w.devices,
      classes: w.classes,
      wipes: [...w.wipes].map(([component, devices]) => ({ component, devices })),
    }));
}

/** "Where can we take this fleet?": what it runs, and which golden release it could reach. */
export interface Distribution {
  readonly devices: number;
  readonly classes: number;
  readonly releases: readonly {
    readonly release: string;
    readonly platform: string | null;
    readonly devices: number;
    /** Of those, devices whose status reports a failed migration. */
    readonly failed: number;
  }[];
  readonly failedComponents: readonly { readonly component: string; readonly devices: number }[];
  /** Per golden release: devices already there, and devices with a plan there without a wipe. */
  readonly golden: readonly {
    readonly release: Release;
    readonly atRelease: number;
    readonly reachable: number;
  }[];
}

export function distribution(fleet: Fleet): Distribution {
  const classes = fleet.classes();
  const order = new Map<Release | string, number>(fleet.graph.releases.map((r, i) => [r, i]));
  const rows = new Map<
    string,
    { release: string; platform: string | null; devices: number; failed: number; at: number }
  >();
  const failedComponents = new Map<string, number>();
  for (const c of classes) {
    const key = `${c.release}\u0000${c.platform ?? ""}`;
    let r = rows.get(key);
    if (r === undefined) {
      r = {
        release: c.release,
        platform: c.platform,
        devices: 0,
        failed: 0,
        at: order.get(fleet.release(c.release) ?? c.release) ?? -1,
      };
      rows.set(key, r);
    }
    r.devices += c.devices;
    if (c.failures.length > 0) r.failed += c.devices;
    for (const comp of c.failedComponents)
      failedComponents.set(comp, (failedComponents.get(comp) ?? 0) + c.devices);
  }
  const golden = goldenReach(fleet, classes);
  return {
    devices: fleet.devices,
    classes: classes.length,
    releases: [...rows.values()]
      .sort((a, b) => b.devices - a.devices || b.at - a.at)
      .map(({ at: _, ...r }) => r),
    failedComponents: [...failedComponents]
      .sort((a, b) => b[1] - a[1])
      .map(([component, devices]) => ({ component, devices })),
    golden,
  };
}

/** Per golden release: the devices on it, and the devices with a plan there without a wipe. */
function goldenReach(fleet: Fleet, classes: readonly FleetClass[]): Distribution["golden"] {
  const targets = fleet.graph.releases.filter((r) => r.golden && !r.withdrawn);
  const rows = targets.map((release) => ({ release, atRelease: 0, reachable: 0 }));
  const byPlatform = new Map<string | null, (start: DeviceStart) => boolean[]>();
  for (const c of classes) {
    const o = c.origin;
    if (!o.ok) continue;
    let reach = byPlatform.get(c.platform);
    if (reach === undefined) {
      reach = o.planner.reachWithoutWipes(targets);
      byPlatform.set(c.platform, reach);
    }
    const { start } = o;
    reach(start).forEach((ok, k) => {
      const row = rows[k];
      if (row === undefined) return;
      if (ok) row.reachable += c.devices;
      if (start.atReleaseEpochs && row.release === start.release) row.atRelease += c.devices;
    });
  }
  return rows;
}

/**
 * One reason a stop is needed among some classes' plans, or a blocker of a class that has
 * no plan (`stop` null, `class` its id): each distinct (stop, code, what) once, in order.
 */
export interface StopLine {
  readonly stop: string | null;
  readonly class: string;
  readonly code: string;
  readonly message: string;
  /** The further components of the same reason, not named in `message`. */
  readonly more: number;
}

export function stopLines(classes: readonly FleetClass[]): StopLine[] {
  const seen = new Set<string>();
  const lines: StopLine[] = [];
  const add = (line: StopLine, what: string) => {
    const key = `${line.stop ?? `\u0001${line.class}`}\u0000${line.code}\u0000${what}`;
    if (seen.has(key)) return;
    seen.add(key);
    lines.push(line);
  };
  for (const c of classes) {
    const p = c.plan;
    if (p === null) continue;
    if (!p.reachable) {
      for (const b of p.blockers)
        add(
          { stop: null, class: c.id, code: b.code, message: b.message, more: 0 },
          b.component ?? b.key ?? "",
        );
      continue;
    }
    for (const s of p.stops)
      for (const w of s.why) {
        const components = w.components ?? [];
        add(
          {
            stop: s.stop.version,
            class: c.id,
            code: w.code,
            message: w.message,
            more: Math.max(0, components.length - 1),
          },
          components.join(", ") || (w.key ?? ""),
        );
      }
  }
  return lines;
}
