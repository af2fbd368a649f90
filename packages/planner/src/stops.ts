import type { Release } from "@stepstone/graph";
import type { PlanContext } from "./context.js";
import { type Blocker, type BlockerCode, blockersOf, type Origin, type WipeMask } from "./hop.js";
import { allowMask, releaseOrigin } from "./plan.js";

/** Why a plan stops at a release: what breaks the hop that would skip it. */
export interface StopReason {
  /** A blocker's code, or `data`: the device's own data must be converted on the way. */
  readonly code: BlockerCode | "data";
  readonly component?: string;
  readonly key?: string;
  readonly message: string;
}

/**
 * Why each intermediate stop of a plan is needed: what breaks the hop that would skip it
 * (from where the device is before the stop straight to the release after it). When that
 * hop is legal but wipes more, the reason is the wipe the stop avoids. Of the components
 * whose data has no chain on that hop, the first three are explained; `more` names the rest.
 */
export function stopReasons(
  ctx: PlanContext,
  from: number,
  steps: readonly { readonly to: Release }[],
  deviceEpochs?: Int32Array,
  allowWipe: readonly string[] | "all" = [],
): { stop: Release; why: StopReason[]; more: string[] }[] {
  const allow = allowMask(ctx, allowWipe);
  const none = allowMask(ctx, "none");
  const index = (r: Release) => ctx.releases.indexOf(r);
  const out: { stop: Release; why: StopReason[]; more: string[] }[] = [];
  const fromVersion = (ctx.releases[from] as Release).version;
  let at: Origin = { release: from, epochs: deviceEpochs ?? ctx.releaseEpochs(from) };
  for (let i = 0; i + 1 < steps.length; i++) {
    const stop = (steps[i] as { to: Release }).to;
    const after = index((steps[i + 1] as { to: Release }).to);
    let why: StopReason[];
    let more: string[] = [];
    if (at.release === after) {
      why = [
        {
          code: "data",
          message: `the device's data is not at ${fromVersion}'s epochs: ${stop.version} converts it before the device comes back`,
        },
      ];
    } else {
      ({ why, more } = skipBlockers(ctx, at, after, allow));
      if (why.length === 0) {
        const wiping = skipBlockers(ctx, at, after, none);
        more = wiping.more;
        why = wiping.why.map((b) => ({
          ...b,
          message: `skipping ${stop.version} would wipe ${b.component ?? "data"}: ${b.message.split(";")[0]}`,
        }));
      }
    }
    out.push({ stop, why, more });
    at = releaseOrigin(ctx, index(stop));
  }
  return out;
}

const blockerCache = new WeakMap<PlanContext, Map<string, Blocker[]>>();

/** Explained components of a skipped hop: the first few; the others are only named. */
const EXPLAINED = 3;

interface SkipBlockers {
  readonly why: Blocker[];
  /** Components that also have no chain on that hop (not explained, to stay cheap). */
  readonly more: string[];
}

/**
 * `hopBlockers` of a skipped hop, cheap enough for thousands of device states: the rules
 * about the two releases (key, upgradeFrom, withdrawn) in full, and the components whose
 * data has no chain found with `chainLength`, of which only the first few are explained
 * (explaining one searches every migration of its component).
 */
function skipBlockers(ctx: PlanContext, at: Origin, b: number, allow: WipeMask): SkipBlockers {
  let cache = blockerCache.get(ctx);
  if (!cache) {
    cache = new Map();
    blockerCache.set(ctx, cache);
  }
  const goal = ctx.releaseEpochs(b);
  const blocked = blockedComponents(ctx, at, b, allow);
  // Components that are not explained are put at the target's epochs: no blocker.
  const epochs = Int32Array.from(goal);
  let explained = "";
  blocked.slice(0, EXPLAINED).forEach((ci) => {
    epochs[ci] = at.epochs[ci] as number;
    explained += `${ci}=${at.epochs[ci]},`;
  });
  const more = blocked.slice(EXPLAINED).map((ci) => (ctx.components[ci] as { name: string }).name);
  // A component's blocker depends on the two releases and its own epoch only: devices
  // whose explained components are the same share the explanation.
  const key = `${allow.join("")}:${at.release}:${b}:${explained}`;
  let why = cache.get(key);
  if (!why) {
    why = blockersOf(ctx, { release: at.release, epochs }, b, allow);
    cache.set(key, why);
  }
  return { why, more };
}

const blockedCache = new WeakMap<PlanContext, Map<string, number[]>>();

/**
 * The components whose data has no chain on the hop at -> b (and may not be wiped), in
 * component order. Found once for a release's own data; a device's differs only in the
 * components whose data differs.
 */
function blockedComponents(ctx: PlanContext, at: Origin, b: number, allow: WipeMask): number[] {
  const goal = ctx.releaseEpochs(b);
  const isBlocked = (ci: number, start: number) =>
    start !== goal[ci] &&
    ctx.chainLength(at.release, start, b, ci) === Number.POSITIVE_INFINITY &&
    !(ctx.wipeable[ci] === 1 && allow[ci] === 1);
  let cache = blockedCache.get(ctx);
  if (!cache) {
    cache = new Map();
    blockedCache.set(ctx, cache);
  }
  const key = `${allow.join("")}:${at.release}:${b}`;
  const own = ctx.releaseEpochs(at.release);
  let standard = cache.get(key);
  if (!standard) {
    standard = [];
    for (let ci = 0; ci < ctx.c; ci++) if (isBlocked(ci, own[ci] as number)) standard.push(ci);
    cache.set(key, standard);
  }
  let out: number[] | null = null;
  for (let ci = 0; ci < ctx.c; ci++) {
    const start = at.epochs[ci] as number;
    if (start === own[ci]) continue;
    out ??= [...standard];
    const i = out.indexOf(ci);
    if (i >= 0) out.splice(i, 1);
    if (isBlocked(ci, start)) out.push(ci);
  }
  return out === null ? standard : out.sort((x, y) => x - y);
}
