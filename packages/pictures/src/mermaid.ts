import { pictureTitle } from "./dot.js";
import type { Picture, PictureNode } from "./picture.js";
import {
  type EdgeStyle,
  edgeLabel,
  edgeStyle,
  hasTag,
  LEGEND,
  nodeText,
  palette,
} from "./style.js";

/**
 * A Mermaid `flowchart`, as GitHub and GitLab render it in Markdown: one subgraph per line,
 * ids that are plain identifiers (`v2_9_2`, never a keyword), every label quoted (versions
 * have dots), styles by `classDef`/`class` and `linkStyle` (edge indices, in the order the
 * edges are written). Mermaid refuses more than 500 edges or 50,000 characters: the
 * picture's reduction keeps a 1,000-release graph under both.
 */
export function toMermaid(p: Picture): string {
  const ids = new Ids();
  const lineIds = new Ids();
  const out: string[] = [];
  out.push("flowchart LR");
  out.push(`  %% ${pictureTitle(p)}`);
  out.push(
    `  %% ${LEGEND.filter((l) => l.style !== "path" || p.path !== null)
      .map((l) => `${legendWord[l.style]}: ${l.text}`)
      .join("; ")}`,
  );
  const classes = new Map<string, string[]>();
  const classify = (c: string, id: string) => {
    const list = classes.get(c);
    if (list) list.push(id);
    else classes.set(c, [id]);
  };
  for (const line of p.lines) {
    out.push(`  subgraph ${lineIds.of(line.name, "line_")}[${label(line.name)}]`);
    for (const n of line.nodes) {
      const id = ids.of(n.id, n.releases.length > 1 ? "run_" : "v");
      const { title, detail } = nodeText(n);
      out.push(`    ${id}[${label(detail === "" ? title : `${title}<br/>${detail}`)}]`);
      for (const c of nodeClasses(n)) classify(c, id);
    }
    out.push("  end");
  }
  const byStyle = new Map<EdgeStyle, number[]>();
  p.edges.forEach((e, i) => {
    const style = edgeStyle(e);
    const text = edgeLabel(e);
    const arrow = e.both ? `<${ARROW[style]}` : ARROW[style];
    out.push(
      `  ${ids.of(e.from)} ${arrow}${text === "" ? "" : `|${label(text)}|`} ${ids.of(e.to)}`,
    );
    const list = byStyle.get(style);
    if (list) list.push(i);
    else byStyle.set(style, [i]);
  });
  for (const [c, def] of Object.entries(CLASSES)) {
    const members = classes.get(c);
    if (!members) continue;
    out.push(`  classDef ${c} ${def}`);
    out.push(`  class ${members.join(",")} ${c}`);
  }
  for (const [style, indices] of byStyle)
    out.push(`  linkStyle ${indices.join(",")} ${LINK[style]}`);
  return `${out.join("\n")}\n`;
}

const legendWord: Record<EdgeStyle, string> = {
  next: "grey",
  golden: "blue",
  wipe: "orange dashed",
  blocked: "red dotted",
  path: "thick green",
};

const ARROW: Record<EdgeStyle, string> = {
  next: "-->",
  golden: "-->",
  wipe: "-.->",
  blocked: "-.-x",
  path: "==>",
};

const LINK: Record<EdgeStyle, string> = {
  next: `stroke:${palette.next}`,
  golden: `stroke:${palette.golden_hop},stroke-width:2px`,
  wipe: `stroke:${palette.wipe},stroke-width:2px,color:${palette.wipe}`,
  blocked: `stroke:${palette.blocked},color:${palette.blocked}`,
  path: `stroke:${palette.path},stroke-width:4px,color:${palette.path}`,
};

/** Later classes win where they set the same property: the path's border last. */
const CLASSES: Record<string, string> = {
  run: `fill:${palette.run.fill},stroke:${palette.run.border},color:${palette.run.text}`,
  golden: `fill:${palette.golden.fill},stroke:${palette.golden.border},stroke-width:2px,color:${palette.text}`,
  transition: `fill:${palette.transition.fill},stroke:${palette.transition.border},color:${palette.text}`,
  withdrawn: `fill:${palette.withdrawn.fill},stroke:${palette.withdrawn.border},color:${palette.withdrawn.text},stroke-dasharray:5 3`,
  norunner: "stroke-dasharray:2 2",
  onpath: `stroke:${palette.path},stroke-width:4px`,
};

function nodeClasses(n: PictureNode): string[] {
  const out: string[] = [];
  if (n.releases.length > 1) out.push("run");
  if (hasTag(n, "golden")) out.push("golden");
  if (hasTag(n, "transition")) out.push("transition");
  if (hasTag(n, "withdrawn")) out.push("withdrawn");
  if (hasTag(n, "no runner")) out.push("norunner");
  if (n.onPath) out.push("onpath");
  return out;
}

/** A quoted Mermaid label: `"` and angle brackets as entity codes, `<br/>` kept as the line break. */
function label(text: string): string {
  const escaped = text
    .split("<br/>")
    .map((s) => s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;"))
    .join("<br/>");
  return `"${escaped}"`;
}

/**
 * Mermaid ids: a prefix and the name with every other character as `_` (`2.10.1-rc.1`
 * is `v2_10_1_rc_1`), a counter where two names map to the same id.
 */
class Ids {
  private readonly byName = new Map<string, string>();
  private readonly used = new Set<string>();
  of(name: string, prefix = "v"): string {
    const known = this.byName.get(name);
    if (known) return known;
    const base = prefix + name.replace(/[^A-Za-z0-9]+/g, "_").replace(/_+$/, "");
    let id = base;
    for (let k = 2; this.used.has(id); k++) id = `${base}_${k}`;
    this.used.add(id);
    this.byName.set(name, id);
    return id;
  }
}
