// The three modules used, not the package's index: it loads all of node-semver's forty
// modules, which every command would pay for at start.
import type { Comparator } from "semver";
import Range from "semver/classes/range.js";
import SemVer from "semver/classes/semver.js";
import parse from "semver/functions/parse.js";

/**
 * Every range in stepstone is evaluated with prereleases included: a transition build
 * `2.10.1-transition.1` must satisfy `>=2.10.0` like any other release.
 */
const RANGE_OPTIONS = { includePrerelease: true } as const;

/**
 * Parsed versions by text: a large graph names the same few thousand versions tens of
 * thousands of times (releases, and the bounds of every shippedIn and upgradeFrom).
 * SemVer objects are never mutated here, so sharing them is safe.
 */
const parsed = new Map<string, SemVer | null>();

export function parseVersion(text: string): SemVer | null {
  let v = parsed.get(text);
  if (v === undefined) {
    if (parsed.size > 100_000) parsed.clear();
    v = parse(text, { loose: false });
    parsed.set(text, v);
  }
  return v;
}

export type Operator = "" | "=" | "<" | "<=" | ">" | ">=";

/** One comparison of a range: `>=2.10.0` (an empty operator means "equal"). */
export interface Bound {
  readonly operator: Operator;
  readonly semver: SemVer;
}

/**
 * A semver range as a union (`||`) of intersections of bounds, tested with prereleases
 * included: with them, every bound is a half-line or a point in precedence order, which
 * is what lets releases satisfying a range be found by binary search (ranges.ts).
 */
export class VersionRange {
  readonly raw: string;
  readonly set: readonly (readonly Bound[])[];

  constructor(raw: string, set: readonly (readonly Bound[])[]) {
    this.raw = raw;
    this.set = set;
  }

  test(v: SemVer): boolean {
    return this.set.some((bounds) => bounds.every((b) => holds(v.compare(b.semver), b.operator)));
  }

  toString(): string {
    return this.raw;
  }
}

function holds(c: number, op: Operator): boolean {
  switch (op) {
    case ">=":
      return c >= 0;
    case ">":
      return c > 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    default:
      return c === 0;
  }
}

/** The operator of a SIMPLE bound of `len` characters at `at` (no slicing). */
function operatorAt(text: string, at: number, len: number): Operator {
  if (len === 0) return "";
  const c = text.charCodeAt(at);
  // SIMPLE admits >=, <=, >, < and = only.
  if (len === 2) return c === 62 /* > */ ? ">=" : "<=";
  return c === 62 ? ">" : c === 60 /* < */ ? "<" : "=";
}

// `>=1.2.3 <1.5.0-0`: plain bounds, which most graphs (and every synced one) use.
const SIMPLE = /^(?:(?:>=|<=|>|<|=)?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)? ?)+$/;

/**
 * Parses a range with node-semver's grammar (carets, tildes, x-ranges, hyphens, `||`).
 * Plain lists of bounds are read directly, which is many times faster than node-semver
 * for the tens of thousands of `shippedIn` ranges of a large graph, and gives the same
 * bounds it would.
 */
export function parseRange(text: string): VersionRange | null {
  if (SIMPLE.test(text)) {
    const bounds: Bound[] = [];
    // Bounds are separated by single spaces (SIMPLE): scanned in place, no split.
    for (let at = 0; at < text.length; ) {
      let end = text.indexOf(" ", at);
      if (end === -1) end = text.length;
      if (end > at) {
        // The operator is what precedes the first digit (SIMPLE allows nothing else).
        const c0 = text.charCodeAt(at);
        const len = c0 >= 48 && c0 <= 57 ? 0 : text.charCodeAt(at + 1) === 61 /* = */ ? 2 : 1;
        const v = parseVersion(text.slice(at + len, end));
        if (v === null) return null;
        bounds.push({ operator: operatorAt(text, at, len), semver: v });
      }
      at = end + 1;
    }
    return new VersionRange(text, [bounds]);
  }
  let range: Range;
  try {
    range = new Range(text, RANGE_OPTIONS);
  } catch {
    return null;
  }
  const set = range.set.map((comparators) =>
    comparators.flatMap((c: Comparator) =>
      // `*` parses to a comparator whose semver is the ANY symbol: no bound at all.
      c.semver instanceof SemVer ? [{ operator: c.operator as Operator, semver: c.semver }] : [],
    ),
  );
  return new VersionRange(text, set);
}

export function satisfies(version: SemVer, range: VersionRange): boolean {
  return range.test(version);
}

/** Precedence order; build metadata is ignored (equal-but-build versions are duplicates). */
export function compareVersions(a: SemVer, b: SemVer): number {
  return a.compare(b);
}

/** `2.10.0+build.7` -> `2.10.0`: the key under which versions must be unique. */
export function versionKey(v: SemVer): string {
  return v.version;
}

// v? MAJOR.MINOR[.PATCH] then a prerelease after `-`, after `.` or glued on when it starts
// with a letter (`2.6.0.rc1`, `2.6.0rc1`), then +build. `1.2.3.4` does not parse: a fourth
// number is not a prerelease anyone meant.
const LENIENT =
  /^[vV]?(\d{1,15})\.(\d{1,15})(?:\.(\d{1,15}))?(?:(?:-|\.(?=[A-Za-z])|(?=[A-Za-z]))([0-9A-Za-z][0-9A-Za-z.-]*))?(?:\+([0-9A-Za-z][0-9A-Za-z.-]*))?$/;

/**
 * The version a tag names, leniently (`v0.1` is 0.1.0, `2.6.0.rc1` is 2.6.0-rc1,
 * `2.7.0-dev` is itself), or null when it names none (`release-foo`, `1.2.3.4`).
 */
export function parseLenientVersion(tag: string): string | null {
  const m = LENIENT.exec(tag);
  if (m === null) return null;
  const [, major, minor, patch = "0", pre, build] = m;
  const core = [major, minor, patch].map((n) => String(Number(n))).join(".");
  const text = `${core}${pre === undefined ? "" : `-${pre}`}${build === undefined ? "" : `+${build}`}`;
  // The strict parser has the last word on identifiers (`rc.01` has a leading zero).
  return parseVersion(text) === null ? null : text;
}

/**
 * The release whose version a text names (a `v` prefix and `+build` tolerated: semver
 * precedence decides), or undefined. Tags are not read here: callers that accept a tag
 * look it up after this.
 */
export function releaseByVersion<R extends { readonly semver: SemVer }>(
  releases: readonly R[],
  text: string,
): R | undefined {
  const v = parseVersion(text.replace(/^v(?=\d)/, ""));
  return v === null ? undefined : releases.find((r) => r.semver.compare(v) === 0);
}

/**
 * The version of a text already checked to be one (a release's version in a validated
 * graph, a tag sync parsed): a text that is not is a bug here, not an input error.
 */
export function checkedVersion(text: string): SemVer {
  const v = parseVersion(text);
  if (v === null) throw new Error(`internal: "${text}" is not a version`);
  return v;
}
