import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

export type { Browser, Page };

/** Debian's chromium: playwright-core drives it and never downloads a browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Debian's chromium, headless, with nothing that reaches the network. A test that needs it
 * fails when it is missing (never skips).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium, or scripts/tools.sh)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

/** Mermaid's browser build, the same code GitHub and GitLab run on a Markdown page. */
const MERMAID_JS = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");

/** What Mermaid drew, read back from the SVG in the page. */
export interface Drawn {
  readonly svg: string;
  /**
   * Each node by its Mermaid id (`v2_9_2`): its text (lines joined by "\n"), its classes,
   * and the element its outline is (`rect` for a box, `polygon` for a subroutine box).
   */
  readonly nodes: Readonly<Record<string, DrawnNode>>;
  /** The subgraphs' titles, in the order drawn. */
  readonly clusters: readonly string[];
  /** The edges: their ids' endpoints and labels, in the order written. */
  readonly edges: readonly { from: string; to: string; label: string }[];
}

export interface DrawnNode {
  readonly text: string;
  readonly classes: readonly string[];
  readonly shape: string;
}

export interface Mermaid {
  /** Renders a diagram with `mermaid.render`; rejects with Mermaid's own parse error. */
  draw(text: string): Promise<Drawn>;
  /** Only parses it (`mermaid.parse`): the diagram type, or Mermaid's parse error. */
  parse(text: string): Promise<string>;
  close(): Promise<void>;
}

/** A blank page of `browser` with Mermaid loaded, to render many diagrams one after another. */
export async function mermaidIn(browser: Browser): Promise<Mermaid> {
  const page: Page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.setContent("<!doctype html><html><body><div id='out'></div></body></html>");
  await page.addScriptTag({ path: MERMAID_JS });
  await page.evaluate(() => {
    (globalThis as unknown as MermaidGlobal).mermaid.initialize({ startOnLoad: false });
  });
  let n = 0;
  return {
    async draw(text) {
      n++;
      const id = `diagram${n}`;
      const raw = await page.evaluate(
        async ([id, source]) => {
          const out = document.getElementById("out") as HTMLElement;
          out.innerHTML = "";
          const { svg } = await (globalThis as unknown as MermaidGlobal).mermaid.render(id, source);
          out.innerHTML = svg;
          // The text as drawn, a line break as "\n" (innerText is empty where nothing is laid out).
          const read = (e: Element | null) => {
            if (e === null) return "";
            const copy = e.cloneNode(true) as Element;
            for (const br of copy.querySelectorAll("br")) br.replaceWith("\n");
            return copy.textContent ?? "";
          };
          return {
            svg,
            nodes: [...out.querySelectorAll<SVGGElement>("g.node")].map((g) => ({
              id: g.id,
              text: read(g.querySelector(".nodeLabel")),
              classes: [...g.classList],
              shape: g.querySelector(".label-container")?.tagName ?? "",
            })),
            clusters: [...out.querySelectorAll("g.cluster")].map((g) =>
              read(g.querySelector(".nodeLabel")),
            ),
            edges: [...out.querySelectorAll<SVGPathElement>("path.flowchart-link")].map((p) => ({
              id: p.dataset.id ?? "",
              label: read(out.querySelector(`g.edgeLabel g.label[data-id="${p.dataset.id}"]`)),
            })),
          };
        },
        [id, text] as const,
      );
      if (errors.length > 0) throw new Error(`Mermaid's page failed: ${errors.join("; ")}`);
      // Node elements are "<diagram>-flowchart-<id>-<n>", edges "L_<from>_<to>_<n>".
      const nodes: Record<string, DrawnNode> = {};
      for (const node of raw.nodes) {
        const name = node.id.slice(`${id}-flowchart-`.length).replace(/-\d+$/, "");
        nodes[name] = {
          text: node.text,
          classes: node.classes.filter((c) => c !== "node" && c !== "default"),
          shape: node.shape,
        };
      }
      const names = Object.keys(nodes);
      const edges = raw.edges.map(({ id: edge, label }) => {
        const body = edge.replace(/^L_/, "").replace(/_\d+$/, "");
        const from = names.find(
          (a) => body.startsWith(`${a}_`) && body.slice(a.length + 1) in nodes,
        );
        if (from === undefined) throw new Error(`an edge between unknown nodes: ${edge}`);
        return { from, to: body.slice(from.length + 1), label };
      });
      return { svg: raw.svg, nodes, clusters: raw.clusters, edges };
    },
    parse: (text) =>
      page.evaluate(async (source) => {
        const res = await (globalThis as unknown as MermaidGlobal).mermaid.parse(source);
        return res.diagramType;
      }, text),
    close: () => page.close(),
  };
}

/**
 * Mermaid in one headless Chromium for the calling test file: launched before its tests,
 * closed after them (vitest's beforeAll and afterAll).
 */
export function useMermaid(): Pick<Mermaid, "draw" | "parse"> {
  let browser: Browser | undefined;
  let mermaid: Mermaid | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    mermaid = await mermaidIn(browser);
  });
  afterAll(async () => {
    await mermaid?.close();
    await browser?.close();
  });
  const ready = (): Mermaid => {
    if (mermaid === undefined) throw new Error("useMermaid: Mermaid is used outside a test");
    return mermaid;
  };
  return { draw: (text) => ready().draw(text), parse: (text) => ready().parse(text) };
}

interface MermaidGlobal {
  mermaid: {
    initialize(config: Record<string, unknown>): void;
    render(id: string, text: string): Promise<{ svg: string }>;
    parse(text: string): Promise<{ diagramType: string }>;
  };
}
