import { readFileSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";
import type { Migration, Release } from "@stepstone/graph";
import { parseJsonStrict } from "@stepstone/graph-file";
import {
  devicePlanning,
  type PlanContext,
  type PlanResult,
  plan,
  planJson,
  planWhy,
  type ReachEntry,
  reach,
  reachJson,
  type StopReason,
} from "@stepstone/planner";
import type { DeviceStatus, Failure } from "@stepstone/runner";
import { findRelease, label, openGraph, parseAllowWipe } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, table } from "../output.js";

export interface PlanOptions {
  graph?: string;
  format: Format;
  from?: string;
  /** Without it: the reachable targets (reachTargets), each with its best plan. */
  to?: string;
  platform?: string;
  allowWipe?: string;
  device?: string;
  /** Count on scripts that failed on the device (by default a plan leaves them out). */
  retryFailed?: boolean;
}

export async function planCommand(opts: PlanOptions): Promise<number> {
  if (opts.retryFailed && opts.device === undefined)
    throw new InputError(
      "--retry-failed needs --device STATUS.json: the failed scripts are those the device's status reports",
    );
  const device = opts.device === undefined ? undefined : await readDeviceStatus(opts.device);
  const platform = opts.platform ?? device?.platform ?? undefined;
  const { ctx: full } = await openGraph({
    ...(opts.graph !== undefined && { graph: opts.graph }),
    ...(platform !== undefined && { platform }),
  });
  const fromText = opts.from ?? device?.release;
  if (fromText === undefined)
    throw new InputError(
      "plan needs --from VERSION or --device STATUS.json (the output of `runner status --json`)",
    );
  // The release a device reports is the status file's word, not an option the user gave.
  const from =
    opts.from === undefined && device
      ? findRelease(full, device.release, `${opts.device}: the device's release`)
      : findRelease(full, fromText, "--from");
  if (
    device &&
    opts.from !== undefined &&
    findRelease(full, device.release, `${opts.device}: the device's release`) !== from
  ) {
    throw new InputError(
      `${opts.device}: the device runs ${device.release}, not --from ${opts.from}; drop --from or use the device's status`,
    );
  }
  const to = opts.to === undefined ? undefined : findRelease(full, opts.to, "--to");
  const allowWipe = parseAllowWipe(full, opts.allowWipe);
  const forDevice =
    device && opts.device !== undefined
      ? devicePlanning(full, device, from, {
          file: opts.device,
          ...(opts.retryFailed !== undefined && { retryFailed: opts.retryFailed }),
        })
      : undefined;
  const ctx = forDevice?.ctx ?? full;
  const epochs = forDevice?.epochs;
  const excluded = forDevice?.excluded ?? [];
  const failures = device ? await deviceFailures(device, excluded) : undefined;
  if (opts.format === "text" && device && failures && opts.device !== undefined)
    printFailures(
      opts.device,
      device,
      failures,
      (forDevice?.failed.length ?? 0) > 0,
      opts.retryFailed,
    );

  if (to === undefined) {
    const entries = reach(ctx, {
      from: from,
      allowWipe,
      ...(epochs && { device: epochs }),
    });
    if (opts.format === "json")
      printJson({
        ...reachJson(from, ctx.platform, allowWipe, entries),
        ...(failures && { failures }),
      });
    else printReach(ctx, from, entries, opts, epochs !== undefined);
    return 0;
  }

  const res = plan(ctx, { from, to, allowWipe, ...(epochs && { device: epochs }) });
  const why = res.reachable
    ? planWhy(ctx, res.plan, { allowWipe, ...(epochs && { device: epochs }) })
    : [];
  if (opts.format === "json") printJson({ ...planJson(res, why), ...(failures && { failures }) });
  else printPlan(ctx, res, why, opts, excluded);
  return res.reachable ? 0 : 1;
}

/** A failure the device reports, as `plan --format json` prints it: `excluded` when the plan leaves it out. */
interface FailureJson extends Failure {
  readonly excluded: boolean;
}

async function deviceFailures(
  device: DeviceStatus,
  excluded: readonly Migration[],
): Promise<FailureJson[]> {
  const { statusFailures } = await import("@stepstone/runner");
  return statusFailures(device).map((f) => ({
    ...f,
    excluded: excluded.some((m) => m.id === f.id),
  }));
}

/** The device's failures, before anything else: they are why the device is being planned. */
function printFailures(
  file: string,
  device: DeviceStatus,
  failures: readonly FailureJson[],
  scripts: boolean,
  retry: boolean | undefined,
): void {
  if (failures.length === 0) return;
  out(`${color.red("Failed on the device")} (${file}, running ${device.release}):`);
  for (const f of failures) {
    const epochs = f.from !== null && f.to !== null ? ` ${f.from}→${f.to}` : "";
    const what = f.id.startsWith("@") ? "" : ` ${f.id} (${f.component ?? "?"}${epochs})`;
    const phase = f.phase === null ? "" : f.phase === "boot" ? " at boot" : " before flashing";
    const why =
      f.status !== null ? `exit status ${f.status}` : (f.reason ?? "no exit status recorded");
    out(`  ${color.red("✗")} ${f.component ?? "?"}:${what} failed${phase}: ${why}`);
    if (f.excluded)
      out(
        `    this plan does not run ${f.id} again (it failed on this device's data); --retry-failed counts on it`,
      );
  }
  if (scripts && retry) out("  --retry-failed: the plan may run the failed scripts again");
  out();
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

function printPlan(
  ctx: PlanContext,
  res: PlanResult,
  why: readonly (readonly StopReason[])[],
  opts: PlanOptions,
  excluded: readonly Migration[],
): void {
  const platform = ctx.platform === null ? "" : ` on ${ctx.platform}`;
  if (!res.reachable) {
    out(
      `${color.red("No plan")} from ${label(res.from)} to ${label(res.to)}${platform}${opts.allowWipe ? ` (wipes allowed: ${opts.allowWipe})` : " without wipes"}:`,
    );
    for (const b of res.blockers) out(`  ${color.red("✗")} [${b.code}] ${b.message}`);
    const hints: string[] = [];
    const src =
      opts.device !== undefined ? `--device ${opts.device}` : `--from ${res.from.version}`;
    const wipeable = res.blockers.filter((b) => b.code === "wipe").map((b) => b.component);
    if (wipeable.length > 0) {
      hints.push(
        `stepstone plan ${src} --to ${res.to.version} --allow-wipe ${[...new Set(wipeable)].join(",")}  (data of those components is lost)`,
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
    if (excluded.length > 0) {
      hints.push(
        `stepstone plan ${src} --to ${res.to.version} --retry-failed  (counts on ${excluded.map((m) => m.id).join(", ")} again, which failed on this device: fix its cause first)`,
      );
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
  // Under each stop, why the plan cannot skip it (DESIGN.md: as GitLab's upgrade path says it).
  const notes = p.steps.map((_, i) =>
    (why[i] ?? []).map((r) => `${color.dim("why:")} ${r.message} ${color.dim(`[${r.code}]`)}`),
  );
  out(
    table(
      ["#", "hop", "direction", "before flashing (old image)", "at boot (new image)", "wipe"],
      rows,
      "  ",
      notes,
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

/**
 * `plan` without `--to`, for people: each target with its hops, wipes and first stop (as
 * `kubeadm upgrade plan` lists the versions a cluster can go to), the unreachable ones after.
 */
function printReach(
  ctx: PlanContext,
  from: Release,
  entries: readonly ReachEntry[],
  opts: PlanOptions,
  device: boolean,
): void {
  const platform = ctx.platform === null ? "" : ` on ${ctx.platform}`;
  const wipes = opts.allowWipe ? `wipes allowed: ${opts.allowWipe}` : "without wipes";
  const source = device ? `the device (${opts.device}) on ${label(from)}` : label(from);
  out(
    `From ${source}${platform}, ${wipes}: the golden releases and the newest release of each line`,
  );
  out();
  if (entries.length === 0) {
    out("  No other release to reach.");
    return;
  }
  const rows: Cell[][] = entries.map((e) => {
    const p = e.plan ?? e.withWipes;
    const wiped = p === null ? [] : [...new Set(p.steps.flatMap((s) => s.wipe))];
    const first = p?.steps[0]?.to;
    const wipeCell =
      p === null
        ? color.red("✗ no plan, even with wipes")
        : wiped.length === 0
          ? color.green("none")
          : e.plan !== null
            ? color.yellow(wiped.join(", "))
            : color.yellow(`${wiped.join(", ")} (only with --allow-wipe ${wiped.join(",")})`);
    return [
      label(e.to),
      p === null ? color.dim("—") : String(p.hops),
      wipeCell,
      first === undefined ? color.dim("—") : p?.hops === 1 ? "direct" : label(first),
    ];
  });
  out(table(["target", "hops", "wipes", "first stop"], rows));
  const blocked = entries.filter((e) => e.plan === null && e.withWipes === null);
  if (blocked.length > 0) {
    out();
    out("Unreachable:");
    for (const e of blocked)
      for (const b of e.blockers)
        out(`  ${color.red("✗")} ${e.to.version}: [${b.code}] ${b.message}`);
  }
  out();
  const src = device ? `--device ${opts.device}` : `--from ${from.version}`;
  out(`stepstone plan ${src} --to V: the plan to one of them, with why each stop is needed`);
}
