/**
 * Answers that must not mislead (issue #13): an error names what the user gave, a check
 * never passes on nothing, a release is found by the names the graph gives it, and no
 * file-system error is printed as node's bare code.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { graphText, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { stepstone } from "../helpers/cli.js";

const graph = graphText({
  components: { users: { paths: ["etc/passwd"] } },
  releases: [
    { version: "1.2.0", tag: "v1.2", golden: true, epochs: { users: 1 } },
    { version: "2.0.0", epochs: { users: 1 } },
    { version: "3.0.0", golden: true, epochs: { users: 1 } },
  ],
});

describe("errors name what the user gave", () => {
  it("plan --device with an unknown release blames the status file, not a --from never given", () => {
    const dir = tempDir({ "release-graph.json": graph });
    const status = join(dir, "bad.json");
    writeFileSync(
      status,
      JSON.stringify({
        release: "9.9.9",
        platform: null,
        components: [{ name: "users", epoch: 1 }],
      }),
    );
    const r = stepstone(["plan", "--device", status, "--to", "3.0.0"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stepstone: ${status}: the device's release 9.9.9: no such release in the graph\n`,
    );
    expect(r.stderr).not.toContain("--from");
  });

  it("finds a release by the tag the graph records, and suggests the version for a short one", () => {
    const dir = tempDir({ "release-graph.json": graph });
    const byTag = stepstone(["plan", "--from", "v1.2", "--to", "3.0.0", "--format", "json"], {
      cwd: dir,
    });
    expect(byTag.code).toBe(0);
    expect(JSON.parse(byTag.stdout).from).toBe("1.2.0");
    const short = stepstone(["plan", "--from", "1.2.0", "--to", "3.0"], { cwd: dir });
    expect(short.code).toBe(2);
    expect(short.stderr).toBe(
      "stepstone: --to 3.0: no such release in the graph; did you mean 3.0.0?\n",
    );
    const bundle = stepstone(["bundle", "--release", "3.0", "--out", join(dir, "out")], {
      cwd: dir,
    });
    expect(bundle.stderr).toBe(
      "stepstone: --release 3.0: no such release in the graph; did you mean 3.0.0?\n",
    );
  });
});

describe("a check never passes on nothing", () => {
  it("gaps --check --releases RANGE that matches no release: exit 2, not 'every pair of 0 releases'", () => {
    const dir = tempDir({ "release-graph.json": graph });
    const r = stepstone(["gaps", "--check", "--releases", ">=9"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'stepstone: --releases ">=9" matches no release of the graph (withdrawn ones never count): --check would pass on nothing; the graph has 1.2.0, 2.0.0, 3.0.0\n',
    );
    expect(stepstone(["matrix", "--releases", ">=9"], { cwd: dir }).code).toBe(2);
    expect(stepstone(["gaps", "--check", "--releases", ">=3"], { cwd: dir }).code).toBe(0);
  });

  it("gaps --check on a graph without golden releases: exit 2", () => {
    const dir = tempDir({
      "release-graph.json": graphText({ releases: [{ version: "1.0.0", epochs: {} }] }),
    });
    const r = stepstone(["gaps", "--check"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stepstone: the graph has no golden release: --check would pass/);
    // Without --check it is an answer, not a failure.
    expect(stepstone(["gaps"], { cwd: dir }).code).toBe(0);
  });
});

describe("file-system errors in words", () => {
  it("verify, keys, --device and the graph say why in words, with the code after", () => {
    const dir = tempDir({ "release-graph.json": graph });
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    const cases: [string[], string][] = [
      [["verify", "nope.tar.gz"], "nope.tar.gz: cannot read: no such file or folder (ENOENT)"],
      [
        ["verify", folder],
        `${folder}: is a folder; pass the bundle file itself (migration-*.tar.gz)`,
      ],
      [
        ["bundle", "--release", "3.0.0", "--out", "o", "--sign", "nope.pem"],
        "nope.pem: cannot read the private key: no such file or folder (ENOENT)",
      ],
      [
        ["bundle", "--release", "3.0.0", "--out", "o", "--sign", folder],
        `${folder}: cannot read the private key: it is a folder, not a file (EISDIR)`,
      ],
      [
        ["plan", "--device", "nope.json", "--to", "3.0.0"],
        "--device nope.json: cannot read: no such file or folder (ENOENT)",
      ],
      [
        ["validate", "--graph", "nope.json"],
        "nope.json: cannot read: no such file or folder (ENOENT)",
      ],
    ];
    for (const [args, message] of cases) {
      const r = stepstone(args, { cwd: dir });
      expect(r.stderr, args.join(" ")).toBe(`stepstone: ${message}\n`);
      expect(r.code).toBe(2);
    }
  });
});

describe("a broken graph file, said once and whole", () => {
  it("a trailing comma is one message, at the comma's closing bracket, saying what it is", () => {
    const dir = tempDir({
      "release-graph.json": '{"schemaVersion": 1, "components": {}, "releases": [],}\n',
    });
    const r = stepstone(["validate"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'stepstone: release-graph.json:1:55: invalid JSON: trailing comma before "}" (JSON allows none: remove the last ",")\n',
    );
  });

  it("structural errors do not hide missing scripts, and a migration's error names its id", () => {
    const text = graphText({
      components: { users: { paths: ["etc/passwd"] } },
      releases: [{ version: "1.0.0", epochs: { users: 1 }, goldne: true }],
      migrations: [
        { id: "users-1-2", component: "users", from: 1, to: 2, script: "m/1-2.sh" },
        { id: "users-2-3", component: "users", from: 2, to: "3", script: "m/2-3.sh" },
      ],
    });
    const dir = tempDir({ "release-graph.json": text });
    const r = stepstone(["validate"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      'stepstone: release-graph.json: releases[0]: unknown key "goldne" (did you mean "golden"?) (free text goes in "notes")',
      'stepstone: release-graph.json: migrations[1].to: migration "users-2-3": expected number, got string "3"',
      `stepstone: release-graph.json: migrations[0].script: m/1-2.sh: no such file (relative to ${dir})`,
      `stepstone: release-graph.json: migrations[1].script: m/2-3.sh: no such file (relative to ${dir})`,
    ]);
  });
});
