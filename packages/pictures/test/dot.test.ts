import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { picture, renderSvg, toDot } from "../src/index.js";
import { big, context, MARKED, pathOf, sample } from "./helpers.js";

/** graphviz's own `dot` (Debian's graphviz): what a user pipes the output into. */
function dot(text: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync("dot", ["-Tsvg"], { input: text, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run graphviz's dot (apt-get install graphviz): ${r.error}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("DOT", () => {
  const ctx = sample();
  const text = toDot(picture(ctx));

  it("has a cluster per line, ids the report's script finds in the SVG", () => {
    expect(text.startsWith("digraph stepstone {")).toBe(true);
    expect(text.match(/subgraph "cluster_[^"]+"/g)).toEqual([
      'subgraph "cluster_2.8"',
      'subgraph "cluster_2.9"',
      'subgraph "cluster_2.10"',
      'subgraph "cluster_2.11"',
      'subgraph "cluster_2.12"',
      'subgraph "cluster_2.13"',
    ]);
    expect(text).toContain('"2.10.1-transition.1" [id="release:2.10.1-transition.1"');
    expect(text).toMatch(
      /"2.13.0" -> "2.11.0" \[id="hop:2.13.0:2.11.0", color="#ea580c".*style=dashed.*label="wipes ownership"\]/,
    );
    // Golden, transition and withdrawn releases each look different.
    const style = (v: string) => text.match(new RegExp(`"${v}" \\[([^\\n]*)\\];`))?.[1] ?? "";
    expect(style("2.9.2")).toContain('fillcolor="#fde68a"');
    expect(style("2.10.1-transition.1")).toContain('fillcolor="#bae6fd"');
    expect(style("2.10.2")).toContain("dashed");
    expect(style("2.8.0")).toContain("dotted"); // no runner
    // The stops the key rotation and 2.11.0's upgradeFrom force: a double border, a line.
    expect(style("2.9.1")).toContain("peripheries=2");
    expect(style("2.9.1")).toContain(">stop: key rotation to vendor-2025<");
    expect(style("2.10.3")).toContain(">stop: 2.11.0 upgrades only from &gt;=2.10.0<");
  });

  it("renders with graphviz's dot, without a warning", () => {
    const r = dot(text);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("<svg");
    expect(r.stdout).toContain("2.10.1&#45;transition.1");
  });

  it("renders a highlighted plan, and a plan that does not exist", () => {
    for (const [from, to] of [
      ["2.13.0", "2.9.2"],
      ["2.9.2", "2.10.2"], // withdrawn: no plan, the endpoints are still marked
    ] as const) {
      const r = dot(toDot(picture(ctx, { path: pathOf(ctx, from, to) })));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const withPlan = toDot(picture(ctx, { path: pathOf(ctx, "2.13.0", "2.9.2") }));
    expect(withPlan).toContain("Plan 2.13.0 → 2.9.2: 2 hops, wipes ownership");
    expect(withPlan).toMatch(
      /"2.13.0" -> "2.10.1-transition.1" \[[^\]]*label="1 · wipes ownership"/,
    );
    const none = toDot(picture(ctx, { path: pathOf(ctx, "2.9.2", "2.10.2") }));
    expect(none).toContain("No plan from 2.9.2 to 2.10.2, even with wipes");
  });

  it("marks forced stops with a double border and a line each, an unused transition release with a dashed one and a note", () => {
    // MARKED: 1.1.0 bridges the key rotation k1 -> k2; 3.0.0 upgrades only from >=2.1.0;
    // nothing needs 2.1.1-transition.1.
    const marked = toDot(picture(context(MARKED)));
    const r = dot(marked);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Each node as graphviz drew it: its outlines (2 for a double border) and its text.
    const plain = (s: string) =>
      s.replace(/&#45;/g, "-").replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&amp;/g, "&");
    const drawn = Object.fromEntries(
      [...plain(r.stdout).matchAll(/<g id="release:([^"]+)" class="node">([\s\S]*?)<\/g>/g)].map(
        ([, id, body]) => [
          id,
          {
            outlines: (body?.match(/<path /g) ?? []).length,
            dashed: /stroke-dasharray/.test(body ?? ""),
            text: [...(body ?? "").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]),
          },
        ],
      ),
    );
    expect(drawn).toEqual({
      "1.0.0": { outlines: 1, dashed: false, text: ["1.0.0", "golden"] },
      "1.1.0": { outlines: 2, dashed: false, text: ["1.1.0", "stop: key rotation to k2"] },
      "2.0.0": { outlines: 1, dashed: false, text: ["2.0.0", "golden"] },
      "2.1.0": {
        outlines: 2,
        dashed: false,
        text: ["2.1.0", "stop: 3.0.0 upgrades only from >=2.1.0"],
      },
      "2.1.1-transition.1": {
        outlines: 1,
        dashed: true,
        text: [
          "2.1.1-transition.1",
          "transition",
          "unused: no plan between golden releases stops here",
        ],
      },
      "3.0.0": { outlines: 1, dashed: false, text: ["3.0.0", "golden"] },
    });
    // The legend names both marks, as only a picture that has them does.
    expect(r.stdout).toContain("stop forced by a key rotation or an upgradeFrom (double border)");
    expect(r.stdout).toContain(
      "transition release that no plan between golden releases uses (dashed)",
    );
    expect(text).not.toContain("(dashed)");
  });

  it("renders a graph of 1,000 releases", () => {
    const t = performance.now();
    const r = dot(toDot(picture(big())));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(performance.now() - t).toBeLessThan(20_000);
  });

  it("renders in-process with graphviz compiled to WebAssembly, as the report does", async () => {
    const { svg, warnings } = await renderSvg(toDot(picture(ctx), { legend: false }));
    expect(warnings).toEqual([]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('id="release:2.9.2"');
    expect(svg).toContain('id="hop:2.13.0:2.11.0"');
    // Fit to inline into HTML: no prolog, DOCTYPE or namespace URLs.
    expect(svg).not.toMatch(/<\?xml|<!DOCTYPE|https?:/);
  });
});
