import { neighbours, type Picture, type PictureEdge, type PictureNode } from "./picture.js";
import {
  type EdgeStyle,
  edgeLabel,
  edgeStyle,
  hasTag,
  LEGEND,
  NODE_LEGEND,
  nodeMarks,
  nodeNotes,
  nodeText,
  palette,
} from "./style.js";

export interface DotOptions {
  /** A title and legend above the picture (default true; the report has its own). */
  legend?: boolean;
}

/**
 * Graphviz DOT. Layout: each line is a cluster drawn as one row, its releases left to
 * right in version order (invisible edges of weight 10 keep them there); every drawn hop
 * has `constraint=false`, so hops between lines never stretch a row and the rows stack.
 * Node and edge ids (`release:V`, `hop:A:B`) survive into the SVG, for the report's script.
 */
export function toDot(p: Picture, opts: DotOptions = {}): string {
  const out: string[] = [];
  out.push("digraph stepstone {");
  out.push(
    `  graph [rankdir=TB, fontname="Helvetica", nodesep=0.35, ranksep=0.6, newrank=true, bgcolor="white", pad=0.2];`,
  );
  out.push(
    `  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.14,0.06", height=0.4, color="${palette.node.border}", fillcolor="${palette.node.fill}", fontcolor="${palette.text}"];`,
  );
  out.push(
    `  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7, color="${palette.next}", constraint=false];`,
  );
  if (opts.legend ?? true) {
    out.push(`  labelloc=t; labeljust=l;`);
    out.push(`  label=<${legendHtml(p)}>;`);
  }
  for (const line of p.lines) {
    out.push("");
    out.push(`  subgraph ${q(`cluster_${line.name}`)} {`);
    out.push(
      `    label=<<B>${html(line.name)}</B>>; labeljust=l; fontsize=12; fontcolor="${palette.muted}"; style="rounded,filled"; color="${palette.cluster.border}"; fillcolor="${palette.cluster.fill}"; id=${q(`line:${line.name}`)};`,
    );
    for (const n of line.nodes) out.push(`    ${q(n.id)} [${nodeAttrs(n)}];`);
    // One row per line (one rank), in version order.
    if (line.nodes.length > 1) {
      out.push(`    { rank=same; ${line.nodes.map((n) => q(n.id)).join("; ")}; }`);
      for (const [a, b] of neighbours(line.nodes))
        out.push(`    ${q(a.id)} -> ${q(b.id)} [style=invis, constraint=true];`);
    }
    out.push("  }");
  }
  // The rows top to bottom in line order: each line one rank below the one before.
  const firsts = p.lines.flatMap((l) => (l.nodes[0] ? [l.nodes[0].id] : []));
  if (firsts.length > 1) out.push("");
  for (const [a, b] of neighbours(firsts))
    out.push(`  ${q(a)} -> ${q(b)} [style=invis, constraint=true];`);
  out.push("");
  for (const e of p.edges) out.push(`  ${q(e.from)} -> ${q(e.to)} [${edgeAttrs(e)}];`);
  out.push("}");
  return `${out.join("\n")}\n`;
}

function nodeAttrs(n: PictureNode): string {
  const { title, detail } = nodeText(n);
  const a: Record<string, string> = { id: q(`release:${n.id}`) };
  const styles = ["rounded", "filled"];
  let fontColor: string = palette.text;
  if (n.releases.length > 1) {
    a.fillcolor = q(palette.run.fill);
    a.color = q(palette.run.border);
    fontColor = palette.run.text;
  } else if (hasTag(n, "withdrawn")) {
    a.fillcolor = q(palette.withdrawn.fill);
    a.color = q(palette.withdrawn.border);
    fontColor = palette.withdrawn.text;
    styles.push("dashed");
  } else if (hasTag(n, "golden")) {
    a.fillcolor = q(palette.golden.fill);
    a.color = q(palette.golden.border);
    a.penwidth = "2";
  } else if (hasTag(n, "transition")) {
    a.fillcolor = q(palette.transition.fill);
    a.color = q(palette.transition.border);
    a.penwidth = "1.5";
  }
  if (hasTag(n, "no runner")) styles.push("dotted");
  // A forced stop: a double border; an unused transition release: a dashed one.
  if (n.stops.length > 0) {
    a.color = q(palette.stop);
    a.peripheries = "2";
  }
  if (n.unused) styles.push("dashed");
  if (n.onPath) {
    a.color = q(palette.path);
    a.penwidth = "3";
  }
  a.style = q(styles.join(","));
  a.fontcolor = q(fontColor);
  const strike = hasTag(n, "withdrawn");
  const main = strike ? `<S>${html(title)}</S>` : `<B>${html(title)}</B>`;
  const small = (color: string, text: string) =>
    `<FONT POINT-SIZE="9" COLOR="${color}">${text}</FONT>`;
  const notes = nodeNotes(n);
  const lines = [
    main,
    ...(detail === "" ? [] : [small(palette.muted, html(detail))]),
    ...notes.stops.map((t) => small(palette.stop, html(t))),
    ...(notes.unused === null ? [] : [small(palette.unused, `<I>${html(notes.unused)}</I>`)]),
  ];
  a.label = `<${lines.join("<BR/>")}>`;
  return Object.entries(a)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

const EDGE: Record<EdgeStyle, string> = {
  next: `color="${palette.next}"`,
  golden: `color="${palette.golden_hop}", penwidth=1.4`,
  wipe: `color="${palette.wipe}", fontcolor="${palette.wipe}", style=dashed, penwidth=1.4`,
  blocked: `color="${palette.blocked}", fontcolor="${palette.blocked}", style=dotted, arrowhead=tee`,
  path: `color="${palette.path}", fontcolor="${palette.path}", penwidth=3`,
};

function edgeAttrs(e: PictureEdge): string {
  const label = edgeLabel(e);
  const attrs = [`id=${q(`hop:${e.from}:${e.to}`)}`, EDGE[edgeStyle(e)]];
  if (e.both) attrs.push("dir=both");
  if (label !== "") attrs.push(`label=${q(label)}`);
  if (edgeStyle(e) === "path") attrs.push("fontsize=11");
  return attrs.join(", ");
}

function legendHtml(p: Picture): string {
  const swatch = (s: EdgeStyle, text: string) => {
    const color = {
      next: palette.next,
      golden: palette.golden_hop,
      wipe: palette.wipe,
      blocked: palette.blocked,
      path: palette.path,
    }[s];
    return `<FONT COLOR="${color}">${s === "blocked" ? "⊣" : s === "wipe" ? "⇢" : "→"}</FONT> ${html(text)}`;
  };
  const legend = LEGEND.filter((l) => l.style !== "path" || p.path !== null)
    .map((l) => swatch(l.style, l.text))
    .join("    ");
  const marks = nodeMarks(p.lines.flatMap((l) => l.nodes));
  const markColor = { stop: palette.stop, unused: palette.unused };
  const nodes = [
    `<FONT COLOR="${palette.golden.border}">■</FONT> golden`,
    `<FONT COLOR="${palette.transition.border}">■</FONT> transition`,
    `<FONT COLOR="${palette.withdrawn.border}">□</FONT> withdrawn`,
    ...NODE_LEGEND.filter((l) => marks.has(l.mark)).map(
      (l) =>
        `<FONT COLOR="${markColor[l.mark]}">${l.mark === "stop" ? "▣" : "□"}</FONT> ${html(`${l.text} (${l.mark === "stop" ? "double border" : "dashed"})`)}`,
    ),
  ].join("    ");
  return `<FONT POINT-SIZE="16"><B>${html(pictureTitle(p))}</B></FONT><BR ALIGN="LEFT"/><FONT POINT-SIZE="10" COLOR="${palette.muted}">${nodes}    ${legend}</FONT><BR ALIGN="LEFT"/>`;
}

/** "Release graph", "Plan 2.9.2 → 2.11.0: 2 hops, no wipe", "No plan from A to B, even with wipes". */
export function pictureTitle(p: Picture): string {
  const on = p.platform === null ? "" : ` on ${p.platform}`;
  if (p.path === null) return `Release graph${on}`;
  const { plan } = p.path;
  if (plan === null)
    return `No plan from ${p.path.from.version} to ${p.path.to.version}${on}, even with wipes`;
  const wiped = [...new Set(plan.steps.flatMap((s) => s.wipe))];
  const hops = `${plan.hops} ${plan.hops === 1 ? "hop" : "hops"}`;
  return `Plan ${plan.from.version} → ${plan.to.version}${on}: ${hops}, ${wiped.length === 0 ? "no wipe" : `wipes ${wiped.join(", ")}`}`;
}

/** A DOT string (IDs and plain labels). */
function q(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Text inside an HTML-like label. */
function html(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
