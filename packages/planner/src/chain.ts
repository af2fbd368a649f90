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

/** A chain as a linked list from its last script back (no copies while searching). */
interface Label {
  readonly scripts: number;
  readonly pre: number;
  readonly last: Migration | null;
  readonly prev: Label | null;
  /** Number of scripts before the target's part starts; -1 while still on the source. */
  readonly split: number;
}

function chainOf(label: Label): Migration[] {
  const out: Migration[] = new Array(label.scripts);
  for (
    let l: Label | null = label, i = label.scripts - 1;
    l !== null && l.last !== null;
    l = l.prev
  )
    out[i--] = l.last;
  return out;
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
  // Per phase: the epochs settled, and the layer's states (a few: plain arrays, scanned).
  // Every label of a layer has the layer's number of scripts, so labels compare by
  // pre-flash scripts, then ids.
  const settled = [new Set<Epoch>(), new Set<Epoch>()] as const;
  let layer: [State[], State[]] = [
    [{ epoch: from, label: { scripts: 0, pre: 0, last: null, prev: null, split: -1 } }],
    [{ epoch: from, label: { scripts: 0, pre: 0, last: null, prev: null, split: 0 } }],
  ];
  while (layer[0].length + layer[1].length > 0) {
    const done = find(layer[1], to);
    if (done) {
      const chain = chainOf(done.label);
      const split = done.label.split < 0 ? chain.length : done.label.split;
      return { preFlash: chain.slice(0, split), boot: chain.slice(split) };
    }
    for (let p = 0; p < 2; p++) {
      const states = layer[p] as State[];
      for (let i = 0; i < states.length; i++) settled[p as 0 | 1].add((states[i] as State).epoch);
    }
    const next: [State[], State[]] = [[], []];
    // label + m into phase p; the new label (and its chain) is made only when it wins.
    const offer = (p: 0 | 1, label: Label, m: Migration, pre: number) => {
      if (settled[p].has(m.to)) return;
      const cur = find(next[p], m.to);
      if (cur && compareChains(label.pre + pre, label, m, cur.label) >= 0) return;
      const won: Label = {
        scripts: label.scripts + 1,
        pre: label.pre + pre,
        last: m,
        prev: label,
        split: label.split,
      };
      if (cur) cur.label = won;
      else next[p].push({ epoch: m.to, label: won });
    };
    for (let p = 0 as 0 | 1; p < 2; p++) {
      const states = layer[p];
      for (let i = 0; i < states.length; i++) {
        const { epoch, label } = states[i] as State;
        const edges = p === 0 ? sourceEdges(epoch) : targetEdges(epoch);
        for (let j = 0; j < edges.length; j++) offer(p, label, edges[j] as Migration, 1 - p);
      }
    }
    // The free switch to the target's scripts, within the layer.
    for (let i = 0; i < next[0].length; i++) {
      const { epoch, label } = next[0][i] as State;
      if (settled[1].has(epoch)) continue;
      const cur = find(next[1], epoch);
      if (cur && compareChains(label.pre, label, null, cur.label) >= 0) continue;
      const switched: Label = { ...label, split: label.scripts };
      if (cur) cur.label = switched;
      else next[1].push({ epoch, label: switched });
    }
    layer = next;
  }
  return null;
}

interface State {
  readonly epoch: Epoch;
  label: Label;
}

function find(states: readonly State[], epoch: Epoch): State | undefined {
  for (let i = 0; i < states.length; i++)
    if ((states[i] as State).epoch === epoch) return states[i];
  return undefined;
}

/** (pre, ids of chain + last) against b's, both of one length: fewer pre-flash scripts, then smaller ids. */
/**
 * (pre, ids of label + last) against b's, both of one length: fewer pre-flash scripts,
 * then the smaller id sequence. The sequences are only built on a tie of pre.
 */
function compareChains(pre: number, label: Label, last: Migration | null, b: Label): number {
  if (pre !== b.pre) return pre - b.pre;
  const x = chainOf(label);
  if (last !== null) x.push(last);
  const y = chainOf(b);
  for (let i = 0; i < x.length && i < y.length; i++) {
    const xi = (x[i] as Migration).id;
    const yi = (y[i] as Migration).id;
    if (xi !== yi) return xi < yi ? -1 : 1;
  }
  return x.length - y.length;
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
