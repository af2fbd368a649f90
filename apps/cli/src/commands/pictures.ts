import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError, systemReason } from "@stepstone/errors";
import type { Release } from "@stepstone/graph";
import { displayPath } from "@stepstone/graph-file";
import {
  goldenMatrix,
  type PicturePath,
  picture,
  type ReportFleet,
  renderSvg,
  reportData,
  reportHtml,
  reportPageScript,
  toDot,
  toMermaid,
} from "@stepstone/pictures";
import { type Blocker, type PlanContext, plan } from "@stepstone/planner";
import { findRelease, openGraph } from "../graph.js";
import { color, out } from "../output.js";

export interface GraphCommandOptions {
  graph?: string;
  platform?: string;
  format: "dot" | "mermaid";
  from?: string;
  to?: string;
}

export async function graphCommand(opts: GraphCommandOptions): Promise<number> {
  if ((opts.from === undefined) !== (opts.to === undefined))
    throw new InputError(
      "--from and --to go together: the picture highlights the plan between them",
    );
  const { ctx } = await openGraph(opts);
  const found =
    opts.from !== undefined && opts.to !== undefined
      ? highlight(ctx, findRelease(ctx, opts.from, "--from"), findRelease(ctx, opts.to, "--to"))
      : undefined;
  const p = picture(ctx, found ? { path: found.path } : {});
  process.stdout.write(opts.format === "mermaid" ? toMermaid(p) : toDot(p));
  // DESIGN's contract for pictures is exit 0 or 2: the picture is the answer (it says
  // "no plan"), and stderr says why; `stepstone plan` is the command whose exit says it.
  if (found && found.path.plan === null) {
    const { from, to } = found.path;
    process.stderr.write(
      `stepstone: no plan from ${from.version} to ${to.version}, even with wipes: ${found.blockers.map((b) => b.message).join("; ")}\n`,
    );
  }
  return 0;
}

/**
 * The plan to draw: `plan`'s (no wipe) when there is one, otherwise the best plan with
 * every wipeable component allowed to be wiped (the picture labels its wipes, and stderr
 * says so), otherwise none.
 */
function highlight(
  ctx: PlanContext,
  from: Release,
  to: Release,
): { path: PicturePath; blockers: readonly Blocker[] } {
  const res = plan(ctx, { from, to });
  if (res.reachable)
    return { path: { from: res.plan.from, to: res.plan.to, plan: res.plan }, blockers: [] };
  const wiping = plan(ctx, { from, to, allowWipe: "all" });
  if (!wiping.reachable)
    return { path: { from: wiping.from, to: wiping.to, plan: null }, blockers: wiping.blockers };
  const wiped = [...new Set(wiping.plan.steps.flatMap((s) => s.wipe))].join(", ");
  process.stderr.write(
    `stepstone: no plan from ${res.from.version} to ${res.to.version} without wipes; drawing the best plan that wipes ${wiped}\n`,
  );
  return { path: { from: wiping.plan.from, to: wiping.plan.to, plan: wiping.plan }, blockers: [] };
}

export interface ReportCommandOptions {
  graph?: string;
  platform?: string;
  out: string;
  inventory?: string;
  to?: string;
}

export async function reportCommand(opts: ReportCommandOptions): Promise<number> {
  if (opts.to !== undefined && opts.inventory === undefined)
    throw new InputError("--to is the target of the fleet section: it goes with --inventory FILE");
  const { loaded, ctx } = await openGraph(opts);
  const file = displayPath(loaded.file);
  // The golden matrix, once: the picture draws its plans, the data lists its cells.
  const golden = goldenMatrix(ctx);
  const p = picture(ctx, { golden });
  const { svg } = await renderSvg(toDot(p, { legend: false }));
  const data = reportData(ctx, file, golden);
  const fleet = opts.inventory === undefined ? undefined : await fleetOf(ctx, opts);
  const html = reportHtml({
    data,
    picture: p,
    svg,
    graph: loaded.json,
    script: reportPageScript(),
    ...(fleet && { fleet }),
  });
  writeReport(opts.out, html);
  const gaps = data.gaps.gaps.length;
  out(
    `${color.green("wrote")} ${opts.out} (${Math.ceil(Buffer.byteLength(html) / 1024)} KiB): ${data.counts.releases} releases, ${data.counts.golden} golden, ${gaps === 0 ? color.green("no gaps") : color.yellow(`${gaps} ${gaps === 1 ? "gap" : "gaps"}`)}; open it in a browser (it loads nothing from the network)`,
  );
  return 0;
}

/**
 * The fleet section: the inventory planned toward --to (default the newest golden
 * release), the report's --platform for devices that name none.
 */
async function fleetOf(ctx: PlanContext, opts: ReportCommandOptions): Promise<ReportFleet> {
  const [{ readFleet }, { reportJson }] = await Promise.all([
    import("./fleet.js"),
    import("@stepstone/fleet"),
  ]);
  const golden = ctx.releases.filter((r) => r.golden && !r.withdrawn);
  const to = opts.to !== undefined ? findRelease(ctx, opts.to, "--to") : golden[golden.length - 1];
  if (to === undefined)
    throw new InputError(
      "--inventory: the graph has no golden release; name the fleet's target with --to",
    );
  const { fleet, bad, where } = await readFleet(ctx.graph, {
    inventory: opts.inventory as string,
    to: to.version,
    platformDefault: ctx.platform,
    allowWipe: [],
  });
  return reportJson(fleet, where, bad, ctx.graph.releases);
}

function writeReport(path: string, html: string): void {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw new InputError(`--out ${path}: is a folder; name the .html file to write`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, html);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`--out ${path}: cannot write: ${systemReason(e)}`);
  }
}
