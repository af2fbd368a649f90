import { loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import { color, type Format, out, printJson } from "../output.js";

export interface RunnerCommandOptions {
  out: string;
  graph?: string;
  upper?: string;
  stateDir?: string;
  format: Format;
}

/** Writes the runner and its units as a rootfs-relative tree (drop-ins from the graph's services). */
export async function runnerCommand(opts: RunnerCommandOptions): Promise<number> {
  const { emitRunner, writeTree } = await import("@stepstone/runner");
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
