import { describe, expect, it } from "vitest";
import { picture, toMermaid } from "../src/index.js";
import { big, context, pathOf, sample } from "./helpers.js";

/** Words Mermaid's flowchart grammar reads as keywords: never an id. */
const KEYWORDS = new Set([
  "end",
  "subgraph",
  "graph",
  "flowchart",
  "class",
  "classDef",
  "style",
  "linkStyle",
  "click",
  "call",
  "href",
  "default",
  "direction",
]);
const ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const LABEL = /^"[^"]*"$/;
const ARROWS = ["-->", "<-->", "-.->", "<-.->", "-.-x", "==>"];

interface Parsed {
  nodes: Map<string, string>;
  subgraphs: string[];
  edges: { from: string; arrow: string; label: string | null; to: string }[];
  classes: Map<string, string[]>;
}

/**
 * Reads the flowchart back statement by statement, refusing anything outside the subset
 * toMermaid means to write: so what it writes is what GitHub's and GitLab's Mermaid parse.
 */
function parse(text: string): Parsed {
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("%%"));
  expect(lines[0]).toBe("flowchart LR");
  const p: Parsed = { nodes: new Map(), subgraphs: [], edges: [], classes: new Map() };
  const defined = new Set<string>();
  const styled = new Set<number>();
  const open: string[] = [];
  const id = (s: string) => {
    expect(s, `id ${s}`).toMatch(ID);
    expect(KEYWORDS.has(s), `id ${s} is a keyword`).toBe(false);
    return s;
  };
  // Each statement toMermaid writes, and what it must look like.
  const statements: [RegExp, (m: string[]) => void][] = [
    [
      /^subgraph (\S+?)\[(.*)\]$/,
      ([, name, label]) => {
        expect(label).toMatch(LABEL);
        open.push(id(name as string));
        p.subgraphs.push(name as string);
      },
    ],
    [/^end$/, () => expect(open.pop(), "end without subgraph").toBeDefined()],
    [
      /^(\w+)\[(.*)\]$/,
      ([line, name, label]) => {
        expect(open.length, `${line}: every node is in its line's subgraph`).toBe(1);
        expect(label, line).toMatch(LABEL);
        expect(p.nodes.has(name as string), `${name} declared twice`).toBe(false);
        p.nodes.set(id(name as string), label as string);
      },
    ],
    [
      /^classDef (\w+) (\S.*)$/,
      ([, name, props]) => {
        defined.add(name as string);
        for (const prop of (props as string).split(","))
          expect(prop).toMatch(/^[a-z-]+:[#\w .-]+$/);
      },
    ],
    [
      /^class ([\w,]+) (\w+)$/,
      ([, ids, name]) => {
        expect(defined.has(name as string), `class ${name} before its classDef`).toBe(true);
        p.classes.set(name as string, (ids as string).split(","));
      },
    ],
    [
      /^linkStyle ([\d,]+) (\S+)$/,
      ([, indices]) => {
        for (const i of (indices as string).split(",").map(Number)) {
          expect(styled.has(i), `edge ${i} styled twice`).toBe(false);
          styled.add(i);
        }
      },
    ],
    [
      /^(\w+) (\S+?)(?:\|(".*")\|)? (\w+)$/,
      ([line, from, arrow, label, to]) => {
        expect(ARROWS, line).toContain(arrow);
        p.edges.push({
          from: from as string,
          arrow: arrow as string,
          label: label ?? null,
          to: to as string,
        });
      },
    ],
  ];
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    const found = statements.find(([re]) => re.test(line));
    if (!found) throw new Error(`not a statement toMermaid writes: ${line}`);
    found[1](line.match(found[0]) as string[]);
  }
  expect(open).toEqual([]);
  for (const e of p.edges) {
    expect(p.nodes.has(e.from), `edge from undeclared ${e.from}`).toBe(true);
    expect(p.nodes.has(e.to), `edge to undeclared ${e.to}`).toBe(true);
  }
  for (const ids of p.classes.values()) for (const x of ids) expect(p.nodes.has(x)).toBe(true);
  expect([...styled].sort((a, b) => a - b)).toEqual(p.edges.map((_, i) => i));
  return p;
}

describe("Mermaid", () => {
  const ctx = sample();

  it("writes one subgraph per line and a quoted label per release", () => {
    const p = parse(toMermaid(picture(ctx)));
    expect(p.subgraphs).toEqual([
      "line_2_8",
      "line_2_9",
      "line_2_10",
      "line_2_11",
      "line_2_12",
      "line_2_13",
    ]);
    expect(p.nodes.get("v2_10_1_transition_1")).toBe('"2.10.1-transition.1<br/>transition"');
    expect(p.nodes.get("v2_9_2")).toBe('"2.9.2<br/>golden"');
    expect(p.classes.get("golden")).toEqual(["v2_8_0", "v2_9_2", "v2_11_0", "v2_13_0"]);
    expect(p.classes.get("transition")).toEqual(["v2_10_1_transition_1"]);
    expect(p.classes.get("withdrawn")).toEqual(["v2_10_2"]);
    expect(p.classes.get("norunner")).toEqual(["v2_8_0"]);
    expect(p.edges).toHaveLength(18);
    expect(p.edges).toContainEqual({
      from: "v2_13_0",
      arrow: "-.->",
      label: '"wipes ownership"',
      to: "v2_11_0",
    });
  });

  it("draws the plan's hops thick, numbered", () => {
    const text = toMermaid(picture(ctx, { path: pathOf(ctx, "2.11.0", "2.9.2") }));
    const p = parse(text);
    expect(p.edges.filter((e) => e.arrow === "==>")).toEqual([
      { from: "v2_10_1_transition_1", arrow: "==>", label: '"2"', to: "v2_9_2" },
      { from: "v2_11_0", arrow: "==>", label: '"1"', to: "v2_10_1_transition_1" },
    ]);
    expect(p.classes.get("onpath")).toEqual(["v2_9_2", "v2_10_1_transition_1", "v2_11_0"]);
    expect(text.split("\n").slice(0, 2)).toEqual([
      "flowchart LR",
      "  %% Plan 2.11.0 → 2.9.2: 2 hops, no wipe",
    ]);
  });

  it("gives versions that differ only in punctuation distinct ids", () => {
    const p = parse(toMermaid(picture(golden(["1.0.0-rc.1", "1.0.0-rc-1", "1.0.0"]))));
    expect([...p.nodes.keys()].sort()).toEqual(["v1_0_0", "v1_0_0_rc_1", "v1_0_0_rc_1_2"]);
  });

  it("keeps a graph of 1,000 releases within what GitHub and GitLab render", () => {
    const text = toMermaid(picture(big()));
    const p = parse(text);
    // Mermaid's defaults, which a diagram cannot raise: maxEdges 500, maxTextSize 50,000.
    expect(p.edges.length).toBeLessThanOrEqual(500);
    expect(text.length).toBeLessThanOrEqual(50_000);
    expect(p.subgraphs).toHaveLength(50);
  });
});

function golden(versions: string[]) {
  return context({
    components: { data: { paths: ["var/lib/data"] } },
    releases: versions.map((version) => ({
      version,
      golden: true,
      epochs: { data: 1 },
      signedBy: "k1",
      trusts: ["k1"],
    })),
  });
}
