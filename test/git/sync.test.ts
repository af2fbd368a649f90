import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Commit,
  commit,
  firmwareRepo,
  git,
  gitRepo,
  type Json,
  script,
  tempDir,
} from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { BIN, stepstone } from "../helpers/cli.js";

function syncInto(repo: string, extra: string[] = [], dir = tempDir()) {
  const graph = join(dir, "release-graph.json");
  const run = stepstone(["sync", "--repo", repo, "--graph", graph, ...extra]);
  return { ...run, dir, graph };
}
const read = (file: string): Json => JSON.parse(readFileSync(file, "utf8"));
const rel = (g: Json, v: string) => g.releases.find((r: Json) => r.version === v);
const mig = (g: Json, id: string) => g.migrations.find((m: Json) => m.id === id);

describe("stepstone sync", () => {
  it("reads a firmware repository's messy tags into a graph that validates", () => {
    const repo = firmwareRepo();
    const r = syncInto(repo);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("release-graph.json from");
    expect(r.stdout).toContain("7 tags read, 3 skipped");
    expect(r.stdout).toContain(
      "releases: 7 added (0.1.0, 1.99.10, 2.6.0, 2.7.0-dev, 2.7.0, 2.7.1, 2.8.0), 0 updated, 0 unchanged",
    );
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      'warning: tag 2.6.0-rc1 skipped: collides with 2.6.0.rc1 (all read as 2.6.0-rc1); set "tag" on release 2.6.0-rc1 in the graph to choose one',
      'warning: tag 2.6.0.rc1 skipped: collides with 2.6.0-rc1 (all read as 2.6.0-rc1); set "tag" on release 2.6.0-rc1 in the graph to choose one',
      "warning: tag release-foo skipped: does not read as a version",
      "warning: migrations/ownership/2-3.sh: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped",
      expect.stringMatching(
        /^warning: migration network-1-2-dhcpv4: migrations\/network\/1-2-dhcpv4\.sh changed between tags v2\.7\.0 and v2\.7\.1 \(sha256 \w{12} -> \w{12}\): a released migration must not change; the graph pins its content at v2\.8\.0$/,
      ),
    ]);

    const g = read(r.graph);
    expect(g.releases.map((x: Json) => [x.version, x.tag])).toEqual([
      ["0.1.0", "v0.1"],
      ["1.99.10", "v1.99.10"],
      ["2.6.0", "v2.6.0"],
      ["2.7.0-dev", "2.7.0-dev"],
      ["2.7.0", "v2.7.0"],
      ["2.7.1", "v2.7.1"],
      ["2.8.0", "v2.8.0"],
    ]);
    expect(rel(g, "0.1.0").epochs).toEqual({ network: 1, ownership: 1, users: 1 });
    expect(rel(g, "2.6.0").epochs).toEqual({ network: 2, ownership: 1, users: 2 });
    expect(rel(g, "2.8.0").epochs).toEqual({ network: 2, ownership: 2, users: 2 });
    expect(g.components).toEqual({
      network: { wipeable: false },
      ownership: { wipeable: false },
      users: { wipeable: false },
    });
    expect(
      Object.fromEntries(g.migrations.map((m: Json) => [m.id, [m.script, m.shippedIn]])),
    ).toEqual({
      "network-1-2-dhcpv4": ["migrations/network/1-2-dhcpv4.sh", ">=2.6.0"],
      "ownership-1-2-daemon-owners": ["migrations/ownership/1-2-daemon-owners.sh", ">=2.8.0"],
      "users-1-2-priv-groups": ["migrations/users/1-2-priv-groups.sh", ">=2.6.0"],
      // Dropped in 2.7.0-dev, shipped again in 2.8.0.
      "users-2-1-priv-groups": ["migrations/users/2-1-priv-groups.sh", "2.6.0 || >=2.8.0"],
    });
    // Scripts are mirrored beside the graph with the pinned content (the newest tag's).
    expect(readFileSync(join(r.dir, "migrations/network/1-2-dhcpv4.sh"), "utf8")).toBe(
      script("network 1 -> 2: [DHCPv4], fixed"),
    );
    expect(statSync(join(r.dir, "migrations/network/1-2-dhcpv4.sh")).mode & 0o777).toBe(0o644);

    const v = stepstone(["validate", "--graph", r.graph]);
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("3 components, 7 releases");
  });

  it("leaves the file byte-identical when the repository did not change", () => {
    const repo = firmwareRepo();
    const first = syncInto(repo);
    const bytes = readFileSync(first.graph);
    const before = statSync(first.graph).mtimeMs;
    const again = syncInto(repo, ["--format", "json"], first.dir);
    expect(again.code).toBe(0);
    expect(readFileSync(first.graph).equals(bytes)).toBe(true);
    expect(statSync(first.graph).mtimeMs).toBe(before);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({
      created: false,
      written: false,
      tags: { read: 7, filtered: 0 },
      releases: { added: [], updated: [], unchanged: 7 },
      migrations: { added: [], updated: [], unchanged: 4 },
      scripts: [],
    });
    expect(summary.tags.skipped.map((s: Json) => s.tag)).toEqual([
      "2.6.0-rc1",
      "2.6.0.rc1",
      "release-foo",
    ]);
    const text = syncInto(repo, [], first.dir);
    expect(text.stdout).toMatch(
      /^unchanged .*release-graph\.json: already says what the 7 tags read say, 3 skipped\n$/,
    );
  });

  it("keeps what a person wrote, and takes new tags in", () => {
    const repo = firmwareRepo();
    const first = syncInto(repo);
    const g = read(first.graph);
    g.components.users = {
      paths: ["etc/passwd", "etc/group"],
      onFailure: "halt",
      services: ["phosphor-user-manager.service"],
    };
    g.components.network.onFailure = "isolate";
    g.components.network.paths = ["etc/systemd/network"];
    Object.assign(rel(g, "2.6.0"), {
      golden: true,
      signedBy: "vendor-2021",
      trusts: ["vendor-2021"],
      notes: "first golden",
    });
    Object.assign(rel(g, "2.8.0"), {
      golden: true,
      upgradeFrom: ">=2.6.0",
      signedBy: "vendor-2021",
      trusts: ["vendor-2021"],
      platforms: { qemuarm: { epochs: { ownership: 1 } } },
      line: "2.8-lts",
    });
    rel(g, "0.1.0").runner = false;
    rel(g, "1.99.10").withdrawn = true;
    // A transition build written by hand (no tag): sync must not change what it ships.
    g.releases.push({
      version: "2.8.1-transition.1",
      transition: true,
      epochs: { network: 2, ownership: 2, users: 2 },
      ships: ["users-2-1-priv-groups"],
      signedBy: "vendor-2021",
      trusts: ["vendor-2021", "vendor-2023"],
    });
    mig(g, "users-1-2-priv-groups").description = "priv-* groups";
    mig(g, "users-1-2-priv-groups").notes = "from the 2.6 non-root work";
    writeFileSync(first.graph, `${JSON.stringify(g, null, 2)}\n`);

    // 2.9.0 retires users-1-2 and adds a component.
    commit(repo, [
      {
        date: "2022-06-01T08:00:00Z",
        files: {
          "migrations/users/1-2-priv-groups.sh": null,
          "migrations/sensors/EPOCH": "3\n",
        },
        annotated: ["v2.9.0"],
      },
    ]);
    const r = syncInto(repo, ["--format", "json"], first.dir);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.releases).toEqual({
      added: ["2.9.0"],
      updated: [
        "0.1.0",
        "1.99.10",
        "2.6.0",
        "2.7.0-dev",
        "2.7.0",
        "2.7.1",
        "2.8.0",
        "2.8.1-transition.1",
      ],
      unchanged: 0,
    });
    expect(summary.components.added).toEqual(["sensors"]);
    expect(r.stderr).toContain(
      "warning: release 2.8.1-transition.1 is not read from a tag: new component sensors given epoch 1; check it",
    );

    const after = read(first.graph);
    expect(after.components.users).toEqual(g.components.users);
    expect(after.components.network).toEqual(g.components.network);
    expect(after.components.sensors).toEqual({ wipeable: false });
    const { epochs: _e26, ...hand26 } = rel(after, "2.6.0");
    expect(hand26).toEqual({
      version: "2.6.0",
      tag: "v2.6.0",
      golden: true,
      signedBy: "vendor-2021",
      trusts: ["vendor-2021"],
      notes: "first golden",
    });
    expect(rel(after, "2.8.0")).toMatchObject({
      golden: true,
      upgradeFrom: ">=2.6.0",
      platforms: { qemuarm: { epochs: { ownership: 1 } } },
      line: "2.8-lts",
      epochs: { network: 2, ownership: 2, users: 2, sensors: 1 },
    });
    expect(rel(after, "0.1.0").runner).toBe(false);
    expect(rel(after, "1.99.10").withdrawn).toBe(true);
    // A new release is signed like the newest release before it (not a transition build,
    // which trusts extra keys on purpose), and sync says so.
    expect(rel(after, "2.9.0")).toEqual({
      version: "2.9.0",
      epochs: { network: 2, ownership: 2, users: 2, sensors: 3 },
      signedBy: "vendor-2021",
      trusts: ["vendor-2021"],
      tag: "v2.9.0",
    });
    expect(Object.keys(rel(after, "2.9.0"))).toEqual([
      "version",
      "epochs",
      "signedBy",
      "trusts",
      "tag",
    ]);
    expect(summary.inherited).toEqual([
      { version: "2.9.0", from: "2.8.0", signedBy: "vendor-2021", trusts: ["vendor-2021"] },
    ]);
    expect(mig(after, "users-1-2-priv-groups")).toMatchObject({
      description: "priv-* groups",
      notes: "from the 2.6 non-root work",
      // Ends before 2.9.0, still covers the transition build (which had it).
      shippedIn: ">=2.6.0 <2.9.0",
    });
    expect(mig(after, "users-2-1-priv-groups").shippedIn).toBe("2.6.0 || >=2.8.0");

    const v = stepstone(["validate", "--graph", first.graph]);
    expect(v.code).toBe(0);
    const again = syncInto(repo, ["--format", "json"], first.dir);
    expect(JSON.parse(again.stdout).written).toBe(false);
  });

  it("gives a new release the keys of the newest older release of its line, and says so", () => {
    const repo = firmwareRepo();
    const first = syncInto(repo);
    // A key rotation between the 2.7 and 2.8 lines, with the public keys in the graph.
    const keys = join(first.dir, "keys");
    mkdirSync(keys);
    for (const id of ["old", "new"]) {
      const priv = join(first.dir, `${id}.pem`);
      execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", priv]);
      execFileSync("openssl", [
        "pkey",
        "-in",
        priv,
        "-pubout",
        "-out",
        join(keys, `${id}.pub.pem`),
      ]);
    }
    const g = read(first.graph);
    g.keys = { old: { public: "keys/old.pub.pem" }, new: { public: "keys/new.pub.pem" } };
    for (const r of g.releases) Object.assign(r, { signedBy: "old", trusts: ["old"] });
    Object.assign(rel(g, "2.8.0"), { signedBy: "new", trusts: ["new"] });
    writeFileSync(first.graph, `${JSON.stringify(g, null, 2)}\n`);
    // A patch of the old line, tagged after the rotation, and a new line.
    commit(repo, [{ date: "2022-07-01T08:00:00Z", files: {}, annotated: ["v2.7.2", "v2.9.0"] }]);

    const r = syncInto(repo, [], first.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "  keys: 2.7.2 inherits signedBy old and trusts old from 2.7.1; check them",
    );
    expect(r.stdout).toContain(
      "  keys: 2.9.0 inherits signedBy new and trusts new from 2.8.0; check them",
    );
    const after = read(first.graph);
    expect(rel(after, "2.7.2")).toMatchObject({ signedBy: "old", trusts: ["old"] });
    expect(rel(after, "2.9.0")).toMatchObject({ signedBy: "new", trusts: ["new"] });
    // The graph it wrote is valid, with no release left unsigned among signed ones.
    const v = stepstone(["validate", "--graph", first.graph]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).not.toContain("no signedBy");
  });

  it("keeps a hand-formatted file as it is when nothing changes", () => {
    const repo = firmwareRepo();
    const first = syncInto(repo);
    const fourSpaces = `${JSON.stringify(read(first.graph), null, 4)}\n`;
    writeFileSync(first.graph, fourSpaces);
    syncInto(repo, [], first.dir);
    expect(readFileSync(first.graph, "utf8")).toBe(fourSpaces);
  });

  it("resolves a tag collision with the tag the release records", () => {
    const repo = firmwareRepo();
    const first = syncInto(repo);
    const g = read(first.graph);
    g.releases.splice(2, 0, {
      version: "2.6.0-rc1",
      epochs: { network: 1, ownership: 1, users: 2 },
      tag: "2.6.0.rc1",
    });
    writeFileSync(first.graph, JSON.stringify(g, null, 2));
    const r = syncInto(repo, [], first.dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "warning: tag 2.6.0-rc1 skipped: reads as 2.6.0-rc1 like 2.6.0.rc1, which release 2.6.0-rc1 records as its tag",
    );
    expect(r.stderr).not.toContain("tag 2.6.0.rc1 skipped");
    const after = read(first.graph);
    expect(rel(after, "2.6.0-rc1")).toEqual({
      version: "2.6.0-rc1",
      epochs: { network: 1, ownership: 1, users: 2 },
      tag: "2.6.0.rc1",
    });
    expect(mig(after, "users-2-1-priv-groups").shippedIn).toBe(">=2.6.0-rc1 <2.7.0-dev || >=2.8.0");
  });

  it("takes only the tags --tags matches and --exclude does not", () => {
    const r = syncInto(firmwareRepo(), ["--tags", "v2.*", "--exclude", "*.1", "--format", "json"]);
    expect(r.code).toBe(0);
    // v2.7.1 is excluded: the edit shows between the tags that were read.
    expect(r.stderr).toContain("changed between tags v2.7.0 and v2.8.0");
    const g = read(r.graph);
    expect(g.releases.map((x: Json) => x.tag)).toEqual(["v2.6.0", "v2.7.0", "v2.8.0"]);
    expect(JSON.parse(r.stdout).tags).toEqual({ read: 3, filtered: 7, skipped: [], peeled: [] });
  });

  it("reads a bare repository (a CI mirror) the same way", () => {
    const repo = firmwareRepo();
    const bare = join(tempDir(), "firmware.git");
    execFileSync("git", ["clone", "--quiet", "--bare", repo, bare]);
    const a = syncInto(repo);
    const b = syncInto(bare);
    expect(b.code).toBe(0);
    expect(readFileSync(b.graph, "utf8")).toBe(readFileSync(a.graph, "utf8"));
  });

  it("creates release-graph.json in the current folder when there is none above it", () => {
    const cwd = join(tempDir(), "release");
    mkdirSync(cwd);
    const r = stepstone(["sync", "--repo", firmwareRepo()], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created release-graph\.json from /);
    expect(read(join(cwd, "release-graph.json")).releases).toHaveLength(7);
  });

  it("refuses bad input with exit 2 and writes nothing", () => {
    const dir = tempDir();
    const graph = join(dir, "release-graph.json");
    const notRepo = stepstone(["sync", "--repo", dir, "--graph", graph]);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toMatch(/^stepstone: --repo .*: not a git repository/);
    const missing = stepstone(["sync", "--repo", join(dir, "nope"), "--graph", graph]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(": no such folder");

    writeFileSync(
      graph,
      '{"schemaVersion": 1, "components": {}, "releases": [{"version": "2.x"}]}',
    );
    const broken = stepstone(["sync", "--repo", firmwareRepo(), "--graph", graph]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("release-graph.json: releases[0].epochs: required");
    expect(readFileSync(graph, "utf8")).toContain('"2.x"');

    // The graph at the repository's top would mirror scripts over its own migrations/.
    const repo = firmwareRepo();
    const top = stepstone(["sync", "--repo", repo, "--graph", join(repo, "release-graph.json")]);
    expect(top.code).toBe(2);
    expect(top.stderr).toContain("the graph sits at the top of the repository it reads");
    expect(git(repo, ["status", "--porcelain"])).toBe("");
  });

  it("runs a handful of git processes however many tags there are", () => {
    const history: Commit[] = Array.from({ length: 60 }, (_, i) => ({
      date: new Date(Date.UTC(2020, 0, 1 + i)).toISOString(),
      files: {
        "migrations/users/EPOCH": `${i + 1}\n`,
        [`migrations/users/${i}-${i + 1}-step.sh`]: script(`users ${i} -> ${i + 1}`),
        [`migrations/users/${i + 1}-${i}-step.sh`]: script(`users ${i + 1} -> ${i}`),
      },
      ...(i % 2 === 0 ? { tags: [`v1.${i}.0`] } : { annotated: [`1.${i}.0`] }),
    }));
    const repo = gitRepo(history);
    const dir = tempDir();
    const trace = join(dir, "trace");
    execFileSync("strace", [
      "-f",
      "-qq",
      "-e",
      "trace=execve",
      "-o",
      trace,
      process.execPath,
      BIN,
      "sync",
      "--repo",
      repo,
      "--graph",
      join(dir, "release-graph.json"),
    ]);
    const gits = readFileSync(trace, "utf8")
      .split("\n")
      .filter((l) => /execve\("[^"]*\/git"/.test(l) && !l.includes("ENOENT"));
    expect(read(join(dir, "release-graph.json")).migrations).toHaveLength(120);
    expect(gits.length).toBeGreaterThan(0);
    expect(gits.length).toBeLessThanOrEqual(6);
  });
});

describe("sync: tags of tags", () => {
  it("peels annotated tags of annotated tags to their commit, as ^{commit} does, and says so", () => {
    const repo = gitRepo([
      {
        date: "2021-01-15T16:00:00Z",
        files: {
          "migrations/users/EPOCH": "2\n",
          "migrations/users/1-2-priv-groups.sh": script("users 1 -> 2"),
        },
      },
    ]);
    const nested = (name: string, inner: string) =>
      git(repo, [
        "-c",
        "advice.nestedTag=false",
        "tag",
        "-a",
        name,
        inner,
        "-m",
        `Release ${name}`,
      ]);
    // OpenBMC's 2.8.0: a tag object whose object is another tag object (whose ref is gone).
    git(repo, ["tag", "-a", "inner-1", "-m", "inner"]);
    nested("2.8.0", "inner-1");
    git(repo, ["tag", "-d", "inner-1"]);
    // Three levels, the inner refs kept (not versions: skipped as such).
    git(repo, ["tag", "-a", "rc-a", "-m", "a"]);
    nested("rc-b", "rc-a");
    nested("2.6.0-rc1", "rc-b");
    // A tag of a tag of a tree is still no release.
    git(repo, ["tag", "-a", "tree-a", "HEAD^{tree}", "-m", "a tree"]);
    nested("2.9.0", "tree-a");
    const head = git(repo, ["rev-parse", "HEAD"]).trim();

    const r = syncInto(repo);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2 tags read");
    const g = read(r.graph);
    expect(g.releases.map((x: Json) => [x.version, x.tag, x.epochs])).toEqual([
      ["2.6.0-rc1", "2.6.0-rc1", { users: 2 }],
      ["2.8.0", "2.8.0", { users: 2 }],
    ]);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toContain(
      `note: tag 2.6.0-rc1 is an annotated tag of an annotated tag (3 tag objects): read at the commit they lead to, ${head.slice(0, 12)}`,
    );
    expect(lines).toContain(
      `note: tag 2.8.0 is an annotated tag of an annotated tag (2 tag objects): read at the commit they lead to, ${head.slice(0, 12)}`,
    );
    expect(lines).toContain("warning: tag 2.9.0 skipped: points to a tree, not a commit");

    const json = syncInto(repo, ["--format", "json"]);
    expect(JSON.parse(json.stdout).tags.peeled).toEqual([
      { tag: "2.6.0-rc1", levels: 3, commit: head },
      { tag: "2.8.0", levels: 2, commit: head },
    ]);
  });

  it("reads the repository --repo names, whatever GIT_DIR says (run from another repository's hook)", () => {
    const repo = firmwareRepo();
    const other = gitRepo([{ date: "2024-01-01T00:00:00Z", files: { a: "a\n" }, tags: ["v9.0"] }]);
    const plain = syncInto(repo);
    const hooked = stepstone(
      ["sync", "--repo", repo, "--graph", join(tempDir(), "release-graph.json")],
      { env: { GIT_DIR: join(other, ".git"), GIT_WORK_TREE: other } },
    );
    expect(hooked.stderr).toBe(plain.stderr);
    expect(hooked.code).toBe(0);
    expect(hooked.stdout.replace(/\S*release-graph\.json/, "G")).toBe(
      plain.stdout.replace(/\S*release-graph\.json/, "G"),
    );
  });
});
