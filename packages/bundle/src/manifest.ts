import type { Component, Epoch, Migration, Release } from "@stepstone/graph";
import type { PlanContext } from "@stepstone/planner";

/** Where a bundle's entries live in the root file system (read-only, not the overlaid /etc). */
export const BUNDLE_DIR = "usr/share/migration.d";

export interface ManifestComponent {
  readonly name: string;
  readonly epoch: Epoch;
  readonly baseline: Epoch;
  readonly onFailure: Component["onFailure"];
  readonly paths: readonly string[];
}

export interface ManifestScript {
  readonly order: number;
  readonly id: string;
  readonly sha256: string;
  readonly component: string;
  readonly from: Epoch;
  readonly to: Epoch;
  /** File name inside the bundle folder. */
  readonly file: string;
}

export interface Manifest {
  readonly release: string;
  readonly platform: string | null;
  readonly components: readonly ManifestComponent[];
  readonly scripts: readonly ManifestScript[];
}

/**
 * The manifest of release r's bundle: every migration it ships, in run order. Components
 * come in the graph's component order (derived from `after` across components); within
 * one, up-migrations by ascending epoch, then down-migrations by descending epoch (chain
 * order either way), with `after` respected. `hash` gives each script's sha256.
 */
export function buildManifest(
  ctx: PlanContext,
  r: number,
  hash: (m: Migration) => string,
): Manifest {
  const release = ctx.releases[r] as Release;
  const shipped = ctx.graph.migrations.filter((m) => ctx.shipping.ships(r, m));
  const components = ctx.components.map((c, ci) => ({
    name: c.name,
    epoch: ctx.epoch(r, ci),
    baseline: c.baseline,
    onFailure: c.onFailure,
    paths: c.paths,
  }));
  const ordered: Migration[] = [];
  for (const c of ctx.components) {
    const own = shipped.filter((m) => m.component === c.name).sort(chainOrder);
    ordered.push(...respectAfter(own, shipped));
  }
  const scripts = ordered.map((m, i) => {
    const order = i + 1;
    return {
      order,
      id: m.id,
      sha256: hash(m),
      component: m.component,
      from: m.from,
      to: m.to,
      file: `${String(order).padStart(4, "0")}-${m.component}-${m.from}-${m.to}-${m.id}.sh`,
    };
  });
  return { release: release.version, platform: ctx.platform, components, scripts };
}

function chainOrder(a: Migration, b: Migration): number {
  const upA = a.to > a.from;
  const upB = b.to > b.from;
  if (upA !== upB) return upA ? -1 : 1;
  if (a.from !== b.from) return upA ? a.from - b.from : b.from - a.from;
  if (a.to !== b.to) return a.to - b.to;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A stable topological order: each migration after the shipped ones it names in `after`. */
function respectAfter(list: readonly Migration[], shipped: readonly Migration[]): Migration[] {
  const inList = new Set(list.map((m) => m.id));
  const shippedIds = new Set(shipped.map((m) => m.id));
  const placed = new Set<string>();
  const out: Migration[] = [];
  const pending = [...list];
  while (pending.length > 0) {
    const i = pending.findIndex((m) =>
      m.after.every((dep) => !inList.has(dep) || !shippedIds.has(dep) || placed.has(dep)),
    );
    // Validation rejects `after` cycles, so there is always one ready.
    const [m] = pending.splice(Math.max(i, 0), 1) as [Migration];
    placed.add(m.id);
    out.push(m);
  }
  return out;
}

/** manifest.tsv: one tab-separated record a line, first field its kind (easy for sh + awk). */
export function manifestTsv(m: Manifest): string {
  const lines = [`release\t${m.release}`, `platform\t${m.platform ?? "-"}`];
  for (const c of m.components) {
    const paths = c.paths.length === 0 ? "-" : c.paths.join(",");
    lines.push(`component\t${c.name}\t${c.epoch}\t${c.baseline}\t${c.onFailure}\t${paths}`);
  }
  for (const s of m.scripts) {
    lines.push(
      `script\t${s.order}\t${s.id}\t${s.sha256}\t${s.component}\t${s.from}\t${s.to}\t${s.file}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** manifest.json: the same, for tools. */
export function manifestJson(m: Manifest): string {
  return `${JSON.stringify({ schemaVersion: 1, ...m }, null, 2)}\n`;
}

/** Reads manifest.tsv back (for verify); null when it is not a manifest. */
export function parseManifestTsv(text: string): Manifest | null {
  let release: string | null = null;
  let platform: string | null | undefined;
  const components: ManifestComponent[] = [];
  const scripts: ManifestScript[] = [];
  const int = (s: string | undefined) =>
    s !== undefined && /^\d+$/.test(s) ? Number(s) : Number.NaN;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const f = line.split("\t");
    switch (f[0]) {
      case "release":
        release = f[1] ?? null;
        break;
      case "platform":
        platform = f[1] === "-" ? null : (f[1] ?? null);
        break;
      case "component":
        if (f.length !== 6) return null;
        components.push({
          name: f[1] as string,
          epoch: int(f[2]),
          baseline: int(f[3]),
          onFailure: f[4] as Component["onFailure"],
          paths: f[5] === "-" ? [] : (f[5] as string).split(","),
        });
        break;
      case "script":
        if (f.length !== 8) return null;
        scripts.push({
          order: int(f[1]),
          id: f[2] as string,
          sha256: f[3] as string,
          component: f[4] as string,
          from: int(f[5]),
          to: int(f[6]),
          file: f[7] as string,
        });
        break;
      default:
        return null;
    }
  }
  if (release === null || platform === undefined) return null;
  const numbers = [
    ...components.flatMap((c) => [c.epoch, c.baseline]),
    ...scripts.flatMap((s) => [s.order, s.from, s.to]),
  ];
  if (numbers.some((x) => Number.isNaN(x))) return null;
  return { release, platform, components, scripts };
}
