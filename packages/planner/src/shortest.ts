import { assemblePlan, higherStops, type Plan } from "./assemble.js";
import { type Bits, bitsFor, forEachBit, hasBit, orInto, setBit } from "./bits.js";
import type { PlanContext } from "./context.js";
import { departuresOf, scriptsOf, zeroFrom, zeroTargets } from "./edges.js";
import type { Origin } from "./hop.js";

/**
 * The best plan that wipes nothing, found without costing every hop: when no wipe is
 * needed the cost order starts with hops, so a breadth-first search over bitsets finds
 * the fewest hops, a backward pass keeps only the releases on some shortest path, and
 * only the hops between those are costed (transition stops, scripts, then higher stops
 * first). Returns null when no plan without wipes exists (the caller then runs the
 * general search).
 */
export function planWithoutWipes(ctx: PlanContext, origin: Origin, to: number): Plan | null {
  const n = ctx.n;
  const zeroOf = new Map<number, Bits>();
  const depsOf = new Map<number, number[][]>();
  // Node n is the origin itself (its data may differ from its release's).
  const origins: (Origin | undefined)[] = new Array(n);
  const originOf = (u: number): Origin => {
    if (u === n) return origin;
    let o = origins[u];
    if (o === undefined) {
      o = { release: u, epochs: ctx.releaseEpochs(u) };
      origins[u] = o;
    }
    return o;
  };
  const deps = (u: number) => {
    let d = depsOf.get(u);
    if (!d) {
      d = departuresOf(ctx, originOf(u));
      depsOf.set(u, d);
    }
    return d;
  };
  const zero = (u: number) => {
    let z = zeroOf.get(u);
    if (!z) {
      z = u === n ? zeroTargets(ctx, origin, deps(u)) : zeroFrom(ctx, u);
      zeroOf.set(u, z);
    }
    return z;
  };

  // Forward: layers of releases by fewest hops, until the target's layer.
  const visited = bitsFor(n);
  const layers: number[][] = [[n]];
  for (;;) {
    const next = bitsFor(n);
    for (const u of layers[layers.length - 1] as number[]) orInto(next, zero(u));
    for (let w = 0; w < next.length; w++) next[w] = (next[w] as number) & ~(visited[w] as number);
    const layer: number[] = [];
    forEachBit(next, (v) => layer.push(v));
    if (layer.length === 0) return null;
    orInto(visited, next);
    layers.push(layer);
    if (hasBit(next, to)) break;
  }
  const hops = layers.length - 1;

  // Backward: keep the releases of each layer that lead to the target in the remaining hops.
  const onPath: Bits[] = new Array(hops + 1);
  const last = bitsFor(n);
  setBit(last, to);
  onPath[hops] = last;
  for (let k = hops - 1; k >= 0; k--) {
    const keep = bitsFor(n);
    const target = onPath[k + 1] as Bits;
    for (const u of layers[k] as number[]) {
      if (u !== n && intersects(zero(u), target)) setBit(keep, u);
    }
    onPath[k] = keep;
  }

  // Forward again over that DAG: the best label per release, layer by layer.
  interface Label {
    transitions: number;
    scripts: number;
    parent: number;
    stops: number[];
  }
  let labels = new Map<number, Label>([[n, { transitions: 0, scripts: 0, parent: -1, stops: [] }]]);
  for (let k = 0; k < hops; k++) {
    const next = new Map<number, Label>();
    const target = onPath[k + 1] as Bits;
    for (const [u, lu] of labels) {
      const z = zero(u);
      const tAdd = u !== n && ctx.release(u).transition ? 1 : 0;
      const transitions = lu.transitions + tAdd;
      for (let w = 0; w < z.length; w++) {
        let word = (z[w] as number) & (target[w] as number);
        while (word !== 0) {
          const low = word & -word;
          word ^= low;
          const v = (w << 5) + (31 - Math.clz32(low));
          const scripts = lu.scripts + scriptsOf(ctx, originOf(u), deps(u), v);
          const cur = next.get(v);
          // The label (and its stops) is made only when it wins.
          if (cur && !better(transitions, scripts, lu.stops, u, cur)) continue;
          next.set(v, {
            transitions,
            scripts,
            parent: u,
            stops: u === n ? [] : [...lu.stops, u],
          });
        }
      }
    }
    labels = next;
  }
  const end = labels.get(to);
  if (!end) return null;

  return assemblePlan(ctx, origin, [...end.stops, to], {
    hops,
    wipes: 0,
    transitions: end.transitions,
    scripts: end.scripts,
  });

  /** Is the label (transitions, scripts, stops ++ [u] unless u is the origin) better than b? */
  function better(
    transitions: number,
    scripts: number,
    stops: readonly number[],
    u: number,
    b: Label,
  ): boolean {
    if (transitions !== b.transitions) return transitions < b.transitions;
    if (scripts !== b.scripts) return scripts < b.scripts;
    // Equal cost: higher stops first (the stops then u, unless u is the origin).
    return u !== n && higherStops(stops, b.stops, u);
  }
}

/** Do two bitsets share a bit? */
function intersects(a: Bits, b: Bits): boolean {
  for (let w = 0; w < a.length; w++) if (((a[w] as number) & (b[w] as number)) !== 0) return true;
  return false;
}
