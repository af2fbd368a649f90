import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { graphText, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { useMermaid } from "../../packages/pictures/test/browser.js";
import { stepstone } from "../helpers/cli.js";

// What `graph --format mermaid` prints is drawn by Mermaid itself, in headless Chromium.
const mermaid = useMermaid();

/** `stepstone graph ... | dot -Tsvg`, as the README shows it. */
function dot(text: string) {
  const r = spawnSync("dot", ["-Tsvg"], { input: text, encoding: "utf8" });
  if (r.error) throw new Error(`cannot run graphviz's dot (apt-get install graphviz): ${r.error}`);
  return r;
}

describe("stepstone graph", () => {
  it("prints DOT that graphviz's dot renders", () => {
    const r = stepstone(["graph"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.startsWith("digraph stepstone {")).toBe(true);
    const svg = dot(r.stdout);
    expect(svg.stderr).toBe("");
    expect(svg.status).toBe(0);
  });

  it("prints Mermaid with the plan's path, numbered", async () => {
    const r = stepstone(["graph", "--format", "mermaid", "--from", "2.9.2", "--to", "2.11.0"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("flowchart LR\n  %% Plan 2.9.2 → 2.11.0: 2 hops, no wipe\n")).toBe(
      true,
    );
    expect(r.stdout).toContain('  v2_9_2 ==>|"1"| v2_10_3\n');
    expect(r.stdout).toContain('  v2_10_3 ==>|"2"| v2_11_0\n');
    const drawn = await mermaid.draw(r.stdout);
    expect(drawn.edges.filter((e) => /^\d$/.test(e.label))).toEqual([
      { from: "v2_9_2", to: "v2_10_3", label: "1" },
      { from: "v2_10_3", to: "v2_11_0", label: "2" },
    ]);
    expect(drawn.nodes.v2_10_3?.text).toBe("2.10.3\nstop: 2.11.0 upgrades only from >=2.10.0");
  });

  it("prints Mermaid of the whole graph that Mermaid draws, the marks included", async () => {
    const r = stepstone(["graph", "--format", "mermaid"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const drawn = await mermaid.draw(r.stdout);
    expect(Object.keys(drawn.nodes)).toHaveLength(13);
    expect(drawn.edges).toHaveLength(18);
    expect(drawn.nodes.v2_9_1).toEqual({
      text: "2.9.1\nstop: key rotation to vendor-2025",
      classes: ["stop"],
      shape: "polygon",
    });
  });

  it("draws the best plan with wipes when there is none without, and says so", () => {
    const r = stepstone(["graph", "--from", "2.13.0", "--to", "2.9.2"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "stepstone: no plan from 2.13.0 to 2.9.2 without wipes; drawing the best plan that wipes ownership\n",
    );
    expect(r.stdout).toContain('label="1 · wipes ownership"');
  });

  it("draws the two releases and says why when there is no plan at all (exit 0, as DESIGN's pictures)", () => {
    const r = stepstone(["graph", "--from", "2.9.2", "--to", "2.10.2"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "stepstone: no plan from 2.9.2 to 2.10.2, even with wipes: 2.10.2 is withdrawn: it is never a stop or a target\n",
    );
    expect(r.stdout).toContain("No plan from 2.9.2 to 2.10.2, even with wipes");
    expect(dot(r.stdout).status).toBe(0);
  });

  it("applies --platform", () => {
    const r = stepstone(["graph", "--platform", "qemuarm"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Release graph on qemuarm");
    expect(r.stdout).toContain('"2.9.1" -> "2.9.2" [id="hop:2.9.1:2.9.2", color="#ea580c"');
  });

  it("refuses bad input with exit 2", () => {
    const cases: [string[], string][] = [
      [["graph", "--from", "2.9.2"], "stepstone: --from and --to go together"],
      [["graph", "--from", "2.9.2", "--to", "9.9.9"], "stepstone: --to 9.9.9: no such release"],
      [["graph", "--format", "png"], "error: option '--format <format>' argument 'png' is invalid"],
      [["graph", "--platform", "x86"], 'stepstone: unknown platform "x86"'],
    ];
    for (const [args, message] of cases) {
      const r = stepstone(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe("");
    }
    const dir = tempDir({ "release-graph.json": graphText({ releases: [{ version: "x" }] }) });
    const broken = stepstone(["graph", "--format", "mermaid"], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("release-graph.json: releases[0]");
  });
});

describe("stepstone report (the command; the page itself is tested in Chromium)", () => {
  it("writes the page, making the folder", () => {
    const dir = tempDir();
    const r = stepstone(["report", "--out", join(dir, "out/report.html")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const html = readFileSync(join(dir, "out/report.html"), "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    // The same input gives the same bytes: nothing in the page depends on the time.
    expect(stepstone(["report", "--out", join(dir, "again.html")]).code).toBe(0);
    expect(readFileSync(join(dir, "again.html"), "utf8")).toBe(html);
  });

  it("says so when there is no golden release", () => {
    const dir = tempDir({
      "release-graph.json": graphText({
        components: { c: { paths: ["var/lib/c"] } },
        releases: [
          { version: "1.0.0", epochs: { c: 1 } },
          { version: "1.0.1", epochs: { c: 1 } },
        ],
      }),
    });
    const r = stepstone(["report", "--out", "r.html"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote r\.html \(\d+ KiB\): 2 releases, 0 golden, no gaps;/);
    expect(readFileSync(join(dir, "r.html"), "utf8")).toContain("No golden releases");
  });

  it("refuses an --out it cannot write, with exit 2", () => {
    const dir = tempDir({ file: "x" });
    mkdirSync(join(dir, "folder"));
    for (const [out, message] of [
      [join(dir, "folder"), "is a folder; name the .html file to write"],
      [
        join(dir, "file/report.html"),
        "cannot write: a part of the path is a file, not a folder (ENOTDIR)",
      ],
    ]) {
      const r = stepstone(["report", "--out", out as string]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`stepstone: --out ${out}: ${message}\n`);
    }
    expect(stepstone(["report"]).code).toBe(2); // --out is required
  });
});
