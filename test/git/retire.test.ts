import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitRepo, type Json, script, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { SAMPLE, stepstone } from "../helpers/cli.js";

/**
 * A firmware whose users data moves 1 -> 2 in 1.1 and 2 -> 3 in 1.3 (with a 1 -> 3
 * shortcut), and whose network data (never wiped) moves 1 -> 2 in 1.2. 1.3.0 is the
 * release being prepared; its release candidate is not for devices.
 */
function synced(): { graph: string; g: Json } {
  const repo = gitRepo([
    {
      date: "2023-01-10T09:00:00Z",
      files: { "migrations/users/EPOCH": "1\n", "migrations/network/EPOCH": "1\n" },
      annotated: ["v1.0.0"],
    },
    {
      date: "2023-04-02T09:00:00Z",
      files: {
        "migrations/users/EPOCH": "2\n",
        "migrations/users/1-2-groups.sh": script("users 1 -> 2"),
        "migrations/users/2-1-groups.sh": script("users 2 -> 1"),
      },
      annotated: ["v1.1.0"],
    },
    {
      date: "2023-07-20T09:00:00Z",
      files: {
        "migrations/network/EPOCH": "2\n",
        "migrations/network/1-2-dhcp.sh": script("network 1 -> 2"),
        "migrations/network/2-1-dhcp.sh": script("network 2 -> 1"),
      },
      tags: ["v1.2"],
    },
    {
      date: "2023-11-05T09:00:00Z",
      files: {
        "migrations/users/EPOCH": "3\n",
        "migrations/users/1-3-shortcut.sh": script("users 1 -> 3"),
        "migrations/users/2-3-owners.sh": script("users 2 -> 3"),
        "migrations/users/3-2-owners.sh": script("users 3 -> 2"),
      },
      tags: ["1.3.0.rc1"],
    },
    { date: "2023-11-20T09:00:00Z", annotated: ["v1.3.0"] },
  ]);
  const dir = tempDir();
  const graph = join(dir, "release-graph.json");
  expect(stepstone(["sync", "--repo", repo, "--graph", graph]).code).toBe(0);
  const g = JSON.parse(readFileSync(graph, "utf8"));
  g.components.users = { paths: ["etc/passwd", "etc/group"] };
  g.components.network = { wipeable: false, paths: ["etc/systemd/network"] };
  const rel = (v: string) => g.releases.find((r: Json) => r.version === v);
  rel("1.0.0").golden = true;
  rel("1.2.0").golden = true;
  rel("1.3.0").golden = true;
  rel("1.3.0-rc1").withdrawn = true;
  writeFileSync(graph, JSON.stringify(g, null, 2));
  return { graph, g };
}

/** The graph with these shippedIn ranges, and `gaps --check` on it. */
function gapsCheck(g: Json, ranges: Record<string, string>): number {
  const copy = structuredClone(g);
  for (const m of copy.migrations) if (ranges[m.id] !== undefined) m.shippedIn = ranges[m.id];
  const file = join(tempDir(), "release-graph.json");
  writeFileSync(file, JSON.stringify(copy));
  return stepstone(["gaps", "--check", "--graph", file]).code;
}

describe("stepstone retire", () => {
  it("says which migrations may go; dropping them keeps gaps --check green, and any other opens a gap or lengthens a plan", () => {
    const { graph, g } = synced();
    expect(stepstone(["gaps", "--check", "--graph", graph]).code).toBe(0);
    const r = stepstone(["retire", "--graph", graph, "--format", "json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.next).toBe("1.3.0");
    expect(out.keep).toEqual(["1.0.0", "1.2.0", "1.3.0"]);
    expect(Object.fromEntries(out.migrations.map((m: Json) => [m.id, m.verdict]))).toEqual({
      "network-1-2-dhcp": "must-stay",
      "network-2-1-dhcp": "must-stay",
      "users-1-2-groups": "may-go",
      "users-1-3-shortcut": "must-stay",
      "users-2-1-groups": "must-stay",
      "users-2-3-owners": "may-go",
      "users-3-2-owners": "must-stay",
    });

    const mayGo = Object.fromEntries(
      out.migrations
        .filter((m: Json) => m.verdict === "may-go")
        .map((m: Json) => [m.id, m.shippedIn]),
    );
    expect(mayGo["users-1-2-groups"]).toBe(">=1.1.0 <1.3.0");
    expect(gapsCheck(g, mayGo)).toBe(0);
    for (const m of out.migrations.filter((x: Json) => x.verdict === "must-stay")) {
      expect(m.opens.length + m.lengthens.length, m.id).toBeGreaterThan(0);
      if (m.opens.length === 0) continue;
      const range = g.migrations.find((x: Json) => x.id === m.id).shippedIn;
      expect(gapsCheck(g, { ...mayGo, [m.id]: `${range} <1.3.0` }), m.id).toBe(1);
    }
    // Without network-1-2-dhcp in 1.3.0, 1.0.0 would stop at 1.2.0 to convert network.
    expect(out.migrations.find((m: Json) => m.id === "network-1-2-dhcp").lengthens).toEqual([
      { from: "1.0.0", to: "1.3.0", hops: { before: 1, after: 2 } },
    ]);
    const stay = out.migrations.find((m: Json) => m.id === "users-3-2-owners");
    expect(
      stay.opens.map((x: Json) => `${x.from} -> ${x.to}: ${x.reason.code} ${x.reason.component}`),
    ).toEqual(["1.3.0 -> 1.0.0: wipe users", "1.3.0 -> 1.2.0: wipe users"]);
  });

  it("prints a table for people", () => {
    const { graph } = synced();
    const r = stepstone(["retire", "--graph", graph]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(
      "Next release: 1.3.0, the newest (tag the release you prepare and sync, or add it, to ask about it).",
    );
    expect(lines[1]).toBe("It must stay connected with 1.0.0, 1.2.0 (golden).");
    expect(r.stdout).toMatch(
      /users-1-2-groups\s+users\s+1 → 2\s+may go\s+shippedIn ">=1\.1\.0 <1\.3\.0"/,
    );
    expect(r.stdout).toMatch(
      /users-3-2-owners\s+users\s+3 → 2\s+must stay\s+1\.3\.0 → 1\.0\.0: wipe users/,
    );
    expect(r.stdout).toMatch(
      /network-1-2-dhcp\s+network\s+1 → 2\s+must stay\s+1\.0\.0 → 1\.3\.0: 2 hops instead of 1\n/,
    );
    expect(r.stdout).toMatch(
      /users-1-3-shortcut\s+users\s+1 → 3\s+must stay\s+1\.0\.0 → 1\.3\.0: 2 hops instead of 1\n\s+\(alone it could go: another migration covers the same hops\)/,
    );
    expect(r.stdout).toContain(
      "2 migrations may stop shipping from 1.3.0 on, all together: give them the shippedIn shown; no gap opens and no plan between these releases gets longer.",
    );
  });

  it("answers for the sample graph: 2.13.0 needs its way into ownership 3", () => {
    const r = stepstone(["retire", "--graph", SAMPLE, "--format", "json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const v = Object.fromEntries(out.migrations.map((m: Json) => [m.id, m.verdict]));
    expect(v).toMatchObject({
      "users-1-2": "retired",
      "network-1-2": "may-go",
      "ownership-2-3": "must-stay",
    });
    expect(out.gaps).toBe(3);
  });

  it("refuses a --keep that is not a range", () => {
    const r = stepstone(["retire", "--graph", SAMPLE, "--keep", "~~1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('stepstone: --keep "~~1": not a semver range (e.g. ">=2.9.0")\n');
  });
});
