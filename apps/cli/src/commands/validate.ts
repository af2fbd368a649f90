import { type Diagnostic, formatDiagnostic, InputError } from "@stepstone/errors";
import { loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import { color, type Format, out, plural, printJson } from "../output.js";

export interface ValidateOptions {
  graph?: string;
  format: Format;
}

const diag = (d: Diagnostic) => ({ file: d.file, path: d.where, message: d.message });

export async function validate(opts: ValidateOptions): Promise<number> {
  const file = resolveGraphPath(opts.graph);
  let loaded: Awaited<ReturnType<typeof loadGraph>>;
  try {
    loaded = await loadGraph(file, { checkScripts: true });
  } catch (e) {
    if (opts.format === "json" && e instanceof InputError) {
      printJson({ file, valid: false, errors: e.diagnostics.map(diag), warnings: [] });
      return e.exitCode;
    }
    throw e;
  }
  const { graph, warnings } = loaded;
  const rel = graph.releases;
  const summary = {
    components: graph.components.length,
    releases: rel.length,
    golden: rel.filter((r) => r.golden).length,
    transition: rel.filter((r) => r.transition).length,
    withdrawn: rel.filter((r) => r.withdrawn).length,
    migrations: graph.migrations.length,
    platforms: graph.platforms,
    keys: graph.keys === null ? null : [...graph.keys.keys()],
  };
  if (opts.format === "json") {
    printJson({ file, valid: true, errors: [], warnings: warnings.map(diag), summary });
    return 0;
  }
  for (const w of warnings)
    process.stderr.write(`${color.yellow("warning")}: ${formatDiagnostic(w)}\n`);
  out(
    `${color.green("ok")} ${file}: ${plural(summary.components, "component")}, ${plural(summary.releases, "release")} ` +
      `(${summary.golden} golden, ${summary.transition} transition, ${summary.withdrawn} withdrawn), ` +
      `${plural(summary.migrations, "migration")}, ` +
      (summary.keys === null ? "" : `${plural(summary.keys.length, "signing key")}, `) +
      `${summary.platforms.length === 0 ? "no platform overrides" : `platforms: ${summary.platforms.join(", ")}`}` +
      (warnings.length > 0 ? `; ${plural(warnings.length, "warning")}` : ""),
  );
  return 0;
}
