import {
  checkedVersion,
  type EntryOf,
  type Epoch,
  inFileOrder,
  type Release,
  type ReleaseGraph,
  versionKey,
} from "@stepstone/graph";
import { bestChain, distancesFrom, distancesTo, NO_EDGES } from "./chain.js";
import { PlanContext } from "./context.js";
import type { Gap } from "./matrix.js";
import { plan } from "./plan.js";

/** A release entry as it would be written into release-graph.json (its fields: format.ts). */
export type ReleaseEntry = Required<
  Pick<EntryOf<"release">, "version" | "line" | "epochs" | "ships" | "notes">
> &
  Pick<EntryOf<"release">, "signedBy" | "trusts"> & { transition: true };

export interface Suggestion {
  /** The entry to add; for an extension, the existing release's entry as it becomes. */
  readonly release: ReleaseEntry;
  readonly closes: readonly { from: Release; to: Release }[];
  /**
   * A transition release already in the graph that closes these pairs once it ships more
   * scripts (`adds`), instead of a new build; null for a new release.
   */
  readonly extends: Release | null;
  /** extends: the migration ids to add to its `ships`. */
  readonly adds: readonly string[];
}

export interface MissingMigration {
  readonly component: string;
  readonly from: Epoch;
  readonly to: Epoch;
  /** The gaps that need it. */
  readonly for: readonly { from: Release; to: Release }[];
}

export interface SuggestResult {
  readonly suggestions: readonly Suggestion[];
  readonly missing: readonly MissingMigration[];
}

interface Pair {
  a: number;
  b: number;
  /** Per component: the epochs a transition image could be at, for this pair. */
  candidates: Set<Epoch>[];
  /**
   * Per component and candidate epoch: the scripts A -> T -> B runs with T there (the
   * shortest chain a -> T's epoch, then T's epoch -> b: T ships whatever they need).
   */
  scripts: Map<Epoch, number>[];
}

interface Group {
  down: boolean;
  pairs: Pair[];
  candidates: Set<Epoch>[];
  /** Keys every source trusts; null: no source restricts keys. */
  keys: Set<string> | null;
}

/**
 * Transition releases that close the gaps. A transition image T closes A -> B when A -> T
 * and T -> B are both legal without wipes: T is at epochs every A can be converted to
 * (T's boot scripts) and that T can convert to every B (T's pre-flash scripts), using
 * migrations that already exist; it is signed with a key every A trusts and trusts every
 * B's key. One T serves every pair whose constraints intersect, so pairs are grouped
 * greedily (deterministic order); the result is checked by adding the suggestions to the
 * graph and planning again: only pairs that are then really closed are claimed.
 */
export function suggest(ctx: PlanContext, gapList: readonly Gap[]): SuggestResult {
  const missing = new Map<string, MissingMigration & { for: { from: Release; to: Release }[] }>();

  const pairs: Pair[] = [];
  for (const g of gapList) {
    const a = ctx.releaseIndex(g.from);
    const b = ctx.releaseIndex(g.to);
    const candidates: Set<Epoch>[] = [];
    const scripts: Map<Epoch, number>[] = [];
    let closable = true;
    for (let ci = 0; ci < ctx.c; ci++) {
      const ea = ctx.epoch(a, ci);
      const eb = ctx.epoch(b, ci);
      const reach = distancesFrom(ea, ctx.allEdges(ci));
      const coreach = distancesTo(eb, ctx.allEdgesTo(ci));
      const both = new Set([...reach.keys()].filter((e) => coreach.has(e)));
      if (both.size === 0) {
        closable = false;
        const name = ctx.component(ci).name;
        const k = `${name}:${ea}:${eb}`;
        const entry = missing.get(k) ?? { component: name, from: ea, to: eb, for: [] };
        entry.for.push({ from: g.from, to: g.to });
        missing.set(k, entry);
      }
      candidates.push(both);
      scripts.push(
        new Map([...both].map((e) => [e, (reach.get(e) as number) + (coreach.get(e) as number)])),
      );
    }
    const src = ctx.release(a);
    if (src.trusts !== null && src.trusts.length === 0) closable = false;
    if (closable) pairs.push({ a, b, candidates, scripts });
  }
  pairs.sort((x, y) => x.a - y.a || x.b - y.b);

  // A transition release the graph already has (one written by an earlier --write, say)
  // comes first: shipping a few more scripts in it is one build fewer than a new image.
  const reuse = new Map<number, Pair[]>();
  const fresh: Pair[] = [];
  for (const p of pairs) {
    const t = reusable(ctx, p);
    if (t === null) fresh.push(p);
    else reuse.set(t, [...(reuse.get(t) ?? []), p]);
  }
  const groups = groupPairs(ctx, fresh);
  const taken = new Set(ctx.releases.map((r) => versionKey(r.semver)));
  let drafts = [
    ...[...reuse].map(([t, ps]) => extendDraft(ctx, t, ps)),
    ...groups.map((g) => draft(ctx, g, taken)),
  ];
  let closed = verify(ctx, drafts);

  // Pairs a shared image did not close (an interaction the grouping could not see) get
  // a second chance with an image of their own.
  const leftovers = drafts.flatMap((d, i) => d.pairs.filter((p) => !closed[i]?.has(p)));
  if (leftovers.length > 0) {
    drafts = drafts.map((d, i) => ({ ...d, pairs: d.pairs.filter((p) => closed[i]?.has(p)) }));
    drafts = drafts.filter((d) => d.pairs.length > 0).map((d) => redraft(ctx, d, taken));
    for (const p of leftovers) drafts.push(draft(ctx, singleGroup(ctx, p), taken));
    closed = verify(ctx, drafts);
  }

  // A claim must hold with exactly the releases suggested: a draft that closes none of its
  // own pairs is left out, and the pairs it helped close (through a path over it) must be
  // checked again without it, until nothing more is left out.
  const keepClosing = () => {
    for (;;) {
      const kept = drafts.filter((d, i) => d.pairs.some((p) => closed[i]?.has(p)));
      if (kept.length === drafts.length) break;
      drafts = kept;
      closed = verify(ctx, drafts);
    }
  };
  keepClosing();

  // Each image's epochs were chosen as if its pairs' plans went through it, but once all
  // the suggestions are released a pair's plan takes the best of them (equal plans: the
  // higher version), so another image may carry a pair, and this image's epochs should
  // then serve the pairs that do go through it.
  const refined = refineEpochs(ctx, drafts, closed);
  if (refined !== drafts) {
    drafts = refined;
    closed = verify(ctx, drafts);
    keepClosing();
  }

  const suggestions: Suggestion[] = [];
  drafts.forEach((d, i) => {
    const ok = d.pairs.filter((p) => closed[i]?.has(p));
    if (ok.length === 0) return;
    suggestions.push({
      release: d.entry,
      closes: ok.map((p) => ({
        from: ctx.release(p.a),
        to: ctx.release(p.b),
      })),
      extends: d.extends === null ? null : ctx.release(d.extends),
      adds: d.adds,
    });
  });
  return { suggestions, missing: [...missing.values()] };
}

function singleGroup(ctx: PlanContext, p: Pair): Group {
  const src = ctx.release(p.a);
  return {
    down: p.b < p.a,
    pairs: [p],
    candidates: p.candidates.map((s) => new Set(s)),
    keys: src.trusts === null ? null : new Set(src.trusts),
  };
}

function groupPairs(ctx: PlanContext, pairs: readonly Pair[]): Group[] {
  const groups: Group[] = [];
  for (const p of pairs) {
    const down = p.b < p.a;
    const src = ctx.release(p.a);
    const fits = groups.find((g) => {
      if (g.down !== down) return false;
      if (g.candidates.some((set, ci) => ![...set].some((e) => p.candidates[ci]?.has(e))))
        return false;
      if (src.trusts === null || g.keys === null) return true;
      return src.trusts.some((k) => g.keys?.has(k));
    });
    if (!fits) {
      groups.push(singleGroup(ctx, p));
      continue;
    }
    fits.pairs.push(p);
    fits.candidates = fits.candidates.map(
      (set, ci) => new Set([...set].filter((e) => p.candidates[ci]?.has(e))),
    );
    if (src.trusts !== null) {
      fits.keys =
        fits.keys === null
          ? new Set(src.trusts)
          : new Set([...fits.keys].filter((k) => src.trusts?.includes(k)));
    }
  }
  return groups;
}

interface Draft {
  group: Group;
  pairs: Pair[];
  entry: ReleaseEntry;
  /** The existing release it extends (index), or null for a new one. */
  extends: number | null;
  adds: string[];
}

/** How the notes of a suggested release begin: the mark of a build not made yet. */
export const SUGGESTED_NOTES = "Suggested by stepstone gaps --suggest";

/**
 * The newest suggested transition release of the graph (one `gaps --suggest --write`
 * wrote, its notes still beginning with SUGGESTED_NOTES: not built yet, so it may still
 * change) through which the pair would connect if it shipped more scripts: its epochs are
 * among the pair's candidates and its keys and version already admit both hops (keys are
 * never widened: what an image trusts is a security decision, not a suggestion's). A
 * transition someone built is never changed (publish refuses a published build that
 * changes). Null if none.
 */
function reusable(ctx: PlanContext, p: Pair): number | null {
  for (let t = ctx.n - 1; t >= 0; t--) {
    const r = ctx.release(t);
    if (!r.transition || r.withdrawn || !r.runner || t === p.a || t === p.b) continue;
    if (!(r.notes ?? "").startsWith(SUGGESTED_NOTES)) continue;
    if (!ctx.trusted(p.a, t) || !ctx.trusted(t, p.b)) continue;
    if (!ctx.upgradeAllowed(p.a, t) || !ctx.upgradeAllowed(t, p.b)) continue;
    let fits = true;
    for (let ci = 0; ci < ctx.c && fits; ci++)
      fits = p.candidates[ci]?.has(ctx.epoch(t, ci)) ?? false;
    if (fits) return t;
  }
  return null;
}

/** The scripts the chains a -> epochs -> b need, for each pair (ids, unsorted). */
function chainIds(
  ctx: PlanContext,
  pairs: readonly Pair[],
  epochOf: (ci: number) => Epoch,
): Set<string> {
  const ids = new Set<string>();
  for (const p of pairs) {
    for (let ci = 0; ci < ctx.c; ci++) {
      const e = epochOf(ci);
      const edges = ctx.allEdges(ci);
      for (const [x, y] of [
        [ctx.epoch(p.a, ci), e],
        [e, ctx.epoch(p.b, ci)],
      ] as const) {
        const chain = bestChain(x, y, edges, NO_EDGES);
        for (const m of chain?.preFlash ?? []) ids.add(m.id);
      }
    }
  }
  return ids;
}

/** Release t, shipping what the pairs' chains through it need on top of what it ships. */
function extendDraft(ctx: PlanContext, t: number, pairs: Pair[]): Draft {
  const r = ctx.release(t);
  const ids = chainIds(ctx, pairs, (ci) => ctx.epoch(t, ci));
  const adds = ctx.graph.migrations
    .filter((m) => ids.has(m.id) && !ctx.shipping.ships(t, m))
    .map((m) => m.id)
    .sort();
  const entry: ReleaseEntry = inFileOrder("release", {
    version: r.version,
    line: r.line,
    transition: true,
    epochs: r.epochs,
    // The file's order kept, the new ones after.
    ships: [...r.ships, ...adds.filter((id) => !r.ships.includes(id))],
    ...(r.signedBy !== null && { signedBy: r.signedBy }),
    ...(r.trusts !== null && { trusts: [...r.trusts] }),
    notes: r.notes ?? "",
  });
  const group: Group = { down: false, pairs, candidates: [], keys: null };
  return { group, pairs, entry, extends: t, adds };
}

function redraft(ctx: PlanContext, d: Draft, taken: Set<string>): Draft {
  if (d.extends !== null) return extendDraft(ctx, d.extends, d.pairs);
  taken.delete(versionKey(checkedVersion(d.entry.version)));
  const group: Group = { ...d.group, pairs: d.pairs };
  return draft(ctx, group, taken);
}

function draft(ctx: PlanContext, g: Group, taken: Set<string>): Draft {
  const targets = g.pairs.map((p) => ctx.release(p.b));
  const sources = g.pairs.map((p) => ctx.release(p.a));
  // The image's data format: per component, the epoch that works for every pair with the
  // fewest scripts on their plans (A -> T -> B), the newest among those. The newest alone
  // is not enough: a downgrade whose source and target share an epoch would otherwise
  // convert it up at T's boot and back down before flashing (4 scripts where 2 do). Ties
  // keep the source's format for a downgrade, so the down-migrations run before flashing,
  // like the hand-made transition builds this replaces. Components are independent: each
  // one's scripts depend on its own epoch only.
  const epochs: Record<string, Epoch> = {};
  ctx.components.forEach((c, ci) => {
    epochs[c.name] = cheapestEpoch(g, ci);
  });
  const ids = chainIds(ctx, g.pairs, (ci) => epochs[ctx.component(ci).name] as Epoch);
  const version = pickVersion(g, sources, targets, taken);
  taken.add(version);
  const sv = checkedVersion(version);
  const alreadyShipped = new Set(
    ctx.graph.migrations.filter((m) => m.shippedIn?.test(sv)).map((m) => m.id),
  );
  const ships = [...ids].filter((id) => !alreadyShipped.has(id)).sort();

  const signedBy = pickKey(g.keys, targets, sources);
  const targetKeys = targets.flatMap((r) => (r.signedBy === null ? [] : [r.signedBy]));
  const needsTrusts = sources.some((r) => r.trusts !== null) || targetKeys.length > 0;
  const trusts =
    signedBy !== undefined && needsTrusts && targetKeys.length === targets.length
      ? [...new Set([signedBy, ...targetKeys])].sort()
      : undefined;

  const pairsText = g.pairs
    .map((p) => `${ctx.release(p.a).version} -> ${ctx.release(p.b).version}`)
    .join(", ");
  // In the file's order (format.ts), as sync would write it.
  const entry: ReleaseEntry = inFileOrder("release", {
    version,
    line: `${sv.major}.${sv.minor}`,
    transition: true,
    epochs,
    ships,
    ...(signedBy !== undefined && { signedBy }),
    ...(trusts !== undefined && { trusts }),
    notes: `${SUGGESTED_NOTES}: connects ${pairsText}.`,
  });
  return { group: g, pairs: g.pairs, entry, extends: null, adds: [] };
}

/** A pair's plan once some releases are added: what the planner compares, or null (no plan without wipes). */
interface PairCost {
  hops: number;
  transitions: number;
  scripts: number;
}

function planCost(next: PlanContext, ctx: PlanContext, p: Pair): PairCost | null {
  const res = plan(next, { from: ctx.release(p.a), to: ctx.release(p.b) });
  if (!res.reachable || res.plan.wipes > 0) return null;
  return { hops: res.plan.hops, transitions: res.plan.transitions, scripts: res.plan.scripts };
}

function contextWith(ctx: PlanContext, drafts: readonly Draft[]): PlanContext {
  return new PlanContext(
    withReleases(
      ctx.graph,
      drafts.map((d) => d.entry),
    ),
    ctx.platform,
  );
}

/** Epoch vectors a model search tries exhaustively up to this many; beyond, one component at a time. */
const EXHAUSTIVE = 4096;

/**
 * The drafts with each new image's epochs re-chosen for the plans the pairs it closes really
 * take with all the suggestions released (the same array when nothing changes). A pair
 * closed through image T runs A -> T -> B (two hops, one transition stop, the scripts of
 * the shortest chains through T's epochs); without T its plan is some other one (through
 * another suggestion, say), which the planner keeps when it is cheaper or equal and of
 * higher version. So per pair the scripts with T at epochs v are those of A -> T -> B when
 * that route is better, else those of the other plan; the epochs with the fewest over T's
 * pairs are taken when the plans, made again, confirm they run fewer scripts (ties keep the
 * first choice). Repeated (a few rounds at most) since one image's change moves the others'.
 */
function refineEpochs(ctx: PlanContext, drafts: Draft[], closed: readonly Set<Pair>[]): Draft[] {
  if (drafts.length < 2) return drafts;
  let out = [...drafts];
  for (let round = 0; round < 3; round++) {
    let changed = false;
    for (let i = 0; i < out.length; i++) {
      const d = out[i] as Draft;
      if (d.extends !== null) continue;
      const pairs = d.pairs.filter((p) => closed[i]?.has(p) ?? false);
      if (pairs.length === 0) continue;
      const without = contextWith(
        ctx,
        out.filter((_, j) => j !== i),
      );
      const alt = pairs.map((p) => planCost(without, ctx, p));
      // Without another way, every pair goes through this image: its first choice is best.
      if (alt.every((a) => a === null)) continue;
      const current = ctx.components.map((c) => d.entry.epochs[c.name] as Epoch);
      const best = cheapestVector(ctx, pairs, alt, current);
      if (best === null) continue;
      const names = ctx.components.map((c) => c.name);
      const next = redraw(ctx, d, Object.fromEntries(names.map((n, ci) => [n, best[ci] as Epoch])));
      const trial = out.map((x, j) => (j === i ? next : x));
      const before = contextWith(ctx, out);
      const after = contextWith(ctx, trial);
      let was = 0;
      let now = 0;
      let ok = true;
      for (const p of pairs) {
        const b = planCost(before, ctx, p);
        const a = planCost(after, ctx, p);
        if (a === null || b === null) {
          ok = false;
          break;
        }
        was += b.scripts;
        now += a.scripts;
      }
      if (!ok || now >= was) continue;
      out = trial;
      changed = true;
    }
    if (!changed) break;
  }
  return out.every((d, i) => d === drafts[i]) ? drafts : out;
}

/**
 * The model of refineEpochs: the epoch vector with the fewest scripts over the pairs, or
 * null when none beats `current`. Per component the values tried are the pairs' candidates
 * (elsewhere the image serves none of them), newest first.
 */
function cheapestVector(
  ctx: PlanContext,
  pairs: readonly Pair[],
  alt: readonly (PairCost | null)[],
  current: readonly Epoch[],
): Epoch[] | null {
  const domains = ctx.components.map((_, ci) => {
    const all = new Set<Epoch>([current[ci] as Epoch]);
    for (const p of pairs) for (const e of p.candidates[ci] ?? []) all.add(e);
    return [...all].sort((x, y) => y - x);
  });
  const cost = (v: readonly Epoch[]): number => {
    let total = 0;
    pairs.forEach((p, k) => {
      const other = alt[k] ?? null;
      let via = 0;
      for (let ci = 0; ci < ctx.c && via !== Number.POSITIVE_INFINITY; ci++)
        via += p.scripts[ci]?.get(v[ci] as Epoch) ?? Number.POSITIVE_INFINITY;
      if (other === null) total += via;
      else if (via === Number.POSITIVE_INFINITY) total += other.scripts;
      else if (other.hops > 2 || (other.hops === 2 && other.transitions > 1)) total += via;
      else if (other.hops === 2 && other.transitions === 1) total += Math.min(via, other.scripts);
      else total += other.scripts;
    });
    return total;
  };
  let best: Epoch[] = [...current];
  let bestCost = cost(best);
  const initial = bestCost;
  const size = domains.reduce((n, dom) => n * dom.length, 1);
  if (size <= EXHAUSTIVE) {
    const v: Epoch[] = [...current];
    const walk = (ci: number) => {
      if (ci === ctx.c) {
        const c = cost(v);
        if (c < bestCost) {
          bestCost = c;
          best = [...v];
        }
        return;
      }
      for (const e of domains[ci] ?? []) {
        v[ci] = e;
        walk(ci + 1);
      }
    };
    walk(0);
  } else {
    for (let improved = true; improved; ) {
      improved = false;
      for (let ci = 0; ci < ctx.c; ci++) {
        for (const e of domains[ci] ?? []) {
          const v = [...best];
          v[ci] = e;
          const c = cost(v);
          if (c < bestCost) {
            bestCost = c;
            best = v;
            improved = true;
          }
        }
      }
    }
  }
  return bestCost < initial ? best : null;
}

/** A new release's draft at other epochs: the same version, keys and notes, the ships those epochs need. */
function redraw(ctx: PlanContext, d: Draft, epochs: Record<string, Epoch>): Draft {
  const ids = chainIds(ctx, d.pairs, (ci) => epochs[ctx.component(ci).name] as Epoch);
  const sv = checkedVersion(d.entry.version);
  const alreadyShipped = new Set(
    ctx.graph.migrations.filter((m) => m.shippedIn?.test(sv)).map((m) => m.id),
  );
  const ships = [...ids].filter((id) => !alreadyShipped.has(id)).sort();
  const entry: ReleaseEntry = inFileOrder("release", { ...d.entry, epochs, ships });
  return { ...d, entry };
}

/** The candidate epoch of component `ci` with the fewest scripts over the group's pairs; the newest of those. */
function cheapestEpoch(g: Group, ci: number): Epoch {
  let best: Epoch | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const e of g.candidates[ci] ?? []) {
    let cost = 0;
    for (const p of g.pairs) cost += p.scripts[ci]?.get(e) ?? Number.POSITIVE_INFINITY;
    if (cost < bestCost || (cost === bestCost && best !== null && e > best)) {
      best = e;
      bestCost = cost;
    }
  }
  if (best === null) throw new Error(`internal: no candidate epoch for component ${ci}`);
  return best;
}

/** The release of highest precedence of a non-empty list (the first of equals). */
function newest(rs: readonly Release[]): Release {
  return rs.reduce((best, r) => (r.semver.compare(best.semver) > 0 ? r : best));
}

/** The release of lowest precedence of a non-empty list (the first of equals). */
function oldest(rs: readonly Release[]): Release {
  return rs.reduce((best, r) => (r.semver.compare(best.semver) < 0 ? r : best));
}

/**
 * Above every release of a downgrade group (so no upgradeFrom applies on either hop),
 * or just below the lowest target of an upgrade group (so it reads as the step before
 * it) when every higher target's upgradeFrom admits that version, else above every
 * release of the group too (the hops into the targets are then downgrades, which no
 * upgradeFrom restricts); `<major>.<minor>.<patch>-transition.<n>`, the first n not taken.
 */
function pickVersion(
  g: Group,
  sources: readonly Release[],
  targets: readonly Release[],
  taken: ReadonlySet<string>,
): string {
  const top = newest([...sources, ...targets]).semver;
  const above = firstFree(`${top.major}.${top.minor}.${top.patch + 1}`, taken);
  if (g.down) return above;
  const low = oldest(targets).semver;
  // A prerelease target (3.0.0-rc.1) has no room below it on its own patch.
  const below = firstFree(
    `${low.major}.${low.minor}.${low.prerelease.length === 0 ? low.patch : low.patch + 1}`,
    taken,
  );
  const sv = checkedVersion(below);
  const admitted = targets.every(
    (t) => t.upgradeFrom === null || t.semver.compare(sv) <= 0 || t.upgradeFrom.test(sv),
  );
  return admitted ? below : above;
}

function firstFree(base: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const candidate = `${base}-transition.${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * The key the transition image is signed with: one every source trusts (`keys`; null: no
 * source restricts). Among those, a key some target trusts comes first, so a suggestion
 * never signs with a key the releases it leads to have left behind (an old key, after a
 * rotation); only when no such key exists (the gap is the rotation itself, or no target
 * names keys) any key the sources trust. Then a target's own key, a source's, the first
 * by name.
 */
function pickKey(
  keys: Set<string> | null,
  targets: readonly Release[],
  sources: readonly Release[],
): string | undefined {
  const trustedByTargets = new Set(targets.flatMap((r) => r.trusts ?? []));
  const preferred = [...trustedByTargets].filter((k) => keys === null || keys.has(k));
  const pool = preferred.length > 0 ? new Set(preferred) : keys;
  const ok = (k: string | null): k is string => k !== null && (pool === null || pool.has(k));
  for (const r of [...targets, ...sources]) if (ok(r.signedBy)) return r.signedBy;
  if (pool !== null) return [...pool].sort()[0];
  return undefined;
}

/** Which pairs of each draft are closed (reachable, no wipe) once all drafts are released. */
function verify(ctx: PlanContext, drafts: readonly Draft[]): Set<Pair>[] {
  const graph = withReleases(
    ctx.graph,
    drafts.map((d) => d.entry),
  );
  // withReleases replaces the extended releases' entries: only their ships change.
  const next = new PlanContext(graph, ctx.platform);
  return drafts.map((d) => {
    const ok = new Set<Pair>();
    for (const p of d.pairs) {
      // By version: `next` holds the same releases, and the drafts'.
      const res = plan(next, { from: ctx.release(p.a), to: ctx.release(p.b), allowWipe: "all" });
      if (res.reachable && res.plan.wipes === 0) ok.add(p);
    }
    return ok;
  });
}

/**
 * The graph with extra releases (pure: a new graph, sorted). An entry whose version the
 * graph has already is an extension: that release ships the entry's `ships` instead.
 */
export function withReleases(graph: ReleaseGraph, entries: readonly ReleaseEntry[]): ReleaseGraph {
  const have = new Map(graph.releases.map((r) => [r.version, r]));
  const extended = new Map(
    entries.filter((e) => have.has(e.version)).map((e) => [e.version, e.ships]),
  );
  const added: Release[] = entries
    .filter((e) => !have.has(e.version))
    .map((e) => ({
      version: e.version,
      semver: checkedVersion(e.version),
      line: e.line,
      golden: false,
      transition: true,
      withdrawn: false,
      runner: true,
      epochs: e.epochs,
      ships: e.ships,
      upgradeFrom: null,
      signedBy: e.signedBy ?? null,
      trusts: e.trusts ?? null,
      platforms: {},
      notes: e.notes,
    }));
  const kept = graph.releases.map((r) => {
    const ships = extended.get(r.version);
    return ships === undefined ? r : { ...r, ships };
  });
  const releases = [...kept, ...added].sort((x, y) => x.semver.compare(y.semver));
  return { ...graph, releases };
}
