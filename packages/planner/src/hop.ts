import type { Epoch, Migration, Release } from "@stepstone/graph";
import { bestChain, NO_EDGES } from "./chain.js";
import type { PlanContext } from "./context.js";

/** Where a hop starts: a release, and the data epochs on the device (per component index). */
export interface Origin {
  readonly release: number;
  readonly epochs: Int32Array;
}

/** Which components a plan may wipe, by component index. */
export type WipeMask = Uint8Array;

export type BlockerCode = "wipe" | "key" | "upgradeFrom" | "runner" | "noChain" | "withdrawn";

export interface Blocker {
  readonly code: BlockerCode;
  readonly component?: string;
  readonly key?: string;
  readonly message: string;
}

export interface HopDetail {
  readonly from: Release;
  readonly to: Release;
  readonly direction: "upgrade" | "downgrade";
  readonly preFlash: readonly Migration[];
  readonly boot: readonly Migration[];
  readonly wipe: readonly string[];
}

/** Cost of a legal hop, or -1 for an illegal one. Hot path: no allocation. */
export interface HopCostOut {
  wipes: number;
  scripts: number;
}

/**
 * DESIGN.md "Hop legality", rules 1-4, for the hop origin -> b. Returns false when the hop
 * is illegal under `allow`; otherwise fills `out` with its wipes and scripts.
 */
export function hopCost(
  ctx: PlanContext,
  origin: Origin,
  b: number,
  allow: WipeMask,
  out: HopCostOut,
): boolean {
  const a = origin.release;
  const target = ctx.release(b);
  if (target.withdrawn) return false;
  if (!ctx.trusted(a, b)) return false;
  if (!ctx.upgradeAllowed(a, b)) return false;
  let wipes = 0;
  let scripts = 0;
  const base = b * ctx.c;
  for (let ci = 0; ci < ctx.c; ci++) {
    const start = origin.epochs[ci] as Epoch;
    if (start === ctx.epochs[base + ci]) continue;
    const len = ctx.chainLength(a, start, b, ci);
    if (len !== Number.POSITIVE_INFINITY) scripts += len;
    else if (ctx.wipeable[ci] === 1 && allow[ci] === 1) wipes++;
    else return false;
  }
  out.wipes = wipes;
  out.scripts = scripts;
  return true;
}

/** The scripts and wipes of a legal hop, with the same chain choice as the runner. */
export function hopDetail(ctx: PlanContext, origin: Origin, b: number): HopDetail {
  const a = origin.release;
  const preFlash: Migration[] = [];
  const boot: Migration[] = [];
  const wipe: string[] = [];
  for (let ci = 0; ci < ctx.c; ci++) {
    const chain = componentChain(ctx, origin, b, ci);
    if (chain === null) wipe.push(ctx.component(ci).name);
    else {
      preFlash.push(...chain.preFlash);
      boot.push(...chain.boot);
    }
  }
  const from = ctx.release(a);
  const to = ctx.release(b);
  return {
    from,
    to,
    direction: b > a ? "upgrade" : "downgrade",
    preFlash: orderScripts(ctx, preFlash),
    boot: orderScripts(ctx, boot),
    wipe,
  };
}

/**
 * Component ci's scripts on the hop origin -> b (the runner's chain choice), empty when its
 * data is already at b's epoch, null when no chain exists (a wipe).
 */
export function componentChain(
  ctx: PlanContext,
  origin: Origin,
  b: number,
  ci: number,
): { preFlash: readonly Migration[]; boot: readonly Migration[] } | null {
  const a = origin.release;
  const start = origin.epochs[ci] as Epoch;
  const goal = ctx.epoch(b, ci);
  if (start === goal) return { preFlash: [], boot: [] };
  // A source whose scripts take this data nowhere leaves the whole chain to the target.
  const stays = ctx.departuresFrom(a, ci, start).length === 2;
  const alone = stays ? ctx.bootChain(b, ci, start) : undefined;
  if (alone === undefined)
    return bestChain(start, goal, ctx.forwardEdges(a, ci), ctx.towardOwnEpoch(b, ci));
  return alone === null ? null : { preFlash: [], boot: alone };
}

/**
 * Scripts run component by component in the graph's component order (derived from
 * `after`), each component's chain in chain order: the order the runner uses.
 */
function orderScripts(ctx: PlanContext, scripts: Migration[]): Migration[] {
  const rank = new Map(ctx.components.map((c, i) => [c.name, i]));
  return scripts
    .map((m, i) => ({ m, i }))
    .sort((x, y) => (rank.get(x.m.component) ?? 0) - (rank.get(y.m.component) ?? 0) || x.i - y.i)
    .map((x) => x.m);
}

/** Every reason the hop origin -> b is illegal under `allow` (empty if it is legal). */
export function blockersOf(
  ctx: PlanContext,
  origin: Origin,
  b: number,
  allow: WipeMask,
): Blocker[] {
  const a = origin.release;
  const from = ctx.release(a);
  const to = ctx.release(b);
  const hop = `${from.version} -> ${to.version}`;
  const out: Blocker[] = [];
  if (to.withdrawn) {
    out.push({
      code: "withdrawn",
      message: `${to.version} is withdrawn: it is never a stop or a target`,
    });
    return out;
  }
  if (!ctx.trusted(a, b)) {
    const key = to.signedBy;
    out.push({
      code: "key",
      ...(key !== null && { key }),
      message:
        key === null
          ? `${from.version} only accepts signed images (trusts ${fmtList(from.trusts)}), and ${to.version} has no signedBy`
          : `${from.version} does not trust key "${key}" that signs ${to.version} (it trusts ${fmtList(from.trusts)}); a release that trusts both keys must come in between`,
    });
  }
  if (!ctx.upgradeAllowed(a, b)) {
    out.push({
      code: "upgradeFrom",
      message: `${to.version} upgrades only from "${to.upgradeFrom?.raw}", which ${from.version} does not satisfy: stop at a release in that range first`,
    });
  }
  for (let ci = 0; ci < ctx.c; ci++) {
    const start = origin.epochs[ci] as Epoch;
    const goal = ctx.epoch(b, ci);
    if (start === goal) continue;
    if (ctx.chainLength(a, start, b, ci) !== Number.POSITIVE_INFINITY) continue;
    if (ctx.wipeable[ci] === 1 && allow[ci] === 1) continue;
    out.push(componentBlocker(ctx, a, b, ci, start, goal, hop));
  }
  return out;
}

function componentBlocker(
  ctx: PlanContext,
  a: number,
  b: number,
  ci: number,
  start: Epoch,
  goal: Epoch,
  hop: string,
): Blocker {
  const comp = ctx.component(ci);
  const from = ctx.release(a);
  const to = ctx.release(b);
  const existsAnywhere = bestChain(start, goal, ctx.allEdges(ci), NO_EDGES) !== null;
  const what = `${comp.name} ${start} -> ${goal} on the hop ${hop}: no chain of migrations shipped by ${from.version} (to run before flashing) and ${to.version} (to run at boot)`;
  if (existsAnywhere && (!from.runner || !to.runner)) {
    const none = [from, to].filter((r) => !r.runner).map((r) => r.version);
    return {
      code: "runner",
      component: comp.name,
      message: `${what}; ${none.join(" and ")} ${none.length > 1 ? "have" : "has"} no runner, so the scripts that exist cannot run there: stop at a release with a runner that ships them (see gaps --suggest)`,
    };
  }
  if (comp.wipeable) {
    return {
      code: "wipe",
      component: comp.name,
      message: `${what}; allow wiping it with --allow-wipe ${comp.name}, or add a transition release that ships the chain (see gaps --suggest)`,
    };
  }
  return {
    code: "noChain",
    component: comp.name,
    message: existsAnywhere
      ? `${what}; ${comp.name} must never be wiped: add a transition release that ships the chain (see gaps --suggest)`
      : `${what}, and no migration ${start} -> ${goal} exists at all; ${comp.name} must never be wiped: write that migration`,
  };
}

function fmtList(xs: readonly string[] | null): string {
  return xs === null ? "any key" : xs.length === 0 ? "no key" : xs.map((x) => `"${x}"`).join(", ");
}

/** Which components a plan may wipe: names, "all" wipeable ones, or "none". */
export type WipeAllowance = readonly string[] | "all" | "none";

export function allowMask(ctx: PlanContext, allow: WipeAllowance): WipeMask {
  const mask = new Uint8Array(ctx.c);
  ctx.components.forEach((c, i) => {
    if (c.wipeable && (allow === "all" || (allow !== "none" && allow.includes(c.name))))
      mask[i] = 1;
  });
  return mask;
}

export function releaseOrigin(ctx: PlanContext, r: number): Origin {
  return { release: r, epochs: ctx.releaseEpochs(r) };
}

/**
 * The hop from -> to on a device whose data is at `from`'s epochs: the scripts each side
 * runs (the runner's chain choice) and the components it wipes. Whether the hop is legal
 * is hopBlockers'.
 */
export function hop(ctx: PlanContext, from: Release, to: Release): HopDetail {
  const a = ctx.releaseIndex(from);
  return hopDetail(ctx, releaseOrigin(ctx, a), ctx.releaseIndex(to));
}

/** Why the hop from -> to is illegal with these wipes allowed (DESIGN.md rules 1-4); [] when legal. */
export function hopBlockers(
  ctx: PlanContext,
  from: Release,
  to: Release,
  allowWipe: WipeAllowance = "none",
): Blocker[] {
  const a = ctx.releaseIndex(from);
  return blockersOf(ctx, releaseOrigin(ctx, a), ctx.releaseIndex(to), allowMask(ctx, allowWipe));
}
