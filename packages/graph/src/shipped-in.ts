/**
 * How to write down which releases ship a migration. Releases are positions 0..n-1 in
 * precedence order; the migration must ship at the `ones`, must not at every other
 * position, except the `free` ones (a release whose hand-written `ships` already names it,
 * so a range may include it or not).
 *
 * Ones are given as inclusive intervals of positions (`[first, last]`): a script stays in
 * the tree for hundreds of releases, and listing each of them would cost what the whole
 * history costs.
 */

/** Inclusive interval [first, last] of positions. */
export type Run = readonly [number, number];

/** Sorted positions as maximal intervals of consecutive ones: [1, 2, 3, 7] -> [1, 3], [7, 7]. */
export function toRuns(points: readonly number[]): Run[] {
  const out: [number, number][] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === p) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}

interface Counted {
  run: [number, number];
  /** Intervals of ones inside the run. */
  parts: Run[];
  ones: number;
}

/** Maximal runs: intervals of ones (sorted, disjoint) joined where every position between is free. */
function joinRuns(ones: readonly Run[], free: ReadonlySet<number>): Counted[] {
  const out: Counted[] = [];
  for (const iv of ones) {
    const last = out[out.length - 1];
    if (last) {
      let j = last.run[1] + 1;
      while (j < iv[0] && free.has(j)) j++;
      if (j >= iv[0]) {
        last.run[1] = Math.max(last.run[1], iv[1]);
        last.parts.push(iv);
        last.ones += iv[1] - iv[0] + 1;
        continue;
      }
    }
    out.push({ run: [iv[0], iv[1]], parts: [iv], ones: iv[1] - iv[0] + 1 });
  }
  return out;
}

/** First and last one of each maximal run (runs are split only by forbidden positions). */
export function shippingRuns(ones: readonly Run[], free: ReadonlySet<number>): Run[] {
  return joinRuns(ones, free).map((c) => c.run);
}

/**
 * A run as the simplest exact range: `>=first`, and `<` the first release after it that
 * must not ship it (`>=2.10.0 <2.12.0`). A run that reaches the newest release stays open
 * (`>=2.13.0`), so the next tag that still carries the script leaves the text as it is;
 * a closed run of one release is that version alone.
 */
export function runRange(run: Run, versions: readonly string[], free: ReadonlySet<number>): string {
  const [a, b] = run;
  let j = b + 1;
  while (j < versions.length && free.has(j)) j++;
  if (j === versions.length) return `>=${versions[a]}`;
  return a === b ? (versions[a] as string) : `>=${versions[a]} <${versions[j]}`;
}

export interface ShippingText {
  /** The `shippedIn` range, or null when no release needs one. */
  readonly shippedIn: string | null;
  /** Positions that name the migration in `ships` instead (runs a range would not keep simple). */
  readonly ships: readonly number[];
}

/**
 * `shippedIn` for the ones, exact at every position that is not free. Up to `maxParts`
 * runs are written as one range (`>=2.6.0 <2.7.0 || >=2.8.0`); beyond that the longest run
 * stays a range and the others become `ships` entries, except at positions that may not
 * take one (`fixed`: releases whose `ships` is written by hand), whose runs stay in the range.
 */
export function shippingText(
  ones: readonly Run[],
  free: ReadonlySet<number>,
  versions: readonly string[],
  fixed: (position: number) => boolean,
  maxParts = 2,
): ShippingText {
  const runs = joinRuns(ones, free);
  if (runs.length === 0) return { shippedIn: null, ships: [] };
  let keep = runs;
  const ships: number[] = [];
  if (runs.length > maxParts) {
    let main = runs[0] as Counted;
    for (const r of runs) if (r.ones >= main.ones) main = r;
    keep = [];
    for (const r of runs) {
      const points = r.parts.flatMap(([a, b]) =>
        Array.from({ length: b - a + 1 }, (_, i) => a + i),
      );
      if (r === main || points.some(fixed)) keep.push(r);
      else ships.push(...points);
    }
  }
  return { shippedIn: keep.map((r) => runRange(r.run, versions, free)).join(" || "), ships };
}
