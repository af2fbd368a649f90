import { InputError } from "@stepstone/errors";
import { displayPath, type LoadedGraph, writeReleaseEntries } from "@stepstone/graph-file";
import {
  gaps as findGaps,
  gapsJson,
  type Matrix,
  matrix,
  matrixJson,
  type PlanContext,
  type Suggestion,
  type SuggestResult,
  selectReleases,
  suggest,
} from "@stepstone/planner";
import { openGraph, releaseSelection } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, some, table } from "../output.js";

export interface SetOptions {
  graph?: string;
  format: Format;
  platform?: string;
  all?: boolean;
  releases?: string;
}

/**
 * The matrix of the set the options name. A `--releases` range that matches no release is
 * a mistake in the range, and an empty set under `gaps --check` would let CI pass on
 * nothing: both are input errors (exit 2).
 */
async function computeMatrix(
  opts: SetOptions & { check?: boolean },
): Promise<{ ctx: PlanContext; m: Matrix; loaded: LoadedGraph }> {
  const { ctx, loaded } = await openGraph(opts);
  const set = selectReleases(ctx, releaseSelection(opts));
  if (set.length === 0 && (opts.releases !== undefined || opts.check)) {
    const what =
      opts.releases !== undefined
        ? `--releases "${opts.releases}" matches no release of the graph (withdrawn ones never count)`
        : `the graph has no ${opts.all ? "release that is not withdrawn" : "golden release"}`;
    throw new InputError(
      `${what}${opts.check ? ": --check would pass on nothing" : ""}; the graph has ${
        ctx.releases.length === 0
          ? "no release"
          : some(
              ctx.releases.map((r) => r.version),
              6,
            )
      }`,
    );
  }
  return { ctx, m: matrix(ctx, set), loaded };
}

export async function matrixCommand(opts: SetOptions): Promise<number> {
  const { ctx, m } = await computeMatrix(opts);
  if (opts.format === "json") {
    printJson(matrixJson(m));
    return 0;
  }
  if (m.releases.length === 0) {
    out("No releases in the set (by default the golden ones; try --all).");
    return 0;
  }
  const cell = new Map(m.cells.map((c) => [`${c.from.version}\0${c.to.version}`, c]));
  const rows: Cell[][] = m.releases.map((a) => [
    a.version,
    ...m.releases.map((b) => {
      if (a === b) return color.dim("·");
      const c = cell.get(`${a.version}\0${b.version}`);
      if (!c?.reachable) return color.red("✗");
      const text = c.wipes === 0 ? String(c.hops) : `${c.hops}+${c.wipes}w`;
      return c.wipes === 0 ? color.green(text) : color.yellow(text);
    }),
  ]);
  const platform = ctx.platform === null ? "" : ` on ${ctx.platform}`;
  out(`Hops from each release (row) to each other (column)${platform}:`);
  out();
  out(table(["from \\ to", ...m.releases.map((r) => r.version)], rows));
  out();
  out(
    `  ${color.green("N")} hops without wiping   ${color.yellow("N+Kw")} N hops that wipe K components   ${color.red("✗")} unreachable`,
  );
  return 0;
}

export interface GapsOptions extends SetOptions {
  suggest?: boolean;
  check?: boolean;
  write?: boolean;
}

export async function gapsCommand(opts: GapsOptions): Promise<number> {
  if (opts.write && !opts.suggest)
    throw new InputError(
      "--write adds the suggested releases to the graph: pass it with --suggest",
    );
  const { ctx, m, loaded } = await computeMatrix(opts);
  const gapList = findGaps(ctx, m);
  const suggested = opts.suggest ? suggest(ctx, gapList) : null;
  const written = opts.write && suggested ? await writeSuggestions(loaded, suggested) : null;
  const code = opts.check && gapList.length > 0 ? 1 : 0;
  if (opts.format === "json") {
    printJson({
      ...gapsJson(gapList, suggested),
      ...(written && {
        written: {
          file: loaded.file,
          added: written.added.map((s) => s.release.version),
          extended: written.extended.map((s) => ({ version: s.release.version, adds: s.adds })),
        },
      }),
    });
    return code;
  }
  if (gapList.length === 0) {
    out(
      `${color.green("No gaps")}: every pair of the ${plural(m.releases.length, "release")} connects without wiping.`,
    );
    return code;
  }
  out(
    `${color.yellow(plural(gapList.length, "gap"))} between ${plural(m.releases.length, "release")}:`,
  );
  out();
  out(
    table(
      ["from", "to", "reason", "", "why"],
      gapList.map((g) => [
        g.from.version,
        g.to.version,
        g.plan ? color.yellow(g.reason.code) : color.red(g.reason.code),
        g.reason.component ?? g.reason.key ?? "",
        g.reason.message,
      ]),
    ),
  );
  if (suggested) {
    out();
    if (suggested.suggestions.length === 0)
      out("No transition release built from existing migrations closes these gaps.");
    for (const s of suggested.suggestions) {
      if (s.extends !== null) {
        out(
          `Suggested: ship ${s.adds.join(", ")} in ${color.bold(s.release.version)} too (a transition release the graph has): closes ${plural(s.closes.length, "gap")}: ${s.closes.map((c) => `${c.from.version} → ${c.to.version}`).join(", ")}`,
        );
        out(`    "ships": ${JSON.stringify(s.release.ships)}`);
        continue;
      }
      out(
        `Suggested transition release ${color.bold(s.release.version)} closes ${plural(s.closes.length, "gap")}: ${s.closes.map((c) => `${c.from.version} → ${c.to.version}`).join(", ")}`,
      );
      out(
        JSON.stringify(s.release, null, 2)
          .split("\n")
          .map((l) => `    ${l}`)
          .join("\n"),
      );
    }
    for (const miss of suggested.missing) {
      out(
        `${color.red("Missing migration")}: ${miss.component} ${miss.from} → ${miss.to} (no existing scripts convert it; needed by ${miss.for.map((c) => `${c.from.version} → ${c.to.version}`).join(", ")})`,
      );
    }
  }
  if (written) {
    const name = displayPath(loaded.file);
    out();
    if (written.added.length + written.extended.length === 0)
      out(`Nothing written: no suggestion to add to ${name}.`);
    for (const s of written.added)
      out(
        `${color.green("added")} ${s.release.version} to ${name} (closes ${plural(s.closes.length, "gap")})`,
      );
    for (const s of written.extended)
      out(
        `${color.green("extended")} ${s.release.version} in ${name}: ships ${s.adds.join(", ")} too (closes ${plural(s.closes.length, "gap")})`,
      );
  }
  return code;
}

/** `--write`: the suggested releases into the graph file (validated first). */
async function writeSuggestions(
  loaded: LoadedGraph,
  suggested: SuggestResult,
): Promise<{ added: Suggestion[]; extended: Suggestion[] }> {
  await writeReleaseEntries(
    loaded,
    suggested.suggestions.map((s) => s.release),
  );
  return {
    added: suggested.suggestions.filter((s) => s.extends === null),
    extended: suggested.suggestions.filter((s) => s.extends !== null),
  };
}
