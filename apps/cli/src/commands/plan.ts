import { readFileSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";
import type { Migration, Release } from "@stepstone/graph";
import { parseJsonStrict } from "@stepstone/graph-file";
import {
  deviceEpochs,
  type PlanContext,
  type PlanResult,
  plan,
  planJson,
} from "@stepstone/planner";
import type { DeviceStatus } from "@stepstone/runner";
import { findRelease, label, openGraph, parseAllowWipe } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, table } from "../output.js";

export interface PlanOptions {
  graph?: string;
  format: Format;
  from?: string;
  to: string;
  platform?: string;
  allowWipe?: string;
  device?: string;
}

export async function planCommand(opts: PlanOptions): Promise<number> {
  const device = opts.device === undefined ? undefined : await readDeviceStatus(opts.device);
  const platform = opts.platform ?? device?.platform ?? undefined;
  const { ctx } = await openGraph({
    ...(opts.graph !== undefined && { graph: opts.graph }),
    ...(platform !== undefined && { platform }),
  });
  const fromText = opts.from ?? device?.release;
  if (fromText === undefined)
    throw new InputError("plan needs --from VERSION (or --device STATUS.json)");
  // The release a device reports is the status file's word, not an option the user gave.
  const from =
    opts.from === undefined && device
      ? findRelease(ctx, device.release, `${opts.device}: the device's release`)
      : findRelease(ctx, fromText, "--from");
  if (
    device &&
    opts.from !== undefined &&
    findRelease(ctx, device.release, `${opts.device}: the device's release`) !== from
  ) {
    throw new InputError(
      `${opts.device}: the device runs ${device.release}, not --from ${opts.from}; drop --from or use the device's status`,
    );
  }
  const to = findRelease(ctx, opts.to, "--to");
  const allowWipe = parseAllowWipe(ctx, opts.allowWipe);
  const fromRelease = ctx.releases[from] as Release;
  const epochs = device ? deviceEpochs(ctx, device, opts.device as string, fromRelease) : undefined;
  const res = plan(ctx, { from, to, allowWipe, ...(epochs && { device: epochs }) });
  if (opts.format === "json") printJson(planJson(res));
  else printPlan(ctx, res, opts);
  return res.reachable ? 0 : 1;
}

/** The output of `runner status --json` on a device, read from `path`. */
async function readDeviceStatus(path: string): Promise<DeviceStatus> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`--device ${path}: cannot read: ${systemReason(e)}`);
  }
  const { parseDeviceStatus } = await import("@stepstone/runner");
  return parseDeviceStatus(parseJsonStrict(text, path), path);
}

const scriptLine = (m: Migration) => `${m.id} ${color.dim(`(${m.component} ${m.from}→${m.to})`)}`;

function printPlan(ctx: PlanContext, res: PlanResult, opts: PlanOptions): void {
  const platform = ctx.platform === null ? "" : ` on ${ctx.platform}`;
  if (!res.reachable) {
    out(
      `${color.red("No plan")} from ${label(res.from)} to ${label(res.to)}${platform}${opts.allowWipe ? ` (wipes allowed: ${opts.allowWipe})` : " without wipes"}:`,
    );
    for (const b of res.blockers) out(`  ${color.red("✗")} [${b.code}] ${b.message}`);
    const hints: string[] = [];
    const wipeable = res.blockers.filter((b) => b.code === "wipe").map((b) => b.component);
    if (wipeable.length > 0) {
      hints.push(
        `stepstone plan --from ${res.from.version} --to ${res.to.version} --allow-wipe ${[...new Set(wipeable)].join(",")}  (data of those components is lost)`,
      );
    }
    if (res.blockers.some((b) => b.code === "withdrawn")) {
      const alive = ctx.releases
        .filter((r) => r.line === res.to.line && !r.withdrawn)
        .map((r) => r.version);
      hints.push(
        `a release that is not withdrawn${alive.length > 0 ? `, e.g. ${alive.join(", ")} in line ${res.to.line}` : ""}`,
      );
    }
    if (res.blockers.some((b) => b.code !== "withdrawn")) {
      hints.push("stepstone gaps --suggest --all  (transition releases that would connect them)");
    }
    out();
    out("What would unblock it:");
    for (const h of hints) out(`  ${h}`);
    return;
  }
  const p = res.plan;
  const summary = [
    plural(p.hops, "hop"),
    plural(p.scripts, "script"),
    p.wipes === 0 ? color.green("no wipe") : color.yellow(plural(p.wipes, "wipe")),
    ...(p.transitions > 0 ? [plural(p.transitions, "transition stop")] : []),
  ].join(", ");
  out(`Plan ${label(p.from)} → ${label(p.to)}${platform}: ${summary}`);
  if (p.steps.length === 0) {
    out("  Nothing to do: the device already runs this release.");
    return;
  }
  out();
  const rows: Cell[][] = p.steps.map((s, i) => [
    String(i + 1),
    `flash ${label(s.to)}`,
    s.direction,
    s.preFlash.length === 0 ? color.dim("—") : s.preFlash.map(scriptLine),
    s.boot.length === 0 ? color.dim("—") : s.boot.map(scriptLine),
    s.wipe.length === 0 ? color.dim("—") : s.wipe.map((w) => color.yellow(w)),
  ]);
  out(
    table(
      ["#", "hop", "direction", "before flashing (old image)", "at boot (new image)", "wipe"],
      rows,
    ),
  );
  const wipes = p.steps.flatMap((s, i) => s.wipe.map((w) => ({ step: i + 1, w })));
  if (wipes.length > 0) {
    out();
    for (const { step, w } of wipes) {
      const comp = ctx.components.find((c) => c.name === w);
      const paths = comp && comp.paths.length > 0 ? ` (${comp.paths.join(", ")})` : "";
      out(
        `  ${color.yellow("!")} hop ${step} erases the ${w} data${paths}: the device starts with factory ${w} settings`,
      );
    }
  }
}
