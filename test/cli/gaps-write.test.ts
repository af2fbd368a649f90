import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeGraphFile } from "@stepstone/graph-file";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { stepstone } from "../helpers/cli.js";

type Json = Record<string, unknown>;

/**
 * `gaps --suggest --write` on real files: the suggested release goes into the graph the
 * way sync writes it (the file's key order kept), the result validated first; a later
 * run reuses that release before proposing another.
 */

// Written by hand in an order of its own: root keys, release keys, ships.
const DOC: Json = {
  schemaVersion: 1,
  releases: [
    { epochs: { users: 1, network: 2 }, version: "2.1.0", golden: true },
    { epochs: { users: 2, network: 2 }, version: "2.5.0", golden: true },
    { epochs: { users: 2, network: 3 }, version: "3.0.0" },
  ],
  components: { users: { paths: ["etc/passwd"] }, network: { wipeable: false } },
  migrations: [
    ["users-1-2", "users", 1, 2, ">=2.5.0"],
    ["users-2-1", "users", 2, 1, undefined],
    ["network-2-3", "network", 2, 3, ">=3.0.0"],
    ["network-3-2", "network", 3, 2, ">=3.0.0"],
  ].map(([id, component, from, to, shippedIn]) => ({
    id,
    component,
    from,
    to,
    script: `migrations/${id}.sh`,
    ...(shippedIn !== undefined && { shippedIn }),
  })),
};

const SUGGESTED = {
  version: "2.5.1-transition.1",
  line: "2.5",
  transition: true,
  epochs: { users: 2, network: 2 },
  ships: ["users-2-1"],
  notes: "Suggested by stepstone gaps --suggest: connects 2.5.0 -> 2.1.0.",
};

/** stepstone in the graph's folder, on that graph. */
const run = (file: string, args: string[]) =>
  stepstone([...args, "--graph", file], { cwd: dirname(file) });

const text = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

function graphFile(doc: Json = DOC): string {
  const dir = tempDir();
  const file = join(dir, "release-graph.json");
  writeFileSync(file, text(doc));
  return file;
}

describe("gaps --suggest --write", () => {
  it("adds the suggested release where it belongs, keeping the file's layout, and says what it added", () => {
    const file = graphFile();
    const r = run(file, ["gaps", "--suggest", "--write"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("added 2.5.1-transition.1 to release-graph.json (closes 1 gap)");
    const releases = DOC.releases as Json[];
    // Between 2.5.0 and 3.0.0, in the key order of the format; the rest byte for byte.
    expect(readFileSync(file, "utf8")).toBe(
      text({ ...DOC, releases: [releases[0], releases[1], SUGGESTED, releases[2]] }),
    );
    expect(run(file, ["validate"]).code).toBe(2); // the scripts are not there
    expect(run(file, ["gaps", "--check"]).code).toBe(0);
    // Nothing left beside it.
    expect(readdirSync(join(file, ".."))).toEqual(["release-graph.json"]);
  });

  it("a later run reuses the release it wrote: it ships one more script instead of a new build", () => {
    const file = graphFile();
    expect(run(file, ["gaps", "--suggest", "--write"]).code).toBe(0);
    // 2.6.0 moves users to 3; its way down goes through the written image.
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.releases.push({ version: "2.6.0", golden: true, epochs: { users: 3, network: 2 } });
    doc.migrations.push(
      {
        id: "users-2-3",
        component: "users",
        from: 2,
        to: 3,
        script: "m/2-3.sh",
        shippedIn: ">=2.6.0",
      },
      { id: "users-3-2", component: "users", from: 3, to: 2, script: "m/3-2.sh" },
    );
    writeFileSync(file, text(doc));
    const json = run(file, ["gaps", "--suggest", "--format", "json"]);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(
      out.suggestions.map((s: Json) => [
        s.release && (s.release as Json).version,
        s.extends,
        s.adds,
      ]),
    ).toEqual([["2.5.1-transition.1", "2.5.1-transition.1", ["users-3-2"]]]);
    expect(out.written).toBeUndefined();
    const r = run(file, ["gaps", "--suggest", "--write"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "extended 2.5.1-transition.1 in release-graph.json: ships users-3-2 too (closes 2 gaps)",
    );
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after.releases.find((x: Json) => x.version === "2.5.1-transition.1").ships).toEqual([
      "users-2-1",
      "users-3-2",
    ]);
    expect(after.releases).toHaveLength(5);
    expect(run(file, ["gaps", "--check"]).code).toBe(0);
  });

  it("--format json says what it wrote", () => {
    const file = graphFile();
    const r = run(file, ["gaps", "--suggest", "--write", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).written).toEqual({
      file,
      added: ["2.5.1-transition.1"],
      extended: [],
    });
  });

  it("writes nothing on error: --write without --suggest", () => {
    const file = graphFile();
    const r = run(file, ["gaps", "--write"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "--write adds the suggested releases to the graph: pass it with --suggest",
    );
    expect(readFileSync(file, "utf8")).toBe(text(DOC));
  });

  it("the writer (sync's too) never leaves a half-written file: a failed rename leaves the target and no temporary file", () => {
    const dir = tempDir();
    const target = join(dir, "release-graph.json");
    // A folder where the graph should be: the rename into place fails.
    mkdirSync(target);
    writeFileSync(join(target, "keep"), "x");
    expect(() => writeGraphFile(target, DOC)).toThrow(
      /release-graph\.json: cannot write: .*; it is unchanged/,
    );
    expect(readdirSync(dir)).toEqual(["release-graph.json"]);
    expect(readdirSync(target)).toEqual(["keep"]);
  });
});
