import type { FleetClass } from "./classes.js";
import type { Distribution, Summary, Wave } from "./report.js";

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
