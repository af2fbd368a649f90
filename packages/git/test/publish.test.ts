import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadGraph } from "@stepstone/graph-file";
import { transitionUse } from "@stepstone/planner";
import { git, gitRepo, script, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { publishTransitions } from "../src/index.js";

/**
 * users moves 1 -> 2 in 2.0.0; 1.9.0 and 2.0.0 are golden; only the transition build
 * 2.0.1-transition.1 carries the way back (users-2-1, pre-flash). On qemuarm the
 * transition build is already at users 2 as well (a platform override of its own).
 */
function graphDir(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "migrations/users"), { recursive: true });
  writeFileSync(join(dir, "migrations/users/1-2-groups.sh"), script("users 1 -> 2"));
  writeFileSync(join(dir, "migrations/users/2-1-groups.sh"), script("users 2 -> 1"));
  const users = (to: number) => ({ users: to });
  writeFileSync(
    join(dir, "release-graph.json"),
    JSON.stringify({
      schemaVersion: 1,
      components: { users: { paths: ["etc/group"] } },
      releases: [
        { version: "1.9.0", golden: true, epochs: users(1) },
        { version: "2.0.0", golden: true, epochs: users(2) },
        {
          version: "2.0.1-transition.1",
          transition: true,
          epochs: users(2),
          ships: ["users-2-1"],
          platforms: { qemuarm: { epochs: users(2) } },
        },
        { version: "2.0.2-transition.1", transition: true, withdrawn: true, epochs: users(2) },
      ],
      migrations: [
        {
          id: "users-1-2",
          component: "users",
          from: 1,
          to: 2,
          script: "migrations/users/1-2-groups.sh",
          shippedIn: ">=2.0.0",
        },
        {
          id: "users-2-1",
          component: "users",
          from: 2,
          to: 1,
          script: "migrations/users/2-1-groups.sh",
        },
      ],
    }),
  );
  return join(dir, "release-graph.json");
}

describe("publishTransitions", () => {
  it("writes one bundle per platform the release overrides, and skips what has no bundle", async () => {
    const loaded = await loadGraph(graphDir(), { checkScripts: true });
    const repo = gitRepo();
    const res = await publishTransitions({ repo, loaded });
    expect(res.releases.map((r) => [r.version, r.status, r.reason ?? null])).toEqual([
      ["2.0.1-transition.1", "published", null],
      ["2.0.2-transition.1", "skipped", "withdrawn: never a stop, nothing to publish"],
    ]);
    expect(res.releases[0]?.files).toEqual([
      "README.md",
      "SHA256SUMS",
      "migration-2.0.1-transition.1-qemuarm.tar.gz",
      "migration-2.0.1-transition.1.tar.gz",
    ]);
    const sums = readFileSync(join(repo, "2.0.1-transition.1/SHA256SUMS"), "utf8");
    expect(sums).toMatch(
      /^[0-9a-f]{64} {2}migration-2\.0\.1-transition\.1\.tar\.gz\n[0-9a-f]{64} {2}migration-2\.0\.1-transition\.1-qemuarm\.tar\.gz\n$/,
    );
    expect(git(repo, ["tag", "-n1"]).trim()).toBe(
      "2.0.1-transition.1 Transition build 2.0.1-transition.1: closes 1 gap between golden releases",
    );
    const again = await publishTransitions({ repo, loaded });
    expect(again.releases[0]?.status).toBe("unchanged");
    expect(git(repo, ["rev-list", "--count", "HEAD"]).trim()).toBe("1");
  });

  it("tags the commit that already holds a build whose tag was deleted", async () => {
    const loaded = await loadGraph(graphDir(), { checkScripts: true });
    const repo = gitRepo();
    await publishTransitions({ repo, loaded });
    git(repo, ["tag", "-d", "2.0.1-transition.1"]);
    const res = await publishTransitions({ repo, loaded });
    expect(res.releases[0]?.status).toBe("tagged");
    expect(git(repo, ["rev-list", "--count", "HEAD"]).trim()).toBe("1");
    expect(git(repo, ["cat-file", "-t", "2.0.1-transition.1"]).trim()).toBe("tag");
  });

  it("restores a published folder deleted since, without a new tag", async () => {
    const loaded = await loadGraph(graphDir(), { checkScripts: true });
    const repo = gitRepo();
    await publishTransitions({ repo, loaded });
    git(repo, ["rm", "-rq", "2.0.1-transition.1"]);
    git(repo, ["commit", "-qm", "clean up"]);
    const res = await publishTransitions({ repo, loaded });
    expect(res.releases[0]?.status).toBe("restored");
    expect(git(repo, ["rev-list", "--count", "HEAD"]).trim()).toBe("3");
    expect(git(repo, ["diff", "--stat", "2.0.1-transition.1", "HEAD", "--"])).toBe("");
  });
});

describe("transitionUse", () => {
  it("finds the gaps a transition release closes and the plans that stop at it", async () => {
    const { graph } = await loadGraph(graphDir());
    const t = graph.releases.find((r) => r.version === "2.0.1-transition.1");
    const use = transitionUse(graph, t as NonNullable<typeof t>);
    expect(use.set.map((r) => r.version)).toEqual(["1.9.0", "2.0.0"]);
    expect(use.closes.map((c) => [c.from.version, c.to.version, c.without.code])).toEqual([
      ["2.0.0", "1.9.0", "wipe"],
    ]);
    expect(use.closes[0]?.path.map((r) => r.version)).toEqual([
      "2.0.0",
      "2.0.1-transition.1",
      "1.9.0",
    ]);
    expect(use.stops.map((s) => `${s.from.version}->${s.to.version}`)).toEqual(["2.0.0->1.9.0"]);
  });
});
