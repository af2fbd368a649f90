import { InputError } from "@stepstone/errors";
import { parseVersion, type Release } from "@stepstone/graph";
import { type LoadedGraph, loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import { PlanContext } from "@stepstone/planner";

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

/** The index of the release a --from/--to value names (`v` prefix and +build tolerated). */
export function findRelease(ctx: PlanContext, text: string, option: string): number {
  const sv = parseVersion(text.replace(/^v(?=\d)/, ""));
  const i = sv === null ? -1 : ctx.releases.findIndex((r) => r.semver.compare(sv) === 0);
  if (i >= 0) return i;
  const near = ctx.releases
    .filter((r) => r.version.startsWith(text.replace(/^v/, "").split(".").slice(0, 2).join(".")))
    .map((r) => r.version);
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
