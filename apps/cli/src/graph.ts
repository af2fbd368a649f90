import { InputError } from "@stepstone/errors";
import { parseLenientVersion, parseRange, type Release, releaseByVersion } from "@stepstone/graph";
import { type LoadedGraph, loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import { PlanContext, type ReleaseSelection } from "@stepstone/planner";

export interface GraphOptions {
  graph?: string;
  platform?: string;
}

/** Loads the graph named by --graph (or found upward) and indexes it for --platform. */
export async function openGraph(
  opts: GraphOptions,
  checkScripts = false,
): Promise<{ loaded: LoadedGraph; ctx: PlanContext }> {
  // Only `validate` shows warnings; the others skip the analysis behind them.
  const loaded = await loadGraph(resolveGraphPath(opts.graph), {
    checkScripts,
    deepWarnings: false,
  });
  const platform = opts.platform ?? null;
  if (platform !== null && !loaded.graph.platforms.includes(platform)) {
    const known = loaded.graph.platforms;
    throw new InputError(
      `unknown platform "${platform}": ${loaded.file} names ${known.length === 0 ? "no platform" : known.map((p) => `"${p}"`).join(", ")}`,
    );
  }
  return { loaded, ctx: new PlanContext(loaded.graph, platform) };
}

/**
 * The release a --from/--to/--release value names: its version (`v` prefix
 * and +build tolerated) or the git tag the graph records for it (`v1.2` for 1.2.0). Not
 * found: an InputError that suggests the releases it may have meant.
 */
export function findRelease(ctx: PlanContext, text: string, option: string): Release {
  const named = releaseByVersion(ctx.releases, text) ?? ctx.releases.find((r) => r.tag === text);
  if (named !== undefined) return named;
  // `3.0` or `v1.2` read as sync reads tags (3.0.0, 1.2.0), then the releases of its line.
  const lenient = parseLenientVersion(text);
  const exact = lenient === null ? [] : ctx.releases.filter((r) => r.version === lenient);
  const line = text.replace(/^v/, "").split(".").slice(0, 2).join(".");
  const near = [
    ...exact,
    ...ctx.releases.filter((r) => !exact.includes(r) && r.version.startsWith(line)),
  ].map((r) => r.version);
  const hint = near.length > 0 ? `; did you mean ${near.slice(0, 5).join(", ")}?` : "";
  throw new InputError(`${option} ${text}: no such release in the graph${hint}`);
}

export function label(r: Release): string {
  const tags = [
    r.golden && "golden",
    r.transition && "transition",
    r.withdrawn && "withdrawn",
    !r.runner && "no runner",
  ].filter(Boolean);
  return tags.length > 0 ? `${r.version} (${tags.join(", ")})` : r.version;
}

/** The release set `--all` / `--releases RANGE` name (default: the golden releases). */
export function releaseSelection(opts: { all?: boolean; releases?: string }): ReleaseSelection {
  if (opts.all && opts.releases !== undefined)
    throw new InputError("--all and --releases exclude each other");
  if (opts.all) return { kind: "all" };
  if (opts.releases === undefined) return { kind: "golden" };
  const range = parseRange(opts.releases);
  if (range === null)
    throw new InputError(
      `--releases "${opts.releases}": not a semver range (e.g. ">=2.9.0 <3.0.0")`,
    );
  return { kind: "range", range };
}

/** --allow-wipe "a,b" or "all": unknown and non-wipeable components are input errors. */
export function parseAllowWipe(
  ctx: PlanContext,
  text: string | undefined,
): readonly string[] | "all" {
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
