import semver from "semver";

/**
 * A second, deliberately naive reading of DESIGN.md ("Hop legality", "Planning"), used by
 * the property tests to check the planner. It works on the graph's JSON as a user writes
 * it, shares no code with the planner, and uses no index or shortcut: every chain is
 * found by enumerating every path through distinct epochs, every plan by enumerating
 * every sequence of distinct stops. Only for small graphs.
 */

export interface RefComponent {
  wipeable?: boolean;
}

export interface RefRelease {
  version: string;
  epochs: Record<string, number>;
  golden?: boolean;
  transition?: boolean;
  withdrawn?: boolean;
  runner?: boolean;
  ships?: string[];
  upgradeFrom?: string;
  signedBy?: string;
  trusts?: string[];
  platforms?: Record<string, { epochs: Record<string, number> }>;
}

export interface RefMigration {
  id: string;
  component: string;
  from: number;
  to: number;
  shippedIn?: string;
}

export interface RefGraph {
  components: Record<string, RefComponent>;
  releases: RefRelease[];
  migrations: RefMigration[];
}

const RANGES = { includePrerelease: true };

/** "A release ships a migration when it has a runner and its version satisfies shippedIn or its ships names it." */
export function ships(r: RefRelease, m: RefMigration): boolean {
  if (r.runner === false) return false;
  if (r.ships?.includes(m.id)) return true;
  return m.shippedIn !== undefined && semver.satisfies(r.version, m.shippedIn, RANGES);
}

/** A release's epochs after the platform's overrides. */
export function epochsOf(
  g: RefGraph,
  r: RefRelease,
  platform: string | null,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.keys(g.components)) {
    out[c] =
      (platform !== null ? r.platforms?.[platform]?.epochs[c] : undefined) ??
      (r.epochs[c] as number);
  }
  return out;
}

export interface RefChain {
  preFlash: string[];
  boot: string[];
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Fewest scripts, then fewer pre-flash scripts, then the smallest sequence of ids. */
function compareChains(x: RefChain, y: RefChain): number {
  const xs = [...x.preFlash, ...x.boot];
  const ys = [...y.preFlash, ...y.boot];
  if (xs.length !== ys.length) return xs.length - ys.length;
  if (x.preFlash.length !== y.preFlash.length) return x.preFlash.length - y.preFlash.length;
  for (let i = 0; i < xs.length; i++) {
    const c = byteCompare(xs[i] as string, ys[i] as string);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Rule 4 for one component: every chain from `from` to `to` through distinct epochs,
 * split anywhere into a part shipped by `a` (pre-flash) and a part shipped by `b` (boot).
 */
export function refChain(
  g: RefGraph,
  component: string,
  from: number,
  to: number,
  a: RefRelease,
  b: RefRelease,
): RefChain | null {
  if (from === to) return { preFlash: [], boot: [] };
  const candidates = g.migrations.filter((m) => m.component === component);
  let best: RefChain | null = null;
  const path: RefMigration[] = [];
  const visited = new Set([from]);
  const walk = (e: number) => {
    if (e === to) {
      for (let k = 0; k <= path.length; k++) {
        const pre = path.slice(0, k);
        const boot = path.slice(k);
        if (!pre.every((m) => ships(a, m)) || !boot.every((m) => ships(b, m))) continue;
        const chain = { preFlash: pre.map((m) => m.id), boot: boot.map((m) => m.id) };
        if (best === null || compareChains(chain, best) < 0) best = chain;
      }
      return;
    }
    for (const m of candidates) {
      if (m.from !== e || visited.has(m.to)) continue;
      visited.add(m.to);
      path.push(m);
      walk(m.to);
      path.pop();
      visited.delete(m.to);
    }
  };
  walk(from);
  return best;
}

export interface RefHop {
  to: string;
  preFlash: string[];
  boot: string[];
  wipe: string[];
}

/** The hop a -> b from data at `data`, or null when it is illegal. */
export function refHop(
  g: RefGraph,
  a: RefRelease,
  data: Record<string, number>,
  b: RefRelease,
  allowWipe: ReadonlySet<string>,
  platform: string | null,
): RefHop | null {
  // 1. B is not A and B is not withdrawn.
  if (semver.eq(a.version, b.version) || b.withdrawn === true) return null;
  // 2. If A has trusts, B's signedBy is in it.
  if (a.trusts !== undefined && (b.signedBy === undefined || !a.trusts.includes(b.signedBy)))
    return null;
  // 3. If B is higher than A and has upgradeFrom, A's version satisfies it.
  if (
    semver.gt(b.version, a.version) &&
    b.upgradeFrom !== undefined &&
    !semver.satisfies(a.version, b.upgradeFrom, RANGES)
  )
    return null;
  // 4. Every component converts by a chain, or is wiped when that is allowed.
  const target = epochsOf(g, b, platform);
  const hop: RefHop = { to: b.version, preFlash: [], boot: [], wipe: [] };
  for (const [name, comp] of Object.entries(g.components)) {
    const chain = refChain(g, name, data[name] as number, target[name] as number, a, b);
    if (chain) {
      hop.preFlash.push(...chain.preFlash);
      hop.boot.push(...chain.boot);
    } else if (comp.wipeable !== false && allowWipe.has(name)) hop.wipe.push(name);
    else return null;
  }
  return hop;
}

export interface RefPlan {
  hops: RefHop[];
  /** wipes, hops, transition releases used as intermediate stops, scripts. */
  cost: [number, number, number, number];
}

export interface RefRequest {
  allowWipe: ReadonlySet<string>;
  platform: string | null;
  /** Data epochs on the device; default the source release's. */
  device?: Record<string, number>;
}

function compareCost(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}

/** Higher versions first, comparing intermediate stops one by one from the first. */
function compareStops(x: RefHop[], y: RefHop[]): number {
  for (let i = 0; i < x.length - 1; i++) {
    const c = semver.compare((y[i] as RefHop).to, (x[i] as RefHop).to);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * The cheapest plan over every sequence of distinct stops. A cheapest plan never flashes
 * a release twice (its data is at that release's epochs both times, so the loop could be
 * cut), and the source may come back only as a stop; partial plans at least as costly as
 * the best complete one are cut, since every further hop adds a hop.
 */
export function refPlan(g: RefGraph, from: string, to: string, req: RefRequest): RefPlan | null {
  const byVersion = new Map(g.releases.map((r) => [r.version, r]));
  const source = byVersion.get(from) as RefRelease;
  const start = req.device ?? epochsOf(g, source, req.platform);
  const standard = JSON.stringify(start) === JSON.stringify(epochsOf(g, source, req.platform));
  if (from === to && standard) return { hops: [], cost: [0, 0, 0, 0] };
  let best: RefPlan | null = null;
  const hops: RefHop[] = [];
  const visited = new Set<string>();
  const walk = (
    at: RefRelease,
    data: Record<string, number>,
    cost: [number, number, number, number],
  ) => {
    if (best !== null && compareCost(cost, best.cost) >= 0) return;
    const leaving = hops.length > 0 && at.transition === true ? 1 : 0;
    for (const next of g.releases) {
      if (visited.has(next.version)) continue;
      const hop = refHop(g, at, data, next, req.allowWipe, req.platform);
      if (hop === null) continue;
      const scripts = hop.preFlash.length + hop.boot.length;
      const c: [number, number, number, number] = [
        cost[0] + hop.wipe.length,
        cost[1] + 1,
        cost[2] + leaving,
        cost[3] + scripts,
      ];
      hops.push(hop);
      if (next.version === to) {
        const order =
          best === null ? -1 : compareCost(c, best.cost) || compareStops(hops, best.hops);
        if (order < 0) best = { hops: [...hops], cost: c };
      } else {
        visited.add(next.version);
        walk(next, epochsOf(g, next, req.platform), c);
        visited.delete(next.version);
      }
      hops.pop();
    }
  };
  walk(source, start, [0, 0, 0, 0]);
  return best;
}

/**
 * The best plans from one source to every release, for graphs too big to enumerate: for
 * k = 1, 2, ... hops, the best k-hop plan to each release extends the best (k-1)-hop plan
 * to the release before it (the cost adds up hop by hop, and the stops tie-break compares
 * that plan's stops first), then the best over k is the plan. A plan that flashes a
 * release twice is never among the best (cutting the loop costs less), so none is lost;
 * for the same reason a k-hop plan to a release already reached in fewer hops with no
 * more wipes is not extended (every extension of it is beaten by the same extension of
 * the shorter one).
 */
export function refPlansFrom(g: RefGraph, from: string, req: RefRequest): Map<string, RefPlan> {
  const source = g.releases.find((r) => r.version === from) as RefRelease;
  const start = req.device ?? epochsOf(g, source, req.platform);
  const memo = new Map<string, RefHop | null>();
  const hop = (a: RefRelease, first: boolean, b: RefRelease) => {
    const key = `${first ? "@" : ""}${a.version} ${b.version}`;
    if (!memo.has(key)) {
      const data = first ? start : epochsOf(g, a, req.platform);
      memo.set(key, refHop(g, a, data, b, req.allowWipe, req.platform));
    }
    return memo.get(key) ?? null;
  };
  const better = (x: RefPlan, y: RefPlan | undefined) =>
    y === undefined || (compareCost(x.cost, y.cost) || compareStops(x.hops, y.hops)) < 0;
  const byVersion = new Map(g.releases.map((r) => [r.version, r]));
  const standard = JSON.stringify(start) === JSON.stringify(epochsOf(g, source, req.platform));
  const best = new Map<string, RefPlan>();
  if (standard) best.set(from, { hops: [], cost: [0, 0, 0, 0] });
  let layer = new Map<string, RefPlan>([[from, { hops: [], cost: [0, 0, 0, 0] }]]);
  for (let k = 1; k <= g.releases.length && layer.size > 0; k++) {
    const next = new Map<string, RefPlan>();
    for (const [at, p] of layer) {
      const a = byVersion.get(at) as RefRelease;
      const leaving = k > 1 && a.transition === true ? 1 : 0;
      for (const b of g.releases) {
        const h = hop(a, k === 1, b);
        if (h === null) continue;
        const n = h.preFlash.length + h.boot.length;
        const c: RefPlan = {
          hops: [...p.hops, h],
          cost: [p.cost[0] + h.wipe.length, k, p.cost[2] + leaving, p.cost[3] + n],
        };
        if (better(c, next.get(b.version))) next.set(b.version, c);
      }
    }
    layer = new Map();
    for (const [v, p] of next) {
      const known = best.get(v);
      if (known !== undefined && known.cost[0] <= p.cost[0]) continue;
      best.set(v, p);
      layer.set(v, p);
    }
  }
  return best;
}
