import { pictureTitle } from "./dot.js";
import type { Picture, PictureNode } from "./picture.js";
import {
  type EdgeStyle,
  edgeLabel,
  edgeStyle,
  hasTag,
  LEGEND,
  NODE_LEGEND,
  type NodeMark,
  nodeMarks,
  nodeNotes,
  nodeText,
  palette,
} from "./style.js";

/**
 * A Mermaid `flowchart`, as GitHub and GitLab render it in Markdown: one subgraph per line,
 * ids that are plain identifiers (`v2_9_2`, never a keyword), every label quoted (versions
 * have dots), styles by `classDef`/`class` and `linkStyle` (edge indices, in the order the
 * edges are written). Mermaid refuses more than 500 edges or 50,000 characters: the
 * picture's reduction keeps a 1,000-release graph under both. A stop that a key rotation or
 * an upgradeFrom forces is drawn as a subroutine box (`[[...]]`, double sides), a shape
 * every Mermaid theme keeps; the legend is a comment, as a diagram has no other place.
 */
export function toMermaid(p: Picture): string {
  const ids = new Ids();
  const lineIds = new Ids();
  const out: string[] = [];
  out.push("flowchart LR");
  out.push(`  %% ${pictureTitle(p)}`);
  const marks = nodeMarks(p.lines.flatMap((l) => l.nodes));
  out.push(
    `  %% ${[
      ...LEGEND.filter((l) => l.style !== "path" || p.path !== null).map(
        (l) => `${legendWord[l.style]}: ${l.text}`,
      ),
      ...NODE_LEGEND.filter((l) => marks.has(l.mark)).map((l) => `${markWord[l.mark]}: ${l.text}`),
    ].join("; ")}`,
  );
  const classes = new Map<string, string[]>();
  const classify = (c: string, id: string) => {
    const list = classes.get(c);
    if (list) list.push(id);
    else classes.set(c, [id]);
  };
  for (const line of p.lines) {
    out.push(`  subgraph ${lineIds.of(line.name, "line_")}[${label([line.name])}]`);
    for (const n of line.nodes) {
      const id = ids.of(n.id, n.releases.length > 1 ? "run_" : "v");
      const { title, detail } = nodeText(n);
      const notes = nodeNotes(n);
      const text = label([
        title,
        ...(detail === "" ? [] : [detail]),
        ...notes.stops,
        ...(notes.unused === null ? [] : [notes.unused]),
      ]);
      out.push(n.stops.length > 0 ? `    ${id}[[${text}]]` : `    ${id}[${text}]`);
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
      `  ${ids.of(e.from)} ${arrow}${text === "" ? "" : `|${label([text])}|`} ${ids.of(e.to)}`,
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

const markWord: Record<NodeMark, string> = {
  stop: "double-sided violet box",
  unused: "dashed border, with a note",
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
  unused: "stroke-dasharray:6 3",
  stop: `stroke:${palette.stop},stroke-width:2px`,
  onpath: `stroke:${palette.path},stroke-width:4px`,
};

function nodeClasses(n: PictureNode): string[] {
  const out: string[] = [];
  if (n.releases.length > 1) out.push("run");
  if (hasTag(n, "golden")) out.push("golden");
  if (hasTag(n, "transition")) out.push("transition");
  if (hasTag(n, "withdrawn")) out.push("withdrawn");
  if (hasTag(n, "no runner")) out.push("norunner");
  if (n.unused) out.push("unused");
  if (n.stops.length > 0) out.push("stop");
  if (n.onPath) out.push("onpath");
  return out;
}

/**
 * A quoted Mermaid label of one or more lines (joined by `<br/>`). Inside quotes Mermaid
 * still reads entity codes (`#quot;`, `#35;`), HTML tags and, in a label that starts with
 * a backtick, Markdown: so `"`, `<`, `>`, `` ` ``, `&` and `#` itself (text such as
 * `#quot;` stays text) are written as entity codes, which Mermaid shows as the character.
 */
function label(lines: readonly string[]): string {
  const escaped = lines.map((s) =>
    s.replace(/[#"<>`&]/g, (c) => `#${ENTITY[c] ?? c.charCodeAt(0)};`),
  );
  return `"${escaped.join("<br/>")}"`;
}

const ENTITY: Record<string, string> = { '"': "quot", "<": "lt", ">": "gt", "&": "amp" };

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
