import { readFileSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";
import type { Migration } from "@stepstone/graph";
import { parseJsonStrict } from "@stepstone/graph-file";
import { type PlanContext, type PlanResult, plan, planJson } from "@stepstone/planner";
import { findRelease, label, openGraph } from "../graph.js";
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
  const device = opts.device === undefined ? undefined : readDeviceStatus(opts.device);
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
  const deviceEpochs = device ? epochsOf(ctx, device, opts.device as string, from) : undefined;
  const res = plan(ctx, { from, to, allowWipe, ...(deviceEpochs && { deviceEpochs }) });
  if (opts.format === "json") printJson(planJson(res));
  else printPlan(ctx, res, opts);
  return res.reachable ? 0 : 1;
}

function parseAllowWipe(ctx: PlanContext, text: string | undefined): readonly string[] | "all" {
  if (text === undefined) return [];
  if (text === "all") return "all";
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    const c = ctx.components.find((x) => x.name === name);
    if (!c) {
      throw new InputError(
        `--allow-wipe ${name}: unknown component; the graph has ${ctx.components.map((x) => x.name).join(", ")}`,
      );
    }
    if (!c.wipeable)
      throw new InputError(
        `--allow-wipe ${name}: ${name} is not wipeable (wipeable: false in the graph), so no plan may wipe it`,
      );
  }
  return names;
}

interface DeviceStatus {
  release: string;
  platform: string | null;
  components: { name: string; epoch: number | null; interrupted?: string | null }[];
}

/** The output of `runner status --json` on a device. */
function readDeviceStatus(path: string): DeviceStatus {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`--device ${path}: cannot read: ${systemReason(e)}`);
  }
  const v = parseJsonStrict(text, path) as Partial<DeviceStatus>;
  const bad = (where: string, what: string) =>
    new InputError(`${path}: ${where}: ${what} (expected the output of "runner status --json")`);
  if (typeof v !== "object" || v === null) throw bad("$", "expected an object");
  if (typeof v.release !== "string") throw bad("release", "expected the running release's version");
  if (v.platform !== undefined && v.platform !== null && typeof v.platform !== "string")
    throw bad("platform", "expected a string or null");
  if (!Array.isArray(v.components)) throw bad("components", "expected an array");
  v.components.forEach((c, i) => {
    if (typeof c?.name !== "string") throw bad(`components[${i}].name`, "expected a string");
    if (c.epoch !== null && !(Number.isInteger(c.epoch) && (c.epoch as number) >= 0)) {
      throw bad(`components[${i}].epoch`, "expected an integer >= 0 or null");
    }
    if (c.interrupted !== undefined && c.interrupted !== null && typeof c.interrupted !== "string")
      throw bad(`components[${i}].interrupted`, "expected a migration id or null");
  });
  return { release: v.release, platform: v.platform ?? null, components: v.components };
}

function epochsOf(ctx: PlanContext, device: DeviceStatus, path: string, from: number): Int32Array {
  const epochs = Int32Array.from(ctx.releaseEpochs(from));
  for (const c of device.components) {
    const ci = ctx.componentIndex(c.name);
    if (ci < 0) throw new InputError(`${path}: component "${c.name}" is not in the graph`);
    if (c.epoch === null) {
      throw new InputError(
        `${path}: the epoch of ${c.name} is unknown on the device; run "runner status" there and fix its failure first`,
      );
    }
    epochs[ci] = c.epoch;
    if (typeof c.interrupted === "string") {
      // A pre-flash script cut by a power loss: the device's next run (boot or pre-flash)
      // finishes it before anything else, so the plan starts where it leads.
      const m = ctx.graph.migrations.find((x) => x.id === c.interrupted);
      if (m === undefined || m.component !== c.name || m.from !== c.epoch) {
        throw new InputError(
          `${path}: ${c.name} has an interrupted pre-flash script "${c.interrupted}" that the graph does not have from epoch ${c.epoch}; boot the device once (it finishes the script or reports why not) and read its status again`,
        );
      }
      if (!ctx.shipping.ships(from, m)) {
        throw new InputError(
          `${path}: ${c.name} has an interrupted pre-flash script "${c.interrupted}" that ${device.release} does not ship, so the device cannot finish it: its data is between epochs ${m.from} and ${m.to}; flash a release that ships ${m.id} and boot it, or wipe ${c.name}`,
        );
      }
      epochs[ci] = m.to;
    }
  }
  return epochs;
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
