import { firmwareRepo, git, gitRepo, script } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { CatFile, listTags, openRepo, readTags, selectTags } from "../src/index.js";

/** The thin git layer, against real repositories made by the shared helper. */
describe("reading a repository's tags", () => {
  it("lists every tag with one for-each-ref, peeling annotated ones to their commit", async () => {
    const repo = await openRepo(firmwareRepo());
    const tags = await listTags(repo);
    const byName = Object.fromEntries(tags.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual([
      "2.6.0-rc1",
      "2.6.0.rc1",
      "2.7.0-dev",
      "release-foo",
      "v0.1",
      "v1.99.10",
      "v2.6.0",
      "v2.7.0",
      "v2.7.1",
      "v2.8.0",
    ]);
    expect(byName["v0.1"]?.annotated).toBe(true);
    expect(byName["v1.99.10"]?.annotated).toBe(false);
    expect(byName["2.6.0-rc1"]?.commit).toBe(byName["2.6.0.rc1"]?.commit);
    expect(byName["v2.8.0"]?.commit).toBe(git(repo.path, ["rev-parse", "v2.8.0^{commit}"]).trim());
    for (const t of tags) expect(t.target).toBe("commit");
  });

  it("reads each tag's components, sharing what did not change between tags", async () => {
    const repo = await openRepo(firmwareRepo());
    const { tags } = selectTags(await listTags(repo));
    const progress: string[] = [];
    const read = await readTags(repo.path, tags, (p) =>
      progress.push(`${p.stage} ${p.done}/${p.total}`),
    );
    const at = Object.fromEntries(read.tags.map((t) => [t.tag, t]));
    expect(read.tags.map((t) => t.version)).toEqual([
      "0.1.0",
      "1.99.10",
      "2.6.0",
      "2.7.0-dev",
      "2.7.0",
      "2.7.1",
      "2.8.0",
    ]);
    expect([...(at["v0.1"]?.components.keys() ?? [])]).toEqual([]);
    expect(at["v1.99.10"]?.components.get("users")).toEqual({ epoch: 1, scripts: [] });
    const users = at["v2.6.0"]?.components.get("users");
    expect(users?.epoch).toBe(2);
    expect(users?.scripts.map((s) => s.id)).toEqual([
      "users-1-2-priv-groups",
      "users-2-1-priv-groups",
    ]);
    // Same folder (same tree object) at two tags: read and interpreted once.
    expect(at["v2.7.0"]?.components.get("users")).toBe(at["2.7.0-dev"]?.components.get("users"));
    expect(at["v2.7.1"]?.components.get("network")).not.toBe(
      at["v2.7.0"]?.components.get("network"),
    );
    expect(read.problems).toEqual([
      "migrations/ownership/2-3.sh: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped",
    ]);
    const s = users?.scripts[0];
    expect(read.blobs.get(s?.blob as string)?.toString()).toBe(
      script("users 1 -> 2: priv-* groups"),
    );
    expect(progress.at(-1)).toMatch(/^files (\d+)\/\1$/);
  });

  it("skips a tag whose EPOCH is not an integer, and says why", async () => {
    const path = gitRepo([
      {
        date: "2023-01-01T00:00:00Z",
        files: { "migrations/users/EPOCH": "2\n" },
        tags: ["v1.0.0"],
      },
      {
        date: "2023-02-01T00:00:00Z",
        files: { "migrations/users/EPOCH": "two\n" },
        tags: ["v1.1.0"],
      },
    ]);
    const repo = await openRepo(path);
    const read = await readTags(path, selectTags(await listTags(repo)).tags);
    expect(read.tags.map((t) => t.tag)).toEqual(["v1.0.0"]);
    expect(read.skipped).toEqual([
      {
        tag: "v1.1.0",
        reason: 'migrations/users/EPOCH holds "two", not an epoch (an integer >= 0)',
      },
    ]);
  });

  it("answers batches in order, null for what is missing", async () => {
    const path = firmwareRepo();
    const cat = new CatFile(path);
    try {
      const [a, missing, b] = await cat.read(["v2.6.0:README.md", "v2.6.0:nope", "v0.1:README.md"]);
      expect(a?.data.toString()).toBe("# bmc firmware\n");
      expect(missing).toBeNull();
      expect(b?.type).toBe("blob");
    } finally {
      await cat.close();
    }
  });

  it("refuses what is not a repository", async () => {
    await expect(openRepo("/nonexistent/firmware")).rejects.toThrow(
      "--repo /nonexistent/firmware: no such folder",
    );
    const dir = gitRepo();
    await expect(openRepo(`${dir}/.git/objects`)).resolves.toBeDefined();
    await expect(openRepo("/")).rejects.toThrow(/--repo \/: not a git repository/);
  });
});
