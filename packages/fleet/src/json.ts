import type { Release } from "@stepstone/graph";
import type { Fleet, FleetClass } from "./classes.js";
import {
  type Distribution,
  distribution,
  type Summary,
  summarize,
  type Wave,
  waves,
} from "./report.js";

/** The JSON shapes of `stepstone fleet --format json` (a roll-out system reads them). */

export function classJson(c: FleetClass) {
  const p = c.plan;
  return {
    id: c.id,
    release: c.release,
    platform: c.platform,
    epochs: c.epochs,
    interrupted: c.interrupted,
    failures: c.failures,
    devices: c.devices,
    ...(p !== null &&
      (p.reachable
        ? {
            reachable: true,
            hops: p.route.hops,
            wipes: p.route.wipes,
            steps: p.route.steps.map((s) => ({ flash: s.to.version, wipe: s.wipe })),
            stops: p.stops.map((s) => ({ release: s.stop.version, why: s.why })),
          }
        : { reachable: false, blockers: p.blockers })),
  };
}

export interface BadLines {
  readonly count: number;
  /** The first ones (line number and message). */
  readonly first: readonly { readonly line: number; readonly message: string }[];
}

export function fleetJson(r: {
  inventory: string;
  to: string;
  platformDefault: string | null;
  allowWipe: readonly string[] | "all";
  summary: Summary;
  classes: readonly FleetClass[];
  waves: readonly Wave[];
  bad: BadLines;
}) {
  return {
    inventory: r.inventory,
    to: r.to,
    platformDefault: r.platformDefault,
    allowWipe: r.allowWipe,
    summary: { ...r.summary, badLines: r.bad.count },
    classes: r.classes.map(classJson),
    waves: r.waves.map((w) => ({
      wave: w.wave,
      step: w.step,
      flash: w.flash.version,
      devices: w.devices,
      classes: w.classes,
      wipes: w.wipes,
    })),
    badLines: r.bad.first,
  };
}

export function distributionJson(d: Distribution, inventory: string, bad: BadLines) {
  return {
    inventory,
    devices: d.devices,
    classes: d.classes,
    badLines: bad.count,
    releases: d.releases,
    failedComponents: d.failedComponents,
    golden: d.golden.map((g) => ({
      release: g.release.version,
      atRelease: g.atRelease,
      reachableWithoutWipe: g.reachable,
    })),
    badLineDetails: bad.first,
  };
}

/**
 * The report page's fleet section (`report --inventory`): the distribution, and the classes
 * toward the fleet's target with their flashes, wipes and why, and the waves.
 */
export function reportJson(
  fleet: Fleet,
  where: string,
  bad: BadLines,
  releases: readonly Release[],
) {
  const classes = fleet.classes();
  const why = (c: FleetClass): string => {
    const p = c.plan;
    if (p === null) return "";
    if (!p.reachable) return p.blockers.map((b) => b.message).join("; ");
    return p.stops
      .map((s) => `${s.stop.version}: ${s.why.map((w) => w.code).join(", ")}`)
      .join("; ");
  };
  const { badLineDetails: _, ...dist } = distributionJson(distribution(fleet), where, bad);
  return {
    ...dist,
    target: {
      release: fleet.options.to ?? "",
      summary: summarize(classes),
      classes: classes.map((c) => ({
        id: c.id,
        devices: c.devices,
        flashes: c.plan?.reachable ? c.plan.route.steps.map((s) => s.to.version) : null,
        wipes: c.plan?.reachable ? c.plan.route.steps.flatMap((s) => s.wipe) : [],
        why: why(c),
      })),
      waves: waves(classes, releases).map((w) => ({
        wave: w.wave,
        step: w.step,
        flash: w.flash.version,
        devices: w.devices,
        classes: w.classes.length,
        wipes: w.wipes.map((x) => x.component),
      })),
    },
  };
}
