import { gaps, gapsJson, matrix, matrixJson, selectReleases, suggest } from "@stepstone/planner";
import { describe, expect, it } from "vitest";
import {
  goldenMatrix,
  type PageData,
  picture,
  renderSvg,
  reportData,
  reportHtml,
  toDot,
} from "../src/index.js";
import { sample, sampleJson } from "./helpers.js";

const STUB = "window.__planner = 1;";

async function page(graph = sampleJson(), platform: string | null = null) {
  const ctx = sample(platform);
  // As `stepstone report` does: the golden matrix once, for the picture and the data.
  const golden = goldenMatrix(ctx);
  const p = picture(ctx, { golden });
  const { svg } = await renderSvg(toDot(p, { legend: false }));
  const data = reportData(ctx, "release-graph.json", golden);
  return { ctx, data, html: reportHtml({ data, picture: p, svg, graph, script: STUB }) };
}

function pageData(html: string): PageData {
  const m = html.match(/<script type="application\/json" id="stepstone-data">(.*?)<\/script>/s);
  if (!m) throw new Error("no stepstone-data");
  return JSON.parse(m[1] as string) as PageData;
}

describe("report data", () => {
  it("is the golden matrix and the gaps with their suggestions, as the CLI computes them", () => {
    const ctx = sample();
    const data = reportData(ctx, "release-graph.json");
    const m = matrix(ctx, selectReleases(ctx, { kind: "golden" }));
    expect(data.matrix.releases).toEqual(matrixJson(m).releases);
    expect(data.matrix.cells.map(({ stops: _, ...c }) => c)).toEqual(matrixJson(m).cells);
    const g = gaps(ctx, m);
    expect(data.gaps).toEqual(gapsJson(g, suggest(ctx, g)));
    expect(data.counts).toEqual({
      components: 3,
      releases: 13,
      lines: 6,
      golden: 4,
      transition: 1,
      withdrawn: 1,
      migrations: 8,
    });
  });

  it("is the same whether the golden matrix is given or computed (the picture too)", () => {
    const ctx = sample();
    const golden = goldenMatrix(ctx);
    expect(reportData(ctx, "f", golden)).toEqual(reportData(ctx, "f"));
    expect(picture(ctx, { golden })).toEqual(picture(ctx));
  });

  it("gives each matrix cell the stops of its plan", () => {
    const data = reportData(sample(), "release-graph.json");
    const cell = (from: string, to: string) =>
      data.matrix.cells.find((c) => c.from === from && c.to === to);
    expect(cell("2.11.0", "2.9.2")?.stops).toEqual(["2.10.1-transition.1", "2.9.2"]);
    expect(cell("2.13.0", "2.8.0")).toMatchObject({ hops: 2, wipes: 1 });
    expect(cell("2.13.0", "2.8.0")?.stops).toEqual(["2.10.1-transition.1", "2.8.0"]);
  });
});

describe("report page", () => {
  it("is one self-contained file: nothing to load, a policy that forbids loading", async () => {
    const { html } = await page();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(src|href|action|srcset|poster|data)=/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base)\b/i);
    expect(html).not.toMatch(/@import|url\((?!#)/i);
    expect(html).toContain(`<script>${STUB}</script>`);
  });

  it("shows the graph, the coloured matrix, the gaps and the suggested release", async () => {
    const { html } = await page();
    expect(html).toMatch(/<div class="svg-wrap"><svg /);
    expect(html.match(/<td class="cell [^"]*"/g)).toHaveLength(12);
    expect(html).toMatch(
      /<td class="cell wipe hops-2" data-from="2.13.0" data-to="2.8.0" title="2.13.0 → 2.10.1-transition.1 → 2.8.0: 2 hops, wipes 1 component">2\+1w<\/td>/,
    );
    expect(html).toMatch(
      /<td class="cell ok hops-2" data-from="2.11.0" data-to="2.9.2"[^>]*>2<\/td>/,
    );
    expect(html).toContain('<h2>Gaps <span class="count">3</span></h2>');
    expect(html).toContain("Suggested transition release <code>2.13.1-transition.1</code>");
    expect(html).toContain('<option value="2.10.2">2.10.2 (withdrawn)</option>');
    expect(html).toContain('<input type="checkbox" name="wipe" value="ownership">');
    // network is not wipeable: no box for it.
    expect(html).not.toContain('value="network"');
  });

  it("embeds the graph file for the page's planner, inert even with markup in it", async () => {
    const graph = sampleJson();
    (graph as { notes: string }).notes = "</script><script>alert(1)</script><!-- &amp;";
    const { html } = await page(graph);
    expect(html.match(/<script/g)).toHaveLength(2);
    const data = pageData(html);
    expect(data.graph).toEqual(graph);
    expect(data.nodes["2.10.2"]).toBe("2.10.2");
    expect([data.from, data.to]).toEqual(["2.8.0", "2.13.0"]);
  });

  it("names the platform", async () => {
    const { html } = await page(sampleJson(), "qemuarm");
    expect(html).toContain("<title>stepstone report: release-graph.json on qemuarm</title>");
    expect(pageData(html).platform).toBe("qemuarm");
  });
});
