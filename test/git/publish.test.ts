import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git, gitRepo, type Json, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { demoKeys, REPO, SAMPLE, stepstone } from "../helpers/cli.js";

const T1 = "2.10.1-transition.1";
const T2 = "2.13.1-transition.1";

/**
 * The sample graph and its scripts in a folder of their own, plus the transition release
 * `gaps --suggest` proposes for 2.13.0's way back, as a release engineer would add it.
 */
function workspace(suggested = true): { dir: string; graph: string } {
  const dir = tempDir();
  cpSync(SAMPLE, join(dir, "release-graph.json"));
  cpSync(join(REPO, "migrations"), join(dir, "migrations"), { recursive: true });
  cpSync(join(REPO, "keys"), join(dir, "keys"), { recursive: true });
  const graph = join(dir, "release-graph.json");
  if (!suggested) return { dir, graph };
  const release = JSON.parse(
    stepstone(["gaps", "--suggest", "--graph", graph, "--format", "json"]).stdout,
  ).suggestions[0].release;
  const g = JSON.parse(readFileSync(graph, "utf8"));
  g.releases.push(release);
  writeFileSync(graph, JSON.stringify(g, null, 2));
  return { dir, graph };
}

/** publish, each release signed with its own demo key (--keys) unless `extra` says --sign. */
const publish = (graph: string, repo: string, extra: string[] = [], env?: Record<string, string>) =>
  stepstone(
    [
      "publish",
      "--repo",
      repo,
      "--graph",
      graph,
      ...(extra.includes("--sign") ? [] : ["--keys", demoKeys().dir]),
      ...extra,
    ],
    env ? { env } : {},
  );
/**
 * An environment in which git has no identity: an empty HOME and XDG_CONFIG_HOME, no
 * system configuration, and git told not to guess one from the host and user names.
 */
const noIdentity = (): Record<string, string> => ({
  HOME: tempDir(),
  XDG_CONFIG_HOME: tempDir(),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_COUNT: "1",
  GIT_CONFIG_KEY_0: "user.useConfigOnly",
  GIT_CONFIG_VALUE_0: "true",
});
const commits = (repo: string) => git(repo, ["rev-list", "--all", "--count"]).trim();

describe("stepstone publish", () => {
  it("commits and tags each transition build in its own folder, with a README", () => {
    const { graph } = workspace();
    const repo = gitRepo();
    const r = publish(graph, repo);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // With the newer build in the graph, 2.11.0 and 2.13.0 can go back through either, so
    // only the newer one closes gaps that would open without it.
    expect(r.stdout).toMatch(
      new RegExp(
        `^published  ${T1} in .*/${T1}/ \\(commit \\w{10}, tag ${T1}\\): 6 scripts, closes 0 gaps between golden releases: 2 best plans stop at it, but they would connect without it$`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`^published  ${T2} in .*: 6 scripts, closes 3 gaps`, "m"));

    expect(git(repo, ["log", "--format=%s", "--reverse"]).trim().split("\n")).toEqual([
      `Transition build ${T1}`,
      `Transition build ${T2}`,
    ]);
    for (const t of [T1, T2]) {
      expect(git(repo, ["cat-file", "-t", t]).trim()).toBe("tag"); // annotated
      expect(
        git(repo, ["ls-tree", "--name-only", `${t}:${t}`])
          .trim()
          .split("\n"),
      ).toEqual(["README.md", "SHA256SUMS", `migration-${t}.tar.gz`]);
      // One commit per release: the tag's commit changes that release's folder only.
      expect(
        git(repo, ["show", "--format=", "--name-only", `${t}^{commit}`, "--"])
          .trim()
          .split("\n"),
      ).toEqual([`${t}/README.md`, `${t}/SHA256SUMS`, `${t}/migration-${t}.tar.gz`]);
      const bundle = join(repo, t, `migration-${t}.tar.gz`);
      expect(stepstone(["verify", bundle, "--graph", graph]).code).toBe(0);
      execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: join(repo, t) });
    }

    const readme = readFileSync(join(repo, T2, "README.md"), "utf8");
    expect(readme).toContain(`# Transition build ${T2}`);
    expect(readme).toContain(
      [
        "| from | to | without it | plan with it |",
        "| --- | --- | --- | --- |",
        `| 2.13.0 | 2.8.0 | wipes ownership | 2.13.0 → ${T2} → 2.8.0 |`,
        `| 2.13.0 | 2.9.2 | wipes ownership | 2.13.0 → ${T2} → 2.9.2 |`,
        `| 2.13.0 | 2.11.0 | wipes ownership | 2.13.0 → ${T2} → 2.11.0 |`,
      ].join("\n"),
    );
    expect(readme).toMatch(/\| 1 \| users-2-1 \| users \| 2 → 1 \| `[0-9a-f]{16}` \|/);
    expect(readme).toContain("- epochs: users 2, ownership 3, network 2");
    const readme1 = readFileSync(join(repo, T1, "README.md"), "utf8");
    expect(readme1).toContain("It closes no gap between the golden releases");
    expect(readme1).toContain(`- 2.11.0 → 2.8.0: 2.11.0 → ${T1} → 2.8.0`);
  });

  it("says which gaps a build closes, per the planner", () => {
    const { graph } = workspace(false);
    const repo = gitRepo();
    const r = publish(graph, repo);
    expect(r.stdout).toContain(`${T1}): 6 scripts, closes 2 gaps between golden releases`);
    expect(readFileSync(join(repo, T1, "README.md"), "utf8")).toContain(
      [
        `| 2.11.0 | 2.8.0 | no chain of scripts for network | 2.11.0 → ${T1} → 2.8.0 |`,
        `| 2.11.0 | 2.9.2 | no chain of scripts for network | 2.11.0 → ${T1} → 2.9.2 |`,
      ].join("\n"),
    );
  });

  it("makes no commit when published again with the same inputs", () => {
    const { graph } = workspace();
    const repo = gitRepo();
    expect(publish(graph, repo).code).toBe(0);
    const head = git(repo, ["rev-parse", "HEAD"]);
    const r = publish(graph, repo, ["--format", "json"]);
    expect(r.code).toBe(0);
    expect(git(repo, ["rev-parse", "HEAD"])).toBe(head);
    expect(commits(repo)).toBe("2");
    const out = JSON.parse(r.stdout);
    expect(out.releases.map((x: Json) => [x.version, x.status, x.commit])).toEqual([
      [T1, "unchanged", null],
      [T2, "unchanged", null],
    ]);
    expect(out.releases[1]).toMatchObject({ folder: T2, tag: T2, scripts: 6, closes: 3 });
  });

  it("refuses a dirty repository with exit 2 and writes nothing", () => {
    const { graph } = workspace();
    const repo = gitRepo();
    writeFileSync(join(repo, "notes.txt"), "work in progress\n");
    const r = publish(graph, repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^stepstone: .*: the repository has uncommitted changes \(1 path\); commit or stash them first: publish writes nothing into a dirty repository\n$/,
    );
    expect(existsSync(join(repo, T1))).toBe(false);
    expect(git(repo, ["status", "--porcelain"])).toBe("?? notes.txt\n");
    expect(git(repo, ["tag"])).toBe("");
  });

  it("refuses to change a published build, and writes nothing", () => {
    const { dir, graph } = workspace();
    const repo = gitRepo();
    expect(publish(graph, repo).code).toBe(0);
    // A fix to a script the published transition build carries (pin updated too).
    const file = join(dir, "migrations/users/2-1-priv-groups.sh");
    writeFileSync(file, `${readFileSync(file, "utf8")}# fixed\n`);
    const g = JSON.parse(readFileSync(graph, "utf8"));
    const m = g.migrations.find((x: Json) => x.id === "users-2-1");
    if (m.sha256) m.sha256 = execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
    writeFileSync(graph, JSON.stringify(g, null, 2));
    const head = git(repo, ["rev-parse", "HEAD"]);
    const r = publish(graph, repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `stepstone: ${T1}: already published as tag ${T1} with other content; a published transition build must not change: publish the change as a new transition release (e.g. 2.10.1-transition.2)`,
    );
    expect(git(repo, ["rev-parse", "HEAD"])).toBe(head);
    expect(git(repo, ["status", "--porcelain"])).toBe("");
  });

  it("signs the bundles with --sign, reproducibly, when every transition release has that key", () => {
    const { dir, graph } = workspace();
    // Both transition releases are signedBy vendor-2025: one key serves.
    const key = demoKeys().key("vendor-2025");
    const pub = join(dir, "keys/vendor-2025.pub.pem");
    const repo = gitRepo();
    // Another key is refused before anything is written.
    const other = join(dir, "other.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", other]);
    const wrong = publish(graph, repo, ["--sign", other]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      `stepstone: ${other} is not the key of ${T1}: ${graph} says ${T1} is signedBy "vendor-2025" (keys/vendor-2025.pub.pem), and the public half of ${other} is no key of the graph`,
    );
    expect(git(repo, ["tag"])).toBe("");
    expect(publish(graph, repo, ["--sign", key]).code).toBe(0);
    const bundle = join(repo, T1, `migration-${T1}.tar.gz`);
    const v = stepstone(["verify", bundle, "--key", pub]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("signature verified");
    expect(readFileSync(join(repo, T1, "README.md"), "utf8")).toContain(
      `stepstone verify migration-${T1}.tar.gz --key PUB.pem`,
    );
    expect(publish(graph, repo, ["--sign", key]).stdout).toContain(`unchanged  ${T1}`);
  });

  it("starts a repository where there is none, with the identity git is given in the environment", () => {
    const { dir, graph } = workspace();
    const repo = join(dir, "transition-builds");
    // A CI bot: no git identity anywhere but its environment (empty HOME, no system config,
    // git told not to guess one from the host name).
    const env = {
      ...noIdentity(),
      GIT_AUTHOR_NAME: "Release Bot",
      GIT_AUTHOR_EMAIL: "release-bot@example.com",
      GIT_COMMITTER_NAME: "Commit Bot",
      GIT_COMMITTER_EMAIL: "commit-bot@example.com",
    };
    const r = publish(graph, repo, [], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^initialized .*transition-builds \(a new git repository\)$/m);
    expect(git(repo, ["tag"]).trim().split("\n")).toEqual([T1, T2]);
    expect(git(repo, ["log", "--format=%an <%ae> / %cn <%ce>"]).trim().split("\n")).toEqual([
      "Release Bot <release-bot@example.com> / Commit Bot <commit-bot@example.com>",
      "Release Bot <release-bot@example.com> / Commit Bot <commit-bot@example.com>",
    ]);
  });

  it("takes git configuration given in the environment (GIT_CONFIG_COUNT), and ignores GIT_DIR", () => {
    const { dir, graph } = workspace();
    const repo = join(dir, "transition-builds");
    // Run from a hook of another repository: GIT_DIR names that one, not --repo.
    const hooked = gitRepo([{ date: "2024-01-01T00:00:00Z", files: { a: "a\n" } }]);
    const env = {
      ...noIdentity(),
      GIT_CONFIG_COUNT: "3",
      GIT_CONFIG_KEY_0: "user.useConfigOnly",
      GIT_CONFIG_VALUE_0: "true",
      GIT_CONFIG_KEY_1: "user.name",
      GIT_CONFIG_VALUE_1: "Config Bot",
      GIT_CONFIG_KEY_2: "user.email",
      GIT_CONFIG_VALUE_2: "config-bot@example.com",
      GIT_DIR: join(hooked, ".git"),
    };
    const r = publish(graph, repo, [], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(git(repo, ["log", "-1", "--format=%an <%ae>"]).trim()).toBe(
      "Config Bot <config-bot@example.com>",
    );
    expect(git(hooked, ["tag"])).toBe("");
    expect(commits(hooked)).toBe("1");
  });

  it("says what git needs when it cannot commit, before writing anything", () => {
    const { graph } = workspace();
    const repo = gitRepo();
    git(repo, ["config", "--unset", "user.name"]);
    git(repo, ["config", "--unset", "user.email"]);
    const r = publish(graph, repo, [], noIdentity());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /git cannot commit here: .*\(set user\.name and user\.email with git config\)/,
    );
    expect(git(repo, ["status", "--porcelain"])).toBe("");
  });

  it("has nothing to publish without transition releases", () => {
    const dir = tempDir();
    const graph = join(dir, "release-graph.json");
    writeFileSync(
      graph,
      JSON.stringify({
        schemaVersion: 1,
        components: {},
        releases: [{ version: "1.0.0", epochs: {} }],
      }),
    );
    const r = publish(graph, gitRepo());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^No transition release in .*release-graph\.json: nothing to publish\.\n$/,
    );
  });

  it("--dry-run says what it would publish and writes nothing, not even a new repository", () => {
    const { dir, graph } = workspace();
    const fresh = join(dir, "transition-builds");
    const r = publish(graph, fresh, ["--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would initialize .*transition-builds \(a new git repository\)$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `^would publish    ${T2} in .*/${T2}/ \\(tag ${T2}\\): 6 scripts, closes 3 gaps`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(/^Nothing was written \(--dry-run\)\.$/m);
    expect(existsSync(fresh)).toBe(false);

    const repo = gitRepo();
    expect(publish(graph, repo, ["--release", T1]).code).toBe(0);
    const head = git(repo, ["rev-parse", "HEAD"]);
    const dry = publish(graph, repo, ["--dry-run", "--format", "json"]);
    expect(dry.code).toBe(0);
    const json = JSON.parse(dry.stdout);
    expect(json.dryRun).toBe(true);
    expect(json.releases.map((x: Json) => [x.version, x.status, x.commit])).toEqual([
      [T1, "unchanged", null],
      [T2, "published", null],
    ]);
    expect(git(repo, ["rev-parse", "HEAD"])).toBe(head);
    expect(git(repo, ["tag"]).trim()).toBe(T1);
    expect(git(repo, ["status", "--porcelain"])).toBe("");
  });

  it("--release V publishes that transition release alone, and refuses a release that is not one", () => {
    const { graph } = workspace();
    const repo = gitRepo();
    const r = publish(graph, repo, ["--release", T2]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^published  ${T2} `, "m"));
    expect(r.stdout).not.toContain(T1);
    expect(git(repo, ["tag"]).trim()).toBe(T2);
    const wrong = publish(graph, repo, ["--release", "2.11.0"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(
      "stepstone: --release 2.11.0: 2.11.0 is not a transition release: publish keeps transition builds (bundle it with stepstone bundle --release 2.11.0)\n",
    );
    const missing = publish(graph, repo, ["--release", "9.9.9"]);
    expect(missing.stderr).toMatch(
      /^stepstone: --release 9\.9\.9: no such release in .*; its transition releases are 2\.10\.1-transition\.1, 2\.13\.1-transition\.1\n$/,
    );
  });

  it("says a build is redundant before it is tagged, and never suggests a version the graph has", () => {
    const { dir, graph } = workspace();
    // The same build again as transition.2: the best plans take the higher version, so
    // transition.1 closes nothing and no plan stops at it.
    const g = JSON.parse(readFileSync(graph, "utf8"));
    const copy = {
      ...g.releases.find((x: Json) => x.version === T2),
      version: "2.13.1-transition.2",
    };
    g.releases.push(copy);
    writeFileSync(graph, JSON.stringify(g, null, 2));
    const repo = gitRepo();
    const dry = publish(graph, repo, ["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(
        `^would publish    ${T2} .*: 6 scripts, closes 0 gaps between golden releases: redundant, no best plan between them stops at it`,
        "m",
      ),
    );
    expect(publish(graph, repo).code).toBe(0);
    // A fix to a script the published builds carry: the hint skips transition.2.
    const file = join(dir, "migrations/ownership/3-2-private-persistent-data.sh");
    writeFileSync(file, `${readFileSync(file, "utf8")}# fixed\n`);
    const g2 = JSON.parse(readFileSync(graph, "utf8"));
    for (const m of g2.migrations)
      if (m.script === "migrations/ownership/3-2-private-persistent-data.sh" && m.sha256)
        m.sha256 = execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
    writeFileSync(graph, JSON.stringify(g2, null, 2));
    const r = publish(graph, repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `stepstone: ${T2}: already published as tag ${T2} with other content; a published transition build must not change: publish the change as a new transition release (e.g. 2.13.1-transition.3)`,
    );
  });
});
