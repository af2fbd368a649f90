import { type Component, type Epoch, isOnFailure, type Migration } from "@stepstone/graph";
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

/** A public key of the image's trust store: `keys/<id>.pem` in the bundle folder. */
export interface ManifestKey {
  readonly id: string;
  readonly sha256: string;
  /** Path inside the bundle folder: keys/<id>.pem. */
  readonly file: string;
}

export interface Manifest {
  readonly release: string;
  readonly platform: string | null;
  readonly components: readonly ManifestComponent[];
  /** The keys the image trusts, sorted by id (empty: it carries none). */
  readonly keys: readonly ManifestKey[];
  readonly scripts: readonly ManifestScript[];
}

/** Where a trusted key goes in the bundle folder. */
export function keyFile(id: string): string {
  return `keys/${id}.pem`;
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
  keys: readonly ManifestKey[] = [],
): Manifest {
  const release = ctx.release(r);
  const scripts = manifestOrder(ctx, r).map((m, i) => ({
    order: i + 1,
    id: m.id,
    sha256: hash(m),
    component: m.component,
    from: m.from,
    to: m.to,
    file: scriptFile(i + 1, m),
  }));
  return {
    release: release.version,
    platform: ctx.platform,
    components: components(ctx, r),
    keys,
    scripts,
  };
}

/** The manifest's components (see buildManifest). */
export function components(ctx: PlanContext, r: number): ManifestComponent[] {
  return ctx.components.map((c, ci) => ({
    name: c.name,
    epoch: ctx.epoch(r, ci),
    baseline: c.baseline,
    onFailure: c.onFailure,
    paths: c.paths,
  }));
}

/** The migrations release r ships, in the manifest's (run) order (see buildManifest). */
export function manifestOrder(ctx: PlanContext, r: number): Migration[] {
  const byComponent = new Map<string, Migration[]>(ctx.components.map((c) => [c.name, []]));
  const shipped: Migration[] = [];
  for (const m of ctx.graph.migrations) {
    if (!ctx.shipping.ships(r, m)) continue;
    shipped.push(m);
    byComponent.get(m.component)?.push(m);
  }
  const shippedIds = new Set(shipped.map((m) => m.id));
  const ordered: Migration[] = [];
  for (const own of byComponent.values()) {
    for (const m of respectAfter(own.sort(chainOrder), shippedIds)) ordered.push(m);
  }
  return ordered;
}

/**
 * A script's file name inside the bundle folder, for people (the runner reads names from
 * the manifest, never parses them): the run order, then what it converts. An id that
 * says it already (`network-1-2-ipv6-ra`, as sync names them) is not repeated:
 * `0001-network-1-2-ipv6-ra.sh`, but `0002-users-2-3-fix-groups.sh` for an id `fix-groups`.
 */
export function scriptFile(order: number, m: Migration): string {
  const says = `${m.component}-${m.from}-${m.to}`;
  const name = m.id === says || m.id.startsWith(`${says}-`) ? m.id : `${says}-${m.id}`;
  return `${String(order).padStart(4, "0")}-${name}.sh`;
}

function chainOrder(a: Migration, b: Migration): number {
  const upA = a.to > a.from;
  const upB = b.to > b.from;
  if (upA !== upB) return upA ? -1 : 1;
  if (a.from !== b.from) return upA ? a.from - b.from : b.from - a.from;
  if (a.to !== b.to) return a.to - b.to;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A stable topological order: each migration after the shipped ones of the list it names
 * in `after`. Repeatedly takes the first migration (in list order) whose such
 * predecessors are all placed, or the first one left if none is ready (validation rejects
 * `after` cycles, so that never happens): Kahn's algorithm, taking the smallest ready
 * index from a heap, O(n log n) where a scan of the list per pick was O(n^2).
 */
export function respectAfter(
  list: readonly Migration[],
  shippedIds: ReadonlySet<string>,
): Migration[] {
  const ids = new Set<string>();
  for (const m of list) if (shippedIds.has(m.id)) ids.add(m.id);
  // Who waits for whom (only for `after` naming a migration of the list, each name once).
  let waiting: number[] | undefined;
  const waiters = new Map<string, number[]>();
  list.forEach((m, i) => {
    for (const dep of m.after) {
      if (!ids.has(dep)) continue;
      const w = waiters.get(dep);
      if (w?.[w.length - 1] === i) continue;
      if (w) w.push(i);
      else waiters.set(dep, [i]);
      waiting ??= new Array<number>(list.length).fill(0);
      waiting[i] = (waiting[i] ?? 0) + 1;
    }
  });
  if (waiting === undefined) return [...list];
  return kahn(list, waiting, waiters);
}

/** Repeatedly the first ready migration in list order, else the first one left. */
function kahn(
  list: readonly Migration[],
  waiting: number[],
  waiters: ReadonlyMap<string, readonly number[]>,
): Migration[] {
  const heap = new MinHeap();
  waiting.forEach((w, i) => {
    if (w === 0) heap.push(i);
  });
  const placed = new Array<boolean>(list.length).fill(false);
  const placedIds = new Set<string>();
  const out: Migration[] = [];
  let first = 0;
  while (out.length < list.length) {
    let i = heap.pop();
    while (i !== undefined && placed[i]) i = heap.pop();
    if (i === undefined) {
      while (placed[first]) first++;
      i = first;
    }
    placed[i] = true;
    const m = list[i] as Migration;
    out.push(m);
    if (placedIds.has(m.id)) continue;
    placedIds.add(m.id);
    for (const j of waiters.get(m.id) ?? []) {
      waiting[j] = (waiting[j] ?? 0) - 1;
      if (waiting[j] === 0 && !placed[j]) heap.push(j);
    }
  }
  return out;
}

class MinHeap {
  readonly #a: number[] = [];
  push(x: number): void {
    const a = this.#a;
    let i = a.push(x) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= x) break;
      a[i] = a[p] as number;
      i = p;
    }
    a[i] = x;
  }
  pop(): number | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= a.length) break;
      if (c + 1 < a.length && (a[c + 1] as number) < (a[c] as number)) c++;
      if ((a[c] as number) >= last) break;
      a[i] = a[c] as number;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** manifest.tsv: one tab-separated record a line, first field its kind (easy for sh + awk). */
export function manifestTsv(m: Manifest): string {
  const lines = [`release\t${m.release}`, `platform\t${m.platform ?? "-"}`];
  for (const c of m.components) {
    const paths = c.paths.length === 0 ? "-" : c.paths.join(",");
    lines.push(`component\t${c.name}\t${c.epoch}\t${c.baseline}\t${c.onFailure}\t${paths}`);
  }
  for (const k of m.keys) lines.push(`key\t${k.id}\t${k.sha256}\t${k.file}`);
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
  const keys: ManifestKey[] = [];
  const scripts: ManifestScript[] = [];
  const int = (s: string | undefined) =>
    s !== undefined && /^\d+$/.test(s) ? Number(s) : Number.NaN;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const f = line.split("\t");
    // Each kind of line checks its number of fields first: `at` reads one of them.
    const at = (i: number): string => f[i] ?? "";
    switch (f[0]) {
      case "release":
        release = f[1] ?? null;
        break;
      case "platform":
        platform = f[1] === "-" ? null : (f[1] ?? null);
        break;
      case "component":
        if (f.length !== 6 || !isOnFailure(f[4])) return null;
        components.push({
          name: at(1),
          epoch: int(f[2]),
          baseline: int(f[3]),
          onFailure: f[4],
          paths: f[5] === "-" ? [] : at(5).split(","),
        });
        break;
      case "key":
        if (f.length !== 4) return null;
        keys.push({ id: at(1), sha256: at(2), file: at(3) });
        break;
      case "script":
        if (f.length !== 8) return null;
        scripts.push({
          order: int(f[1]),
          id: at(2),
          sha256: at(3),
          component: at(4),
          from: int(f[5]),
          to: int(f[6]),
          file: at(7),
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
  return { release, platform, components, keys, scripts };
}
