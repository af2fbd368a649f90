import type { Release } from "@stepstone/graph";
import {
  BLOCKER_PRIORITY,
  type BlockerCode,
  hopBlockers,
  hop as hopDetail,
  type Matrix,
  matrix,
  type Plan,
  type PlanContext,
  selectReleases,
  stopsWhy,
} from "@stepstone/planner";

/**
 * What the pictures draw, independent of the format: releases grouped by line, and a
 * readable subset of the hops. Every legal hop of a real history is far too many (a
 * release can usually reach hundreds of others), so a picture keeps:
 *
 * - the way up: each release to the next one of its line, and each line's newest to the next
 *   line's first (withdrawn and transition releases stay out of that chain: they are
 *   never the way up; a withdrawn release gets one edge, the way off it);
 * - golden plans: the hops of the best plans between neighbouring golden releases (each one
 *   to the next and to the previous), wipes allowed, as the matrix finds them;
 * - the path: with a plan, its hops (numbered), whether or not they were drawn already.
 *
 * Runs of three or more ordinary releases that upgrade one to the next without a wipe
 * (nothing else starts or ends there) fold into one node: "2.3.1 … 2.3.9, 9 releases".
 *
 * Two facts are marked on the releases: a stop of a drawn plan that a key rotation or an
 * `upgradeFrom` forces (the planner's `stopReasons`: the hop that would skip it breaks that
 * rule), and a transition release that no best plan between golden releases stops at (the
 * planner's `transitionUse` would find none of its `stops`: a build that is not used).
 */
export interface Picture {
  /** The graph's platform, or null. */
  readonly platform: string | null;
  readonly lines: readonly PictureLine[];
  readonly edges: readonly PictureEdge[];
  /** The highlighted plan, when one was asked for. */
  readonly path: PicturePath | null;
}

export interface PictureLine {
  readonly name: string;
  /** In version order. */
  readonly nodes: readonly PictureNode[];
}

export type Tag = "golden" | "transition" | "withdrawn" | "no runner";

export interface PictureNode {
  /** The release's version, or "first..last" for a folded run. */
  readonly id: string;
  /** One release, or the run of ordinary releases it folds (in version order). */
  readonly releases: readonly Release[];
  readonly tags: readonly Tag[];
  readonly onPath: boolean;
  /** Why a drawn plan must stop here, when a key rotation or an upgradeFrom forces it. */
  readonly stops: readonly StopMark[];
  /** A transition release that no best plan between golden releases stops at. */
  readonly unused: boolean;
}

/**
 * A stop a rule about releases forces: the hop that skips it, from the release before it
 * straight to `after`, is illegal because `after` is signed by `key`, which the release
 * before does not trust (a key rotation: this stop trusts both), or because the release
 * before does not satisfy `after`'s `upgradeFrom` (`range`), which this stop does.
 */
export type StopMark =
  | { readonly code: "key"; readonly key: string; readonly after: string; readonly message: string }
  | {
      readonly code: "upgradeFrom";
      readonly range: string;
      readonly after: string;
      readonly message: string;
    };

export interface PictureEdge {
  /** Node ids. */
  readonly from: string;
  readonly to: string;
  /** Drawn as the way up: to the next release of the line, or the next line's first. */
  readonly next: boolean;
  /** A hop of a best plan between neighbouring golden releases. */
  readonly golden: boolean;
  /** Of the hop from → to (when `both`, the reverse hop is drawn by the same edge). */
  readonly direction: "upgrade" | "downgrade";
  /** The hop back (to → from) is drawn too, alike: one edge with two arrowheads. */
  readonly both: boolean;
  /** Components the hop wipes (a picture allows every wipeable component to be wiped). */
  readonly wipe: readonly string[];
  /** A "next" hop that is illegal even with wipes: the first reason. */
  readonly blocked: BlockerCode | null;
  /** The hop's number on the highlighted plan, 1-based. */
  readonly step: number | null;
}

export interface PicturePath {
  readonly from: Release;
  readonly to: Release;
  /** Null when no plan exists, even with wipes. */
  readonly plan: Plan | null;
}

export interface PictureOptions {
  /** The plan to highlight (from `plan`, or null with its endpoints when there is none). */
  readonly path?: PicturePath;
  /** The golden matrix (goldenMatrix), when the caller has it already: the report does. */
  readonly golden?: Matrix;
}

/** The best plans between the golden releases (`matrix`'s default set), wipes allowed. */
export function goldenMatrix(ctx: PlanContext): Matrix {
  return matrix(ctx, selectReleases(ctx, { kind: "golden" }));
}

/** Smallest run of ordinary releases that folds into one node. */
export const FOLD_MIN = 3;

export function tagsOf(r: Release): Tag[] {
  const tags: Tag[] = [];
  if (r.golden) tags.push("golden");
  if (r.transition) tags.push("transition");
  if (r.withdrawn) tags.push("withdrawn");
  if (!r.runner) tags.push("no runner");
  return tags;
}

interface Hop {
  a: number;
  b: number;
  next: boolean;
  golden: boolean;
  wipe: readonly string[];
  blocked: BlockerCode | null;
  step: number | null;
}

export function picture(ctx: PlanContext, opts: PictureOptions = {}): Picture {
  const hops = new Map<string, Hop>();
  const key = (a: number, b: number) => `${a}>${b}`;
  const release = (i: number) => ctx.release(i);

  const addHop = (a: number, b: number): Hop => {
    const found = hops.get(key(a, b));
    if (found) return found;
    let wipe: readonly string[] = [];
    let blocked: BlockerCode | null = null;
    const reasons = hopBlockers(ctx, release(a), release(b), "all");
    if (reasons.length > 0) {
      reasons.sort((x, y) => BLOCKER_PRIORITY[x.code] - BLOCKER_PRIORITY[y.code]);
      blocked = reasons[0]?.code ?? "noChain";
    } else wipe = hopDetail(ctx, release(a), release(b)).wipe;
    const hop: Hop = { a, b, next: false, golden: false, wipe, blocked, step: null };
    hops.set(key(a, b), hop);
    return hop;
  };

  // Lines, in the order of their lowest release; the chain of each (the way up).
  const lineOf = new Map<string, number[]>();
  ctx.releases.forEach((r, i) => {
    const list = lineOf.get(r.line);
    if (list) list.push(i);
    else lineOf.set(r.line, [i]);
  });
  const inChain = (i: number) => {
    const r = release(i);
    return !r.withdrawn && !r.transition;
  };
  const lines = [...lineOf.entries()].map(([name, members]) => ({
    name,
    members,
    chain: members.filter(inChain),
  }));
  const chains = lines.map((l) => l.chain);
  /** Releases that must stay a node of their own (see the fold). */
  const notable = new Set<number>();

  const next = (a: number, b: number) => {
    addHop(a, b).next = true;
  };
  let previousTop: number | null = null;
  lines.forEach(({ members, chain }, li) => {
    for (const [a, b] of neighbours(chain)) next(a, b);
    // The way off a withdrawn release: to the next release of the chain above it.
    for (const w of members) {
      if (!release(w).withdrawn) continue;
      const after = chain.find((i) => i > w) ?? chains.slice(li + 1).find((c) => c.length > 0)?.[0];
      if (after !== undefined) {
        next(w, after);
        notable.add(after);
      }
    }
    const first = chain[0];
    const top = chain[chain.length - 1];
    if (first === undefined || top === undefined) return;
    if (previousTop !== null) next(previousTop, first);
    previousTop = top;
  });

  // The hops of the best plans between neighbouring golden releases (of the golden matrix,
  // whose other plans say which transition releases are used).
  const marks = new Map<number, Map<string, StopMark>>();
  const mark = (from: number, stops: readonly Release[]) => {
    for (const m of forcedStops(ctx, from, stops)) {
      const at = ctx.releaseIndex(m.stop);
      const list = marks.get(at) ?? new Map<string, StopMark>();
      list.set(m.mark.code === "key" ? `key:${m.mark.key}` : `upgradeFrom:${m.mark.after}`, m.mark);
      marks.set(at, list);
    }
  };
  const goldenPlans = opts.golden ?? goldenMatrix(ctx);
  const golden = goldenPlans.releases;
  const used = new Set<Release>();
  for (const cell of goldenPlans.cells) {
    for (const r of cell.stops.slice(0, -1)) used.add(r);
    const k = golden.indexOf(cell.from);
    if (cell.to !== golden[k - 1] && cell.to !== golden[k + 1]) continue;
    if (!cell.reachable) continue;
    const g = ctx.releaseIndex(cell.from);
    let a = g;
    for (const b of cell.stops.map((r) => ctx.releaseIndex(r))) {
      addHop(a, b).golden = true;
      notable.add(a).add(b);
      a = b;
    }
    mark(g, cell.stops);
  }

  // The highlighted plan.
  const path = opts.path ?? null;
  const onPath = new Set<number>();
  if (path) {
    const at = new Map(ctx.releases.map((r, i) => [r.version, i]));
    const indexOf = (r: Release) => at.get(r.version) ?? -1;
    const from = indexOf(path.from);
    const to = indexOf(path.to);
    onPath.add(from).add(to);
    path.plan?.steps.forEach((s, i) => {
      const a = indexOf(s.from);
      const b = indexOf(s.to);
      onPath.add(b);
      const hop = addHop(a, b);
      hop.step = i + 1;
      // The plan's own wipes (a plan that may not wipe takes another hop where it would).
      hop.wipe = s.wipe;
    });
    if (path.plan)
      mark(
        from,
        path.plan.steps.map((s) => s.to),
      );
  }
  for (const i of onPath) notable.add(i);
  ctx.releases.forEach((r, i) => {
    if (tagsOf(r).length > 0) notable.add(i);
  });

  // Fold runs of ordinary releases.
  const nodeOf = new Map<number, string>();
  const pictureLines: PictureLine[] = lines.map(({ name, members, chain }) => {
    const foldable = (k: number) => {
      const i = chain[k];
      if (i === undefined || notable.has(i)) return false;
      const before = chain[k - 1];
      const after = chain[k + 1];
      const into = before === undefined ? undefined : hops.get(key(before, i));
      const out = after === undefined ? undefined : hops.get(key(i, after));
      return (into === undefined || isPlain(into)) && (out === undefined || isPlain(out));
    };
    const runOf = new Map<number, number[]>();
    for (let k = 0; k < chain.length; ) {
      if (!foldable(k)) {
        k++;
        continue;
      }
      let end = k;
      while (end + 1 < chain.length && foldable(end + 1)) end++;
      if (end - k + 1 >= FOLD_MIN) {
        const run = chain.slice(k, end + 1);
        for (const i of run) runOf.set(i, run);
      }
      k = end + 1;
    }
    const nodes: PictureNode[] = [];
    for (const i of members) {
      const run = runOf.get(i);
      if (run && run[0] !== i) continue;
      const r = release(i);
      const releases = run ? run.map(release) : [r];
      const last = releases[releases.length - 1] ?? r;
      const id = run ? `${r.version}..${last.version}` : r.version;
      for (const x of run ?? [i]) nodeOf.set(x, id);
      nodes.push({
        id,
        releases,
        tags: run ? [] : tagsOf(r),
        onPath: !run && onPath.has(i),
        stops: run ? [] : [...(marks.get(i)?.values() ?? [])],
        unused: !run && r.transition && !r.golden && !r.withdrawn && !used.has(r),
      });
    }
    return { name, nodes };
  });

  // One edge for a hop drawn both ways alike (plain hops only: a label or a step is one way).
  const edges: PictureEdge[] = [];
  const sorted = [...hops.values()].sort((x, y) => x.a - y.a || x.b - y.b);
  const merged = new Set<Hop>();
  for (const hop of sorted) {
    if (merged.has(hop)) continue;
    const from = nodeOf.get(hop.a);
    const to = nodeOf.get(hop.b);
    // Every release is a node, of its own or of a run; one run holds both ends of a hop inside it.
    if (from === undefined || to === undefined || from === to) continue;
    const back = hops.get(key(hop.b, hop.a));
    const both = back !== undefined && sameLook(hop, back);
    if (both) merged.add(back);
    edges.push({
      from,
      to,
      both,
      next: hop.next,
      golden: hop.golden,
      direction: hop.b > hop.a ? "upgrade" : "downgrade",
      wipe: hop.wipe,
      blocked: hop.blocked,
      step: hop.step,
    });
  }
  return { platform: ctx.platform, lines: pictureLines, edges, path };
}

/**
 * The stops of a plan from `from` that a key rotation or an upgradeFrom forces, with the
 * release after each (whose key or range the hop that skips the stop breaks).
 */
function forcedStops(
  ctx: PlanContext,
  from: number,
  stops: readonly Release[],
): { stop: Release; mark: StopMark }[] {
  const out: { stop: Release; mark: StopMark }[] = [];
  stopsWhy(ctx, ctx.release(from), stops, "all").forEach(({ stop, why }, i) => {
    const after = stops[i + 1];
    // stopsWhy names the intermediate stops: each has a release after it.
    if (after === undefined) return;
    for (const w of why) {
      if (w.code === "key" && w.key !== undefined)
        out.push({
          stop,
          mark: { code: "key", key: w.key, after: after.version, message: w.message },
        });
      else if (w.code === "upgradeFrom" && after.upgradeFrom !== null)
        out.push({
          stop,
          mark: {
            code: "upgradeFrom",
            range: after.upgradeFrom.raw,
            after: after.version,
            message: w.message,
          },
        });
    }
  });
  return out;
}

/** Each pair of neighbours of `xs`, in order. */
export function neighbours<T extends NonNullable<unknown>>(xs: readonly T[]): [T, T][] {
  const out: [T, T][] = [];
  for (const [k, b] of xs.entries()) {
    const a = xs[k - 1];
    if (a !== undefined) out.push([a, b]);
  }
  return out;
}

function sameLook(h: Hop, k: Hop): boolean {
  const quiet = (x: Hop) => x.wipe.length === 0 && x.blocked === null && x.step === null;
  return quiet(h) && quiet(k) && h.golden === k.golden;
}

function isPlain(h: Hop): boolean {
  return h.next && !h.golden && h.wipe.length === 0 && h.blocked === null && h.step === null;
}
