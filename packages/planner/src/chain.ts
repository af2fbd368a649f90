import type { Epoch, Migration } from "@stepstone/graph";

/**
 * A chain of one component's migrations from the data's epoch to the target's: a first
 * part shipped by the running image (run before flashing) and the rest shipped by the
 * target image (run at its boot).
 */
export interface Chain {
  readonly preFlash: readonly Migration[];
  readonly boot: readonly Migration[];
}

/**
 * One component's migrations available at an epoch: those leaving it (or, for a
 * reverse search, those arriving at it).
 */
export type EpochEdges = (epoch: Epoch) => readonly Migration[];

export const NO_EDGES: EpochEdges = () => [];

function groupBy(
  migrations: readonly Migration[],
  key: (m: Migration) => Epoch,
): Map<Epoch, Migration[]> {
  const out = new Map<Epoch, Migration[]>();
  for (const m of migrations) {
    const list = out.get(key(m));
    if (list) list.push(m);
    else out.set(key(m), [m]);
  }
  return out;
}

/** Migrations grouped by the epoch they leave. */
export function groupByFrom(migrations: readonly Migration[]): Map<Epoch, Migration[]> {
  return groupBy(migrations, (m) => m.from);
}

/** Migrations grouped by the epoch they reach. */
export function groupByTo(migrations: readonly Migration[]): Map<Epoch, Migration[]> {
  return groupBy(migrations, (m) => m.to);
}

/** Edges leaving each epoch, from a list of migrations. */
export function edgesFrom(migrations: readonly Migration[]): EpochEdges {
  const map = groupByFrom(migrations);
  return (e) => map.get(e) ?? [];
}

/** Edges arriving at each epoch, from a list of migrations. */
export function edgesTo(migrations: readonly Migration[]): EpochEdges {
  const map = groupByTo(migrations);
  return (e) => map.get(e) ?? [];
}

/** Fewest scripts from `start` to every epoch reachable through `edges` (BFS). */
export function distancesFrom(start: Epoch, edges: EpochEdges): Map<Epoch, number> {
  const dist = new Map<Epoch, number>([[start, 0]]);
  let frontier: Epoch[] = [start];
  for (let d = 1; frontier.length > 0; d++) {
    const next: Epoch[] = [];
    for (const e of frontier) {
      for (const m of edges(e)) {
        if (!dist.has(m.to)) {
          dist.set(m.to, d);
          next.push(m.to);
        }
      }
    }
    frontier = next;
  }
  return dist;
}

/** Fewest scripts from every epoch that can reach `goal` through the edges (reverse BFS). */
export function distancesTo(goal: Epoch, reverse: EpochEdges): Map<Epoch, number> {
  const dist = new Map<Epoch, number>([[goal, 0]]);
  let frontier: Epoch[] = [goal];
  for (let d = 1; frontier.length > 0; d++) {
    const next: Epoch[] = [];
    for (const e of frontier) {
      for (const m of reverse(e)) {
        if (!dist.has(m.from)) {
          dist.set(m.from, d);
          next.push(m.from);
        }
      }
    }
    frontier = next;
  }
  return dist;
}

/** Fewest scripts of a chain, given the source side's distances and the target side's. */
export function chainLength(
  fromSource: ReadonlyMap<Epoch, number>,
  toTarget: ReadonlyMap<Epoch, number>,
): number {
  let best = Number.POSITIVE_INFINITY;
  // The source side is almost always the smaller map (an image rarely ships scripts
  // leading away from its own epoch), so iterate it and look up the other.
  for (const [epoch, d1] of fromSource) {
    const d2 = toTarget.get(epoch);
    if (d2 !== undefined && d1 + d2 < best) best = d1 + d2;
  }
  return best;
}

interface Label {
  scripts: number;
  pre: number;
  ids: string[];
  chain: Migration[];
  /** Index in `chain` where the target's part starts; -1 while still on the source. */
  split: number;
}

/**
 * The chain the planner and the runner both pick: fewest scripts, then fewer pre-flash
 * scripts, then the smallest sequence of ids (compared as byte strings, like `sort` in
 * the C locale on the device). Null when no chain exists.
 *
 * A search over (epoch, phase) states by number of scripts (every script costs one, so
 * layers of a breadth-first search are Dijkstra's order): phase 0 uses the source's
 * scripts, phase 1 the target's, and the switch from 0 to 1 is free. Within a layer each
 * state keeps its best label: two labels of one length that reach a state keep their
 * order whatever follows. A cheapest chain never visits an epoch twice (switching phase
 * at the first visit is strictly shorter), so "through distinct epochs" holds without
 * tracking it.
 */
export function bestChain(
  from: Epoch,
  to: Epoch,
  sourceEdges: EpochEdges,
  targetEdges: EpochEdges,
): Chain | null {
  if (from === to) return { preFlash: [], boot: [] };
  // Per phase: the epochs settled, and the layer's labels by epoch.
  const settled = [new Set<Epoch>(), new Set<Epoch>()] as const;
  const start: Label = { scripts: 0, pre: 0, ids: [], chain: [], split: -1 };
  let layer = [new Map([[from, start]]), new Map([[from, { ...start, split: 0 }]])] as const;
  while (layer[0].size + layer[1].size > 0) {
    const done = layer[1].get(to);
    if (done) {
      const split = done.split < 0 ? done.chain.length : done.split;
      return { preFlash: done.chain.slice(0, split), boot: done.chain.slice(split) };
    }
    for (const p of [0, 1] as const) for (const e of layer[p].keys()) settled[p].add(e);
    const next = [new Map<Epoch, Label>(), new Map<Epoch, Label>()] as const;
    const offer = (p: 0 | 1, e: Epoch, label: Label) => {
      if (settled[p].has(e)) return;
      const cur = next[p].get(e);
      if (!cur || compareLabels(label, cur) < 0) next[p].set(e, label);
    };
    for (const [e, label] of layer[0])
      for (const m of sourceEdges(e)) offer(0, m.to, extend(label, m, 1));
    for (const [e, label] of layer[1])
      for (const m of targetEdges(e)) offer(1, m.to, extend(label, m, 0));
    // The free switch to the target's scripts, within the layer.
    for (const [e, label] of next[0]) offer(1, e, { ...label, split: label.chain.length });
    layer = next;
  }
  return null;
}

function extend(label: Label, m: Migration, pre: number): Label {
  return {
    scripts: label.scripts + 1,
    pre: label.pre + pre,
    ids: [...label.ids, m.id],
    chain: [...label.chain, m],
    split: label.split,
  };
}

function compareLabels(a: Label, b: Label): number {
  if (a.scripts !== b.scripts) return a.scripts - b.scripts;
  if (a.pre !== b.pre) return a.pre - b.pre;
  return compareIdSequences(a.ids, b.ids);
}

export function compareIdSequences(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
