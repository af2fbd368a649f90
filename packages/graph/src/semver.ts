import semver, { Range, type SemVer } from "semver";

/**
 * Every range in stepstone is evaluated with prereleases included: a transition build
 * `2.10.1-transition.1` must satisfy `>=2.10.0` like any other release.
 */
const RANGE_OPTIONS = { includePrerelease: true } as const;

export function parseVersion(text: string): SemVer | null {
  return semver.parse(text, { loose: false });
}

export function parseRange(text: string): Range | null {
  try {
    return new Range(text, RANGE_OPTIONS);
  } catch {
    return null;
  }
}

export function satisfies(version: SemVer, range: Range): boolean {
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
