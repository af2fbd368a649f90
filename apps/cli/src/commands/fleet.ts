import { once } from "node:events";
import { closeSync, openSync, writeSync } from "node:fs";
import { InputError } from "@stepstone/errors";
import {
  csvField,
  distribution,
  distributionJson,
  Fleet,
  type FleetClass,
  type FleetOptions as FleetCoreOptions,
  fleetJson,
  readInventory,
  summarize,
  waves,
} from "@stepstone/fleet";
import type { Release, ReleaseGraph } from "@stepstone/graph";
import type { ReportFleet } from "@stepstone/pictures";
import { findRelease, label, openGraph, parseAllowWipe } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, table } from "../output.js";

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
  const reasons = stopLines(shown);
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

export interface BadLines {
  count: number;
  first: { line: number; message: string }[];
}

/**
 * Reads an inventory into a fleet: bad lines said on stderr (the first few) and counted,
 * or the first one an error with --strict; `--devices` rows written as devices are read;
 * progress on stderr when it is a terminal. An inventory without devices is an error.
 */
export async function readFleet(
  graph: ReleaseGraph,
  opts: ReadFleetOptions,
): Promise<{ fleet: Fleet; bad: BadLines; where: string }> {
  const fleet = new Fleet(graph, {
    to: opts.to,
    platformDefault: opts.platformDefault,
    allowWipe: opts.allowWipe,
  });
  const where = opts.inventory === "-" ? "stdin" : opts.inventory;
  const bad: BadLines = { count: 0, first: [] };
  const rows = opts.devices === undefined ? null : csvWriter(opts.devices);
  const progress = process.stderr.isTTY === true;
  try {
    await readInventory(opts.inventory, {
      device(d) {
        const cls = fleet.add(d);
        rows?.write(`${csvField(d.id)},${csvField(cls.id)},${cls.firstStop}\n`);
        if (progress && (fleet.devices & 0x1ffff) === 0)
          process.stderr.write(
            `\rread ${n(fleet.devices)} devices, ${n(fleet.classCount)} classes`,
          );
      },
      bad(message, line) {
        if (opts.strict)
          throw new InputError(
            `${where}:${line}: ${message} (--strict stops at the first bad line)`,
          );
        bad.count++;
        if (bad.first.length < SHOWN_BAD) {
          bad.first.push({ line, message });
          process.stderr.write(`${where}:${line}: ${message}\n`);
        }
      },
    });
  } finally {
    rows?.close();
    if (progress) process.stderr.write("\r\u001b[K");
  }
  if (bad.count > SHOWN_BAD)
    process.stderr.write(`${where}: ${n(bad.count - SHOWN_BAD)} more bad lines\n`);
  if (bad.count > 0)
    process.stderr.write(
      `${where}: ${plural(bad.count, "bad line")} skipped and counted (--strict stops at the first)\n`,
    );
  if (fleet.devices === 0) {
    throw new InputError(
      `${where}: no devices${bad.count > 0 ? ` (every line is bad: ${plural(bad.count, "bad line")})` : ""}; an inventory is JSON Lines ({"id","status"} or {"id","release","platform"?}) or CSV (id,release,platform)`,
    );
  }
  return { fleet, bad, where };
}

/** The report page's fleet section: the distribution, and the classes toward `to`. */
export function fleetReport(
  fleet: Fleet,
  where: string,
  bad: BadLines,
  releases: readonly Release[],
): ReportFleet {
  const d = distribution(fleet);
  const classes = fleet.classes();
  const summary = summarize(classes);
  const why = (c: FleetClass): string => {
    const p = c.plan;
    if (p === null) return "";
    if (!p.reachable) return p.blockers.map((b) => b.message).join("; ");
    return p.stops
      .map((s) => `${s.stop.version}: ${s.why.map((w) => w.code).join(", ")}`)
      .join("; ");
  };
  const { badLineDetails: _, ...dist } = distributionJson(d, where, bad);
  return {
    ...dist,
    target: {
      release: fleet.options.to ?? "",
      summary,
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

/** One line per distinct (stop, reason) among the shown classes; blockers of the unreachable. */
function stopLines(classes: readonly FleetClass[]): Cell[][] {
  const seen = new Set<string>();
  const rows: Cell[][] = [];
  for (const c of classes) {
    const p = c.plan;
    if (p === null) continue;
    const items: { stop: string; code: string; what: string; message: string }[] = p.reachable
      ? p.stops.flatMap((s) =>
          s.why.map((w) => ({
            stop: s.stop.version,
            code: w.code,
            what: (w.components ?? []).join(", ") || (w.key ?? ""),
            message:
              (w.components?.length ?? 0) > 1
                ? `${w.message} (and ${plural((w.components?.length ?? 1) - 1, "more component")})`
                : w.message,
          })),
        )
      : p.blockers.map((b) => ({
          stop: color.red(`✗ ${c.id}`),
          code: b.code,
          what: b.component ?? b.key ?? "",
          message: b.message,
        }));
    for (const why of items) {
      const stop = why.stop;
      const key = `${stop}\u0000${why.code}\u0000${why.what}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push([stop, why.code, why.message]);
    }
  }
  return rows;
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

/**
 * JSON of a large fleet: the top level indented as printJson does, each element of an
 * array one compact line, written element by element (a million-device fleet has
 * thousands of classes: one string of all of them would be most of the command's memory).
 */
async function printLargeJson(value: Record<string, unknown>): Promise<void> {
  const keys = Object.keys(value);
  let buf = "{\n";
  // Waits while a slow reader (a pipe) has not taken what was written: memory stays flat.
  const flush = async () => {
    const more = process.stdout.write(buf);
    buf = "";
    if (!more) await once(process.stdout, "drain");
  };
  for (const [i, k] of keys.entries()) {
    const v = value[k];
    buf += `  ${JSON.stringify(k)}: `;
    if (Array.isArray(v) && v.length > 0) {
      buf += "[\n";
      for (const [j, x] of v.entries()) {
        buf += `    ${JSON.stringify(x)}${j + 1 < v.length ? "," : ""}\n`;
        if (buf.length > 1 << 16) await flush();
      }
      buf += "  ]";
    } else buf += JSON.stringify(v, null, 2).replace(/\n/g, "\n  ");
    buf += i + 1 < keys.length ? ",\n" : "\n";
  }
  buf += "}\n";
  await flush();
}

/** A CSV file written in large pieces (a million rows one write each would be slow). */
function csvWriter(path: string): { write(s: string): void; close(): void } {
  const fd = openSync(path, "w");
  let buf = "id,class,first-stop\n";
  const flush = () => {
    writeSync(fd, buf);
    buf = "";
  };
  return {
    write(s) {
      buf += s;
      if (buf.length > 1 << 16) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}
