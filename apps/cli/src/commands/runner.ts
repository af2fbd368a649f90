import { InputError } from "@stepstone/errors";
import { loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import { color, type Format, out, printJson } from "../output.js";

export interface RunnerCommandOptions {
  out: string;
  graph?: string;
  upper?: string;
  stateDir?: string;
  layout?: string;
  scriptTimeout?: string;
  runTimeout?: string;
  format: Format;
}

/** A whole number of seconds from an option, or an input error naming it. */
function seconds(option: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) {
    throw new InputError(
      `${option}: expected a whole number of seconds, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

/** Writes the runner and its units as a rootfs-relative tree (drop-ins from the graph's services). */
export async function runnerCommand(opts: RunnerCommandOptions): Promise<number> {
  const { emitRunner, parseLayout, writeTree } = await import("@stepstone/runner");
  const components =
    opts.graph === undefined
      ? undefined
      : (
          await loadGraph(resolveGraphPath(opts.graph), { deepWarnings: false })
        ).graph.components.map((c) => ({
          name: c.name,
          services: c.services,
        }));
  const files = emitRunner({
    ...(opts.upper !== undefined && { upper: opts.upper }),
    ...(opts.stateDir !== undefined && { stateDir: opts.stateDir }),
    ...(opts.layout !== undefined && { layout: parseLayout(opts.layout) }),
    ...(opts.scriptTimeout !== undefined && {
      scriptTimeout: seconds("--script-timeout", opts.scriptTimeout),
    }),
    ...(opts.runTimeout !== undefined && {
      runTimeout: seconds("--run-timeout", opts.runTimeout),
    }),
    ...(components !== undefined && { components }),
  });
  await writeTree(opts.out, files);
  if (opts.format === "json") {
    printJson({
      out: opts.out,
      files: files.map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}` })),
    });
    return 0;
  }
  out(`${color.green("wrote")} the runner and its units under ${opts.out}:`);
  for (const f of files) out(`  ${f.path}`);
  return 0;
}
