import { InputError } from "@stepstone/errors";
import {
  type BadLines,
  deviceRows,
  distribution,
  distributionJson,
  type FleetClass,
  type FleetOptions as FleetCoreOptions,
  fleetJson,
  type LoadedFleet,
  loadFleet,
  type StopLine,
  stopLines,
  summarize,
  waves,
} from "@stepstone/fleet";
import type { ReleaseGraph } from "@stepstone/graph";
import { findRelease, label, openGraph, parseAllowWipe } from "../graph.js";
import {
  type Cell,
  color,
  type Format,
  out,
  plural,
  printJson,
  printLargeJson,
  table,
} from "../output.js";

export interface FleetOptions {
  graph?: string;
  format: Format;
  inventory: string;
  to?: string;
  platformDefault?: string;
  allowWipe?: string;
  devices?: string;
  strict?: boolean;
}

/** Bad lines said one by one on stderr, up to this many; all are counted. */
const SHOWN_BAD = 20;
/** Classes and waves shown as text (JSON has them all). */
const SHOWN = 20;

const n = (x: number) => x.toLocaleString("en-US");

export async function fleetCommand(opts: FleetOptions): Promise<number> {
  const { loaded, ctx } = await openGraph({
    ...(opts.graph !== undefined && { graph: opts.graph }),
    ...(opts.platformDefault !== undefined && { platform: opts.platformDefault }),
  });
  const to = opts.to === undefined ? null : findRelease(ctx, opts.to, "--to");
  if (opts.allowWipe !== undefined && to === null)
    throw new InputError("--allow-wipe needs --to: wipes are allowed on the way to a target");
  const allowWipe = parseAllowWipe(ctx, opts.allowWipe);
  const { fleet, bad, where } = await readFleet(loaded.graph, {
    inventory: opts.inventory,
    to: to?.version ?? null,
    platformDefault: opts.platformDefault ?? null,
    allowWipe,
    ...(opts.devices !== undefined && { devices: opts.devices }),
    ...(opts.strict !== undefined && { strict: opts.strict }),
  });

  if (to === null) {
    const d = distribution(fleet);
    if (opts.format === "json") printJson(distributionJson(d, where, bad));
    else printDistribution(d, bad.count);
    return 0;
  }
  const classes = fleet.classes();
  const summary = summarize(classes);
  const ws = waves(classes, loaded.graph.releases);
  const target = to;
  if (opts.format === "json") {
    await printLargeJson(
      fleetJson({
        inventory: where,
        to: target?.version ?? "",
        platformDefault: opts.platformDefault ?? null,
        allowWipe,
        summary,
        classes,
        waves: ws,
        bad,
      }),
    );
    return 0;
  }
  const wipes =
    allowWipe === "all"
      ? "wipes allowed"
      : allowWipe.length > 0
        ? `wipes allowed: ${allowWipe.join(", ")}`
        : "without wipes";
  out(
    `Fleet of ${n(summary.devices)} devices in ${n(summary.classes)} ${summary.classes === 1 ? "class" : "classes"}${bad.count > 0 ? ` (${plural(bad.count, "bad line")} skipped)` : ""} → ${target ? label(target) : ""}, ${wipes}`,
  );
  out();
  const line = (name: string, count: number, note = ""): Cell[] => [
    name,
    n(count),
    note ? color.dim(note) : "",
  ];
  out(
    table(
      ["", "devices", ""],
      [
        line("already there", summary.atTarget),
        line("direct", summary.direct, "one flash"),
        line("through stops", summary.throughStops, "two flashes or more"),
        line("needing wipes", summary.needingWipes),
        line("unreachable", summary.unreachable),
        line(
          "with failures",
          summary.failed,
          "their status reports a failed migration (also counted above)",
        ),
      ],
    ),
  );
  out();
  out(
    `Classes${classes.length > SHOWN ? ` (the ${SHOWN} largest of ${n(classes.length)}; --format json lists them all)` : ""}:`,
  );
  const shown = classes.slice(0, SHOWN);
  out(
    table(
      ["class", "devices", "plan"],
      shown.map((c) => [c.id, n(c.devices), planCell(c)]),
    ),
  );
  const reasons = stopRows(shown);
  if (reasons.length > 0) {
    out();
    out("Why the stops:");
    out(table(["stop", "reason", "why"], reasons));
  }
  out();
  out(
    `Waves (deployments, in this order${ws.length > SHOWN ? `; the first ${SHOWN} of ${ws.length}` : ""}):`,
  );
  if (ws.length === 0) out("  none: no device has a plan that flashes anything");
  else
    out(
      table(
        ["wave", "flash", "hop", "devices", "classes", "wipes"],
        ws
          .slice(0, SHOWN)
          .map((w) => [
            String(w.wave),
            label(w.flash),
            String(w.step),
            n(w.devices),
            String(w.classes.length),
            w.wipes.length === 0
              ? color.dim("—")
              : w.wipes.map((x) => color.yellow(`${x.component} (${n(x.devices)})`)).join(", "),
          ]),
      ),
    );
  if (opts.devices !== undefined) {
    out();
    out(`wrote ${opts.devices}: id,class,first-stop for ${plural(summary.devices, "device")}`);
  }
  return 0;
}

export interface ReadFleetOptions extends FleetCoreOptions {
  inventory: string;
  devices?: string;
  strict?: boolean;
}

/**
 * Reads an inventory into a fleet (loadFleet), saying on stderr the first bad lines and
 * how many were skipped, with progress when stderr is a terminal; `--devices` rows are
 * written as devices are read.
 */
export async function readFleet(graph: ReleaseGraph, opts: ReadFleetOptions): Promise<LoadedFleet> {
  const rows = opts.devices === undefined ? null : deviceRows(opts.devices);
  const progress = process.stderr.isTTY === true;
  const endProgress = () => {
    if (progress) process.stderr.write("\r\u001b[K");
  };
  try {
    return await loadFleet(graph, {
      to: opts.to,
      platformDefault: opts.platformDefault,
      allowWipe: opts.allowWipe,
      inventory: opts.inventory,
      ...(opts.strict !== undefined && { strict: opts.strict }),
      keepBad: SHOWN_BAD,
      device(d, cls, fleet) {
        rows?.add(d, cls);
        if (progress && (fleet.devices & 0x1ffff) === 0)
          process.stderr.write(
            `\rread ${n(fleet.devices)} devices, ${n(fleet.classCount)} classes`,
          );
      },
      bad(where, line, message) {
        process.stderr.write(`${where}:${line}: ${message}\n`);
      },
      read(bad, where) {
        endProgress();
        sayBad(bad, where);
      },
    });
  } finally {
    rows?.close();
    endProgress();
  }
}

function sayBad(bad: BadLines, where: string): void {
  if (bad.count > SHOWN_BAD)
    process.stderr.write(`${where}: ${n(bad.count - SHOWN_BAD)} more bad lines\n`);
  if (bad.count > 0)
    process.stderr.write(
      `${where}: ${plural(bad.count, "bad line")} skipped and counted (--strict stops at the first)\n`,
    );
}

function planCell(c: FleetClass): Cell {
  const p = c.plan;
  if (p === null) return "";
  if (!p.reachable) {
    const b = p.blockers[0];
    return color.red(`✗ ${b ? `[${b.code}${b.component ? ` ${b.component}` : ""}] ` : ""}no plan`);
  }
  const r = p.route;
  if (r.hops === 0) return color.green("already there");
  const via = p.stops.map((s) => s.stop.version);
  const w = r.steps.flatMap((s) => s.wipe);
  return [
    plural(r.hops, "hop"),
    via.length > 0 ? `via ${via.join(", ")}` : "",
    w.length > 0 ? color.yellow(`wipes ${w.join(", ")}`) : "",
  ]
    .filter(Boolean)
    .join(", ");
}

/** One row per distinct (stop, reason) among the shown classes; blockers of the unreachable. */
function stopRows(classes: readonly FleetClass[]): Cell[][] {
  return stopLines(classes).map((l: StopLine) => [
    l.stop ?? color.red(`✗ ${l.class}`),
    l.code,
    l.more > 0 ? `${l.message} (and ${plural(l.more, "more component")})` : l.message,
  ]);
}

function printDistribution(d: ReturnType<typeof distribution>, badLines: number): void {
  out(
    `Fleet of ${n(d.devices)} devices in ${n(d.classes)} ${d.classes === 1 ? "class" : "classes"}${badLines > 0 ? ` (${plural(badLines, "bad line")} skipped)` : ""}`,
  );
  out();
  out(
    `Releases${d.releases.length > SHOWN ? ` (the ${SHOWN} most common of ${d.releases.length})` : ""}:`,
  );
  out(
    table(
      ["release", "platform", "devices", "with failures"],
      d.releases
        .slice(0, SHOWN)
        .map((r) => [
          r.release,
          r.platform ?? color.dim("—"),
          n(r.devices),
          r.failed === 0 ? color.dim("0") : color.yellow(n(r.failed)),
        ]),
    ),
  );
  if (d.failedComponents.length > 0) {
    out();
    out("Failed components:");
    out(
      table(
        ["component", "devices"],
        d.failedComponents.map((f) => [f.component, n(f.devices)]),
      ),
    );
  }
  out();
  out(
    "Where can we take this fleet? Per golden release, devices with a plan there without a wipe:",
  );
  out(
    table(
      ["golden release", "already there", "reachable without wipe", "share"],
      d.golden.map((g) => [
        g.release.version,
        n(g.atRelease),
        n(g.reachable),
        `${((100 * g.reachable) / Math.max(1, d.devices)).toFixed(1)}%`,
      ]),
    ),
  );
  out();
  out(color.dim("stepstone fleet --inventory FILE --to V: the classes, their plans and the waves"));
}
