import { graphText, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { SAMPLE, stepstone } from "../helpers/cli.js";

const users = { users: { paths: ["etc/passwd"] } };
const ok = (extra: Record<string, unknown> = {}) =>
  graphText({
    components: users,
    releases: [
      { version: "1.0.0", epochs: { users: 1 } },
      { version: "2.0.0", epochs: { users: 2 } },
    ],
    migrations: [
      {
        id: "users-1-2",
        component: "users",
        from: 1,
        to: 2,
        script: "up.sh",
        shippedIn: ">=2.0.0",
      },
    ],
    ...extra,
  });
const script = "#!/bin/sh\nset -eu\n:\n";

function expectInputError(r: ReturnType<typeof stepstone>) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe("stepstone validate", () => {
  it("accepts the bundled graph", () => {
    const r = stepstone(["validate", "--graph", SAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok .*release-graph\.json: 3 components, 13 releases/);
  });

  it("finds release-graph.json in a parent folder", () => {
    const dir = tempDir({ "release-graph.json": ok(), "up.sh": script });
    const sub = `${dir}/sub`;
    require("node:fs").mkdirSync(sub);
    const r = stepstone(["validate"], { cwd: sub });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${dir}/release-graph.json`);
  });

  it("says where a truncated file ends", () => {
    const text = ok();
    const dir = tempDir({ "release-graph.json": text.slice(0, text.length / 2), "up.sh": script });
    const r = stepstone(["validate"], { cwd: dir });
    expectInputError(r);
    expect(r.stderr).toMatch(/release-graph\.json:\d+:\d+: invalid JSON/);
  });

  it("rejects duplicate keys that JSON.parse would silently drop", () => {
    const text = ok().replace(
      '"version": "1.0.0",',
      '"version": "1.0.0", "golden": true, "golden": false,',
    );
    const dir = tempDir({ "release-graph.json": text, "up.sh": script });
    const r = stepstone(["validate"], { cwd: dir });
    expectInputError(r);
    expect(r.stderr).toContain('release-graph.json: releases[0].golden: duplicate key "golden"');
  });

  it("reports every error at once, each as FILE: path: message", () => {
    const text = graphText({
      components: { users: { paths: ["etc/passwd"], wipable: true } },
      releases: [
        { version: "1.0.0", epochs: { users: 1 }, goldne: true },
        { version: "1.0.0+build.2", epochs: { users: 1 } },
        { version: "2.0", epochs: { users: 2 } },
        { version: "3.0.0", epochs: { user: 3 }, upgradeFrom: ">=banana" },
      ],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, script: "../up.sh" },
        { id: "users-1-2", component: "usres", from: 2, to: 2, script: "up.sh", shippedIn: "~~1" },
      ],
    });
    const dir = tempDir({ "release-graph.json": text });
    const r = stepstone(["validate"], { cwd: dir });
    expectInputError(r);
    const msgs = r.stderr.trim().split("\n");
    // Structural and semantic problems together: one run lists them all.
    const expected = [
      'components.users: unknown key "wipable" (did you mean "wipeable"?) (free text goes in "notes")',
      'releases[0]: unknown key "goldne" (did you mean "golden"?) (free text goes in "notes")',
      "releases[1].version: duplicate release 1.0.0",
      'releases[2].version: "2.0" is not a semver version',
      'releases[3].epochs: missing the epoch of component "users"',
      'releases[3].epochs.user: unknown component "user" (did you mean "users"?)',
      'releases[3].upgradeFrom: ">=banana" is not a semver range',
      'migrations[0].script: migration "users-1-2": "../up.sh" must be a relative path inside the graph\'s folder',
      'migrations[1].id: duplicate id "users-1-2"',
      'migrations[1].component: migration "users-1-2": unknown component "usres" (did you mean "users"?)',
      'migrations[1].to: migration "users-1-2": from and to are both 2',
      'migrations[1].shippedIn: migration "users-1-2": "~~1" is not a semver range',
      // The scripts too, in the same run: structural errors do not hide them.
      "migrations[1].script: up.sh: no such file",
    ];
    expect(msgs).toHaveLength(expected.length);
    for (const e of expected)
      expect(
        msgs.some((m) => m.includes(`release-graph.json: ${e}`)),
        e,
      ).toBe(true);
  });

  it("checks the scripts: missing files and sha256 pins are errors, no set -e is a warning", () => {
    const text = ok({
      migrations: [
        {
          id: "users-1-2",
          component: "users",
          from: 1,
          to: 2,
          script: "up.sh",
          sha256: "0".repeat(64),
        },
        { id: "users-2-1", component: "users", from: 2, to: 1, script: "gone.sh" },
      ],
    });
    const dir = tempDir({ "release-graph.json": text, "up.sh": script });
    const r = stepstone(["validate"], { cwd: dir });
    expectInputError(r);
    expect(r.stderr).toContain("migrations[0].sha256: up.sh has sha256 ");
    expect(r.stderr).toContain("migrations[1].script: gone.sh: no such file");

    const dir2 = tempDir({ "release-graph.json": ok(), "up.sh": "#!/bin/sh\necho hi\n" });
    const r2 = stepstone(["validate"], { cwd: dir2 });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain(
      'warning: release-graph.json: migrations[0].script: up.sh does not use "set -e": add "set -eu"',
    );
  });

  it("warns about a wipeable component without paths", () => {
    const text = ok({ components: { users: {} } });
    const dir = tempDir({ "release-graph.json": text, "up.sh": script });
    const r = stepstone(["validate", "--format", "json"], { cwd: dir });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.valid).toBe(true);
    expect(json.warnings).toEqual([
      expect.objectContaining({
        path: "components.users",
        message: expect.stringContaining("wipeable but has no paths"),
      }),
    ]);
  });

  it("prints errors as JSON with --format json", () => {
    const dir = tempDir({ "release-graph.json": '{"schemaVersion": 2}' });
    const r = stepstone(["validate", "--format", "json"], { cwd: dir });
    expect(r.code).toBe(2);
    const json = JSON.parse(r.stdout);
    expect(json.valid).toBe(false);
    expect(json.errors.map((e: { path: string }) => e.path)).toEqual([
      "schemaVersion",
      "components",
      "releases",
    ]);
  });

  it("names the missing file", () => {
    const r = stepstone(["validate", "--graph", "/nonexistent/graph.json"]);
    expectInputError(r);
    expect(r.stderr).toContain(
      "/nonexistent/graph.json: cannot read: no such file or folder (ENOENT)",
    );
  });
});
