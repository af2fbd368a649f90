import type { SemVer } from "semver";
import type { Bound, VersionRange } from "./semver.js";

/** Half-open index interval [lo, hi) over releases sorted by precedence. */
export type Interval = readonly [number, number];

/**
 * The sorted releases a range matches, as index intervals, in O(log n) per comparator.
 *
 * With prereleases included, a range is a union of comparator sets, each comparator
 * (`>=v`, `<v`, `=v`, ...) is a half-line or a point in precedence order, so each set is
 * an interval. This is what lets the planner index `upgradeFrom` and `shippedIn` for
 * thousands of releases instead of testing every pair.
 */
export function rangeIntervals(
  range: VersionRange,
  sorted: readonly SemVer[],
  /** Index of each sorted version by its text (SemVer.version): bounds that name a release skip the search. */
  indexOf?: ReadonlyMap<string, number>,
): Interval[] {
  const out: [number, number][] = [];
  for (let s = 0; s < range.set.length; s++) {
    const set = range.set[s] as readonly Bound[];
    let lo = 0;
    let hi = sorted.length;
    for (let b = 0; b < set.length; b++) {
      const c = set[b] as Bound;
      const v = c.semver;
      const hit = indexOf?.get(v.version);
      const firstGte = hit ?? lowerBound(sorted, v, false);
      const firstGt = hit === undefined ? lowerBound(sorted, v, true) : hit + 1;
      switch (c.operator) {
        case ">=":
          lo = Math.max(lo, firstGte);
          break;
        case ">":
          lo = Math.max(lo, firstGt);
          break;
        case "<":
          hi = Math.min(hi, firstGte);
          break;
        case "<=":
          hi = Math.min(hi, firstGt);
          break;
        default: // "" and "=": exactly v
          lo = Math.max(lo, firstGte);
          hi = Math.min(hi, firstGt);
      }
    }
    if (lo < hi) out.push([lo, hi]);
  }
  if (out.length <= 1) return out;
  out.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const iv of out) {
    const last = merged[merged.length - 1];
    if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
    else merged.push([iv[0], iv[1]]);
  }
  return merged;
}

/** First index whose version is >= v (or > v when `strict`). */
function lowerBound(sorted: readonly SemVer[], v: SemVer, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = (sorted[mid] as SemVer).compare(v);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
