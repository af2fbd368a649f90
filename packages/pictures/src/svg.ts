export interface Svg {
  /** An `<svg>` element to put inline into an HTML page. */
  readonly svg: string;
  /** What graphviz warned about (nothing, for the DOT toDot writes). */
  readonly warnings: readonly string[];
}

/**
 * Lays out and draws DOT with graphviz compiled to WebAssembly (@viz-js/viz, loaded on
 * first use: it is a megabyte of JavaScript), so the report needs no graphviz install.
 * The result is made fit to inline: no XML prolog or DOCTYPE, and no namespace
 * attributes (an HTML parser puts `<svg>` in the SVG namespace by itself), so the page
 * names no URL at all.
 */
export async function renderSvg(dot: string): Promise<Svg> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  const res = viz.render(dot, { format: "svg", engine: "dot" });
  const messages = res.errors.map((e) => `${e.level ?? "error"}: ${e.message.trim()}`);
  if (res.status === "failure") throw new Error(`graphviz failed: ${messages.join("; ")}`);
  return { svg: inlineSvg(res.output), warnings: messages };
}

export function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/g, "")
    .replace(/<!DOCTYPE[^>]*>\s*/g, "")
    .replace(/<!--[\s\S]*?-->\s*/g, "")
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, "")
    .trim();
}
