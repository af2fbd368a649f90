import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
// The search itself, below the public plan(): one tree per source.
import { allowMask, releaseOrigin } from "../src/hop.js";
import { pathTree, planFromTree } from "../src/plan.js";
import { context, graph, routeOf } from "./helpers.js";

/**
 * Real data: GitLab's required upgrade stops (fixtures/gitlab-upgrade-path, see its
 * README). GitLab's rule, written as a release graph, is one `upgradeFrom: ">=S"` per
 * release, S the greatest resolved stop below it; the planner must then find the paths
 * GitLab's upgrade-path tool prints.
 */

const DIR = join(import.meta.dirname, "fixtures", "gitlab-upgrade-path");
const read = (name: string) => readFileSync(join(DIR, name), "utf8");

const versions: string[] = JSON.parse(read("versions.json")).versions;
const path: { supported: string[]; all: string[] } = JSON.parse(read("path.json"));

/** upgrade_path.yml is a list of `- major: N` / `minor: N` / `comments: "..."` entries. */
function requiredStops(yaml: string): { major: number; minor: number; comments: string }[] {
  const entries: Record<string, string>[] = [];
  for (const line of yaml.split("\n")) {
    const m = /^(-\s+|\s+)(\w+):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1]?.startsWith("-")) entries.push({});
    const value = (m[3] as string).replace(/^"(.*)"$/, "$1");
    (entries[entries.length - 1] as Record<string, string>)[m[2] as string] = value;
  }
  return entries.map((e) => ({
    major: Number(e.major),
    minor: Number(e.minor),
    comments: e.comments ?? "",
  }));
}

const stops = requiredStops(read("upgrade_path.yml"))
  // GitLab's tool leaves conditional stops out of its paths.
  .filter((s) => !/conditional stop/i.test(s.comments))
  // Each resolves to its newest released patch; stops not released yet resolve to nothing.
  .flatMap((s) => {
    const patches = versions.filter(
      (v) => semver.major(v) === s.major && semver.minor(v) === s.minor,
    );
    return patches.length === 0 ? [] : [semver.rsort(patches)[0] as string];
  })
  .sort(semver.compare);

const releases = versions.map((version) => {
  const below = stops.filter((s) => semver.lt(s, version));
  const s = below[below.length - 1];
  return { version, epochs: {}, ...(s !== undefined && { upgradeFrom: `>=${s}` }) };
});
const gitlab = graph({ releases });

/** GitLab's path from a to b: every resolved stop strictly between them, ascending, then b. */
const gitlabPath = (a: string, b: string) => [
  ...stops.filter((s) => semver.gt(s, a) && semver.lt(s, b)),
  b,
];

describe("GitLab's upgrade path", () => {
  it("reads the fixture: the conditional 17.1 and the stops not released yet (17.8 on) are left out", () => {
    expect(stops.slice(-3)).toEqual(["16.11.10", "17.3.7", "17.5.2"]);
    expect(stops.some((s) => s.startsWith("17.1.") || semver.gte(s, "17.8.0"))).toBe(false);
    // `all` is those stops, then the newest release.
    expect([...stops, "17.6.0"]).toEqual(path.all);
  });

  it("from the oldest release to the newest: path.json's `all`", () => {
    const sorted = [...versions].sort(semver.compare);
    const oldest = sorted[0] as string;
    const newest = sorted[sorted.length - 1] as string;
    expect([oldest, newest]).toEqual(["6.0.0", "17.6.0"]);
    expect(routeOf(gitlab, oldest, newest)).toEqual(path.all);
  });

  it.each(path.supported)("from supported version %s to the newest", (from) => {
    expect(routeOf(gitlab, from, "17.6.0")).toEqual(gitlabPath(from, "17.6.0"));
  });

  it("between every pair of a sample of releases, upward, GitLab's rule", () => {
    const ctx = context(gitlab);
    const none = allowMask(ctx, "none");
    const sorted = ctx.releases.map((r) => r.version);
    let checked = 0;
    for (let a = 0; a < sorted.length; a += 5) {
      const tree = pathTree(ctx, releaseOrigin(ctx, a), none);
      for (let b = a + 1; b < sorted.length; b += 3) {
        const p = planFromTree(ctx, tree, b);
        const route = p?.steps.map((s) => s.to.version);
        expect(route, `${sorted[a]} -> ${sorted[b]}`).toEqual(
          gitlabPath(sorted[a] as string, sorted[b] as string),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it("downgrades, which GitLab's tool does not plan, are one hop: upgradeFrom only binds upward", () => {
    expect(routeOf(gitlab, "17.6.0", "8.11.11")).toEqual(["8.11.11"]);
  });
});
