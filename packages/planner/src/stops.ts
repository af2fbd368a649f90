import type { Epoch, Release } from "@stepstone/graph";
import type { Plan } from "./assemble.js";
import type { PlanContext } from "./context.js";
import {
  type Blocker,
  type BlockerCode,
  blockersOf,
  componentChain,
  type Origin,
  type WipeMask,
} from "./hop.js";
import { allowMask, deviceOrigin, releaseOrigin } from "./plan.js";

/**
 * Why a plan stops at a release. Codes: a blocker's (`key`, `upgradeFrom`: the hop that
 * would skip the stop breaks that rule; `wipe`: skipping it would wipe those components),
 * `ships` (the stop runs scripts the hop that skips it has no chain for), `runner` (the same,
 * where the scripts exist but an image without the runner cannot run them), `transition`
 * (the stop is a transition release), `data` (the device's data must be converted first),
 * `more` (planWhy: the components past the three explained).
 */
export interface StopReason {
  readonly code: BlockerCode | "data" | "ships" | "transition" | "more";
  /** The components this reason is about, in component order (component reasons only). */
  readonly components?: readonly string[];
  readonly key?: string;
  readonly message: string;
}

/**
 * Why each intermediate stop of a plan is needed: what breaks the hop that would skip it
 * (from where the device is before the stop straight to the release after it), said as what
 * the stop does about it (the scripts it runs, the key it bridges). When that hop is legal
 * but wipes more, the reason is the wipe the stop avoids. Of the components whose data has
 * no chain on that hop, the first three are explained; `more` names the rest.
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
  const index = (r: Release) => ctx.releaseIndex(r);
  const out: { stop: Release; why: StopReason[]; more: string[] }[] = [];
  const fromVersion = ctx.release(from).version;
  let at: Origin = { release: from, epochs: deviceEpochs ?? ctx.releaseEpochs(from) };
  for (const [i, { to: stop }] of steps.entries()) {
    const next = steps[i + 1];
    if (next === undefined) break;
    const after = index(next.to);
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
      let blockers: Blocker[];
      ({ why: blockers, more } = skipBlockers(ctx, at, after, allow));
      let avoidsWipe = false;
      if (blockers.length === 0) {
        const wiping = skipBlockers(ctx, at, after, none);
        more = wiping.more;
        blockers = wiping.why;
        avoidsWipe = true;
      }
      why = explainStop(ctx, at, index(stop), after, blockers, avoidsWipe);
    }
    if (stop.transition) {
      why.unshift({
        code: "transition",
        message: `${stop.version} is a transition release, built to connect releases that cannot reach each other directly: it is flashed only on the way to ${ctx.release(after).version}`,
      });
    }
    out.push({ stop, why, more });
    at = releaseOrigin(ctx, index(stop));
  }
  return out;
}

/**
 * Why each step of a plan flashes its release (DESIGN.md's `steps[].why`): the reasons of
 * each intermediate stop, and none for the last step (the target), in step order.
 */
export function planWhy(
  ctx: PlanContext,
  p: Plan,
  opts: { device?: Readonly<Record<string, Epoch>>; allowWipe?: readonly string[] | "all" } = {},
): StopReason[][] {
  const from = ctx.releaseIndex(p.from);
  const epochs = opts.device === undefined ? undefined : deviceOrigin(ctx, from, opts.device);
  const stops = stopReasons(ctx, from, p.steps, epochs, opts.allowWipe ?? []);
  const out: StopReason[][] = stops.map(({ why, more }) => withMore(why, more));
  if (p.steps.length > 0) out.push([]);
  return out;
}

/**
 * Why each of `stops` is needed on the way from `from` (the last is the target, with no
 * reasons): `planWhy` for a route given as its releases, such as a matrix cell's stops.
 */
export function stopsWhy(
  ctx: PlanContext,
  from: Release,
  stops: readonly Release[],
  allowWipe: readonly string[] | "all" = "all",
): { stop: Release; why: StopReason[] }[] {
  return stopReasons(
    ctx,
    ctx.releaseIndex(from),
    stops.map((to) => ({ to })),
    undefined,
    allowWipe,
  ).map(({ stop, why, more }) => ({ stop, why: withMore(why, more) }));
}

/** A stop's reasons with the components not explained named last (code `more`). */
export function withMore(why: StopReason[], more: readonly string[]): StopReason[] {
  if (more.length === 0) return why;
  return [
    ...why,
    {
      code: "more",
      components: more,
      message: `${more.length === 1 ? "one more component has" : `${more.length} more components have`} no chain on that hop either: ${more.join(", ")}`,
    },
  ];
}

/**
 * The blockers of the hop at -> after that skips stop s, said as what s does about them: the
 * rules about releases as they are; the components, grouped, with the scripts s runs for
 * them (at its boot, after the hop in; before flashing `after`).
 */
function explainStop(
  ctx: PlanContext,
  at: Origin,
  s: number,
  after: number,
  blockers: readonly Blocker[],
  avoidsWipe: boolean,
): StopReason[] {
  const stop = ctx.release(s);
  const a = ctx.release(at.release);
  const b = ctx.release(after);
  const out: StopReason[] = [];
  const groups = new Map<string, { code: StopReason["code"]; blockers: Blocker[] }>();
  for (const bl of blockers) {
    if (bl.component === undefined) {
      out.push({
        code: bl.code,
        ...(bl.key !== undefined && { key: bl.key }),
        message: bl.message,
      });
      continue;
    }
    const code = avoidsWipe ? "wipe" : bl.code === "runner" ? "runner" : "ships";
    let g = groups.get(code);
    if (g === undefined) {
      g = { code, blockers: [] };
      groups.set(code, g);
    }
    g.blockers.push(bl);
  }
  for (const { code, blockers: group } of groups.values()) {
    const components = group.map((bl) => bl.component as string);
    const boot: string[] = [];
    const pre: string[] = [];
    const what: string[] = [];
    for (const name of components) {
      const ci = ctx.componentIndex(name);
      what.push(`${name} ${at.epochs[ci]}→${ctx.epoch(after, ci)}`);
      boot.push(...stopScripts(ctx, at.release, at.epochs[ci] as number, s, ci, "boot"));
      pre.push(...stopScripts(ctx, s, ctx.epoch(s, ci), after, ci, "preFlash"));
    }
    const runs = [
      ...(boot.length > 0 ? [`${boot.join(", ")} at its boot`] : []),
      ...(pre.length > 0 ? [`${pre.join(", ")} before flashing ${b.version}`] : []),
    ].join(", and ");
    const does = runs === "" ? "" : `${stop.version} runs ${runs}`;
    const list = listed(what);
    const hop = `the hop ${a.version} → ${b.version} has no chain for ${list}`;
    let message: string;
    if (code === "wipe") {
      message = `skipping ${stop.version} would wipe ${listed(components)}: ${hop}${does === "" ? "" : `; ${does}`}`;
    } else if (code === "runner") {
      const bare = [a, b].filter((r) => !r.runner).map((r) => r.version);
      const where =
        !a.runner && !b.runner ? "on either side" : !b.runner ? "at its boot" : "before flashing";
      message = `${hop}: ${listed(bare)} ${bare.length > 1 ? "have" : "has"} no runner, so the scripts cannot run ${where}${does === "" ? "" : `; ${does}`}`;
    } else if (does === "") {
      message = (group[0] as Blocker).message.split(";")[0] as string;
    } else {
      message = `${hop} (neither ${a.version}, before flashing, nor ${b.version}, at boot, ships one): ${does}`;
    }
    out.push({ code, components, message });
  }
  return out;
}

const chainCache = new WeakMap<PlanContext, Map<string, readonly string[]>>();

/**
 * The ids of component ci's scripts on the hop a -> b from epoch `start` that one side runs
 * (`boot`: b's, `preFlash`: a's). They depend on the releases and that one epoch only, so
 * a fleet's many device states share them.
 */
function stopScripts(
  ctx: PlanContext,
  a: number,
  start: number,
  b: number,
  ci: number,
  side: "boot" | "preFlash",
): readonly string[] {
  let cache = chainCache.get(ctx);
  if (!cache) {
    cache = new Map();
    chainCache.set(ctx, cache);
  }
  const key = `${side}:${a}:${start}:${b}:${ci}`;
  let ids = cache.get(key);
  if (ids === undefined) {
    const epochs = Int32Array.from(ctx.releaseEpochs(a));
    epochs[ci] = start;
    const chain = componentChain(ctx, { release: a, epochs }, b, ci);
    ids = (chain?.[side] ?? []).map((m) => m.id);
    cache.set(key, ids);
  }
  return ids;
}

/** "a", "a and b", "a, b and c". */
function listed(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
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
  const more = blocked.slice(EXPLAINED).map((ci) => ctx.component(ci).name);
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
