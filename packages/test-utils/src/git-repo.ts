import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./temp.js";

/**
 * The one helper that makes real git repositories for the git tests: a history of dated
 * commits, each with the files it changes and the tags it gets (lightweight or annotated,
 * named as real projects name them). Identity and dates are set in the repository, so
 * nothing depends on the machine's git config.
 */

/** JSON the CLI printed or wrote, read back: the assertions themselves check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: see above; typing every shape would repeat the code.
export type Json = Record<string, any>;

export interface Commit {
  /** When it was made (ISO 8601); its tags get the same date. */
  readonly date: string;
  /** Path -> content; null deletes the path. */
  readonly files?: Readonly<Record<string, string | null>>;
  readonly message?: string;
  /** Lightweight tags on this commit. */
  readonly tags?: readonly string[];
  /** Annotated tags on this commit. */
  readonly annotated?: readonly string[];
}

export function git(
  repo: string,
  args: readonly string[],
  env: Record<string, string> = {},
): string {
  return execFileSync("git", args, {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A new repository (in a temporary folder removed after the test) with this history. */
export function gitRepo(history: readonly Commit[] = []): string {
  const repo = tempDir();
  git(repo, ["init", "--quiet", "--initial-branch=main"]);
  git(repo, ["config", "user.name", "Release Bot"]);
  git(repo, ["config", "user.email", "release-bot@example.com"]);
  git(repo, ["config", "commit.gpgsign", "false"]);
  git(repo, ["config", "tag.gpgsign", "false"]);
  commit(repo, history);
  return repo;
}

/** Appends commits (and their tags) to a repository made by gitRepo. */
export function commit(repo: string, history: readonly Commit[]): void {
  for (const c of history) {
    const env = { GIT_AUTHOR_DATE: c.date, GIT_COMMITTER_DATE: c.date };
    for (const [path, content] of Object.entries(c.files ?? {})) {
      const file = join(repo, path);
      if (content === null) rmSync(file, { force: true });
      else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    git(repo, ["add", "--all"]);
    git(
      repo,
      ["commit", "--quiet", "--allow-empty", "-m", c.message ?? `change of ${c.date}`],
      env,
    );
    for (const t of c.tags ?? []) git(repo, ["tag", t], env);
    for (const t of c.annotated ?? []) git(repo, ["tag", "-a", t, "-m", `Release ${t}`], env);
  }
}

/** A migration script as firmware projects write them (POSIX sh, set -eu). */
export function script(what: string): string {
  return `#!/bin/sh\n# ${what}\nset -eu\nroot="\${MIGRATION_ROOT:-}"\n: "$root"\n`;
}

/**
 * A BMC firmware's history with the tags real projects have: a `v0.1` from before
 * migrations existed, a `v1.99.10` with only an EPOCH, a release candidate tagged twice
 * (`2.6.0-rc1` annotated, `2.6.0.rc1` lightweight: they collide), `release-foo` (not a
 * version), `2.7.0-dev`, a released script edited in `v2.7.1`, a down-migration dropped in
 * 2.7 and shipped again in 2.8 (two ranges), and a badly named script.
 *
 * Releases read: 0.1.0, 1.99.10, 2.6.0, 2.7.0-dev, 2.7.0, 2.7.1, 2.8.0.
 */
export const FIRMWARE: readonly Commit[] = [
  {
    date: "2019-03-04T10:00:00Z",
    files: { "README.md": "# bmc firmware\n" },
    annotated: ["v0.1"],
  },
  {
    date: "2020-11-20T09:30:00Z",
    files: { "migrations/users/EPOCH": "1\n" },
    tags: ["v1.99.10"],
  },
  {
    date: "2021-01-15T16:00:00Z",
    files: {
      "migrations/users/EPOCH": "2\n",
      "migrations/users/1-2-priv-groups.sh": script("users 1 -> 2: priv-* groups"),
      "migrations/users/2-1-priv-groups.sh": script("users 2 -> 1: drop priv-* groups"),
    },
    annotated: ["2.6.0-rc1"],
    tags: ["2.6.0.rc1"],
  },
  {
    date: "2021-02-01T12:00:00Z",
    files: {
      "migrations/network/EPOCH": "2\n",
      "migrations/network/1-2-dhcpv4.sh": script("network 1 -> 2: [DHCPv4]"),
      "migrations/network/README.md": "network migrations\n",
    },
    annotated: ["v2.6.0"],
    tags: ["release-foo"],
  },
  {
    date: "2021-06-10T08:00:00Z",
    files: { "migrations/users/2-1-priv-groups.sh": null },
    tags: ["2.7.0-dev"],
  },
  {
    date: "2021-07-01T08:00:00Z",
    files: { "README.md": "# bmc firmware 2.7\n" },
    annotated: ["v2.7.0"],
  },
  {
    date: "2021-09-01T08:00:00Z",
    files: { "migrations/network/1-2-dhcpv4.sh": script("network 1 -> 2: [DHCPv4], fixed") },
    annotated: ["v2.7.1"],
  },
  {
    date: "2022-01-10T08:00:00Z",
    files: {
      "migrations/users/2-1-priv-groups.sh": script("users 2 -> 1: drop priv-* groups"),
      "migrations/ownership/EPOCH": "2\n",
      "migrations/ownership/1-2-daemon-owners.sh": script("ownership 1 -> 2"),
      "migrations/ownership/2-3.sh": script("no slug: not a migration name"),
    },
    annotated: ["v2.8.0"],
  },
];

/** The firmware repository above. */
export function firmwareRepo(): string {
  return gitRepo(FIRMWARE);
}
