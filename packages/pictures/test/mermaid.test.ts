import { describe, expect, it } from "vitest";
import { picture, toMermaid } from "../src/index.js";
import { useMermaid } from "./browser.js";
import { big, context, MARKED, pathOf, sample } from "./helpers.js";

// Mermaid itself draws what toMermaid writes, in headless Chromium: one browser for the file.
const mermaid = useMermaid();

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
      // A box, or a subroutine box (`[[...]]`) for a forced stop.
      /^(\w+)(?:\[\[(.*)\]\]|\[(.*)\])$/,
      ([line, name, stop, box]) => {
        const label = stop ?? box;
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

describe("Mermaid, drawn by Mermaid 11 in Chromium", () => {
  const ctx = sample();

  it("draws the bundled release-graph.json: every line, release and hop, as written", async () => {
    const text = toMermaid(picture(ctx));
    const drawn = await mermaid.draw(text);
    expect([...drawn.clusters].sort()).toEqual(["2.10", "2.11", "2.12", "2.13", "2.8", "2.9"]);
    expect(Object.keys(drawn.nodes)).toEqual([...parse(text).nodes.keys()]);
    expect(drawn.nodes.v2_8_0).toEqual({
      text: "2.8.0\ngolden, no runner",
      classes: ["golden", "norunner"],
      shape: "rect",
    });
    expect(drawn.nodes.v2_10_2?.classes).toEqual(["withdrawn"]);
    expect(drawn.nodes.v2_10_1_transition_1?.text).toBe("2.10.1-transition.1\ntransition");
    // The stops the key rotation and 2.11.0's upgradeFrom force: a subroutine box, a note.
    expect(drawn.nodes.v2_9_1).toEqual({
      text: "2.9.1\nstop: key rotation to vendor-2025",
      classes: ["stop"],
      shape: "polygon",
    });
    expect(drawn.nodes.v2_10_3).toEqual({
      text: "2.10.3\nstop: 2.11.0 upgrades only from >=2.10.0",
      classes: ["stop"],
      shape: "polygon",
    });
    expect(drawn.edges).toHaveLength(18);
    expect(drawn.edges).toContainEqual({
      from: "v2_13_0",
      to: "v2_11_0",
      label: "wipes ownership",
    });
    expect(text).toContain(
      "double-sided violet box: stop forced by a key rotation or an upgradeFrom",
    );
  });

  it("draws a plan's hops numbered, and the same on a platform", async () => {
    const drawn = await mermaid.draw(
      toMermaid(picture(ctx, { path: pathOf(ctx, "2.13.0", "2.9.2") })),
    );
    expect(drawn.edges.filter((e) => e.label !== "" && e.label !== "wipes ownership")).toEqual([
      { from: "v2_10_1_transition_1", to: "v2_9_2", label: "2" },
      { from: "v2_13_0", to: "v2_10_1_transition_1", label: "1 · wipes ownership" },
    ]);
    expect(drawn.nodes.v2_9_2?.classes).toEqual(["golden", "onpath"]);
    const qemuarm = sample("qemuarm");
    const onQemu = await mermaid.draw(
      toMermaid(picture(qemuarm, { path: pathOf(qemuarm, "2.9.1", "2.9.2") })),
    );
    // On qemuarm 2.9.2's data is non-root: the direct hop wipes, the plan goes through 2.10.x.
    expect(onQemu.edges.filter((e) => e.label !== "")).toEqual([
      { from: "v2_9_1", to: "v2_9_2", label: "wipes users, ownership" },
      { from: "v2_9_1", to: "v2_10_1_transition_1", label: "1" },
      { from: "v2_10_1_transition_1", to: "v2_9_2", label: "2" },
      { from: "v2_13_0", to: "v2_11_0", label: "wipes ownership" },
    ]);
  });

  it("draws every feature the emitter writes: folded runs, wipes, blocked hops, both ways, no plan", async () => {
    const g = context({
      components: {
        users: { paths: ["etc/passwd"] },
        net: { wipeable: false, paths: ["etc/net"] },
      },
      releases: [
        { version: "1.0.0", golden: true, runner: false, epochs: { users: 1, net: 1 } },
        ...["1.0.1", "1.0.2", "1.0.3"].map((version) => ({
          version,
          epochs: { users: 1, net: 1 },
        })),
        { version: "1.1.0", golden: true, epochs: { users: 1, net: 1 } },
        { version: "1.1.1", withdrawn: true, epochs: { users: 1, net: 1 } },
        { version: "2.0.0", golden: true, epochs: { users: 2, net: 1 } },
        // An incompatible branch: net moves to 2 with no migration, and net may not be wiped.
        { version: "3.0.0", epochs: { users: 2, net: 2 } },
      ],
      migrations: [{ id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.0.0" }],
    });
    const p = picture(g, { path: pathOf(g, "1.1.0", "3.0.0") });
    const text = toMermaid(p);
    parse(text);
    const drawn = await mermaid.draw(text);
    expect(drawn.nodes.run_1_0_1_1_0_3).toEqual({
      text: "1.0.1 … 1.0.3\n3 releases",
      classes: ["run"],
      shape: "rect",
    });
    expect(drawn.nodes.v1_1_1?.classes).toEqual(["withdrawn"]);
    expect(drawn.nodes.v3_0_0?.classes).toEqual(["onpath"]);
    expect(drawn.edges).toEqual([
      { from: "v1_0_0", to: "run_1_0_1_1_0_3", label: "" },
      { from: "v1_0_0", to: "v1_1_0", label: "" },
      { from: "run_1_0_1_1_0_3", to: "v1_1_0", label: "" },
      { from: "v1_1_0", to: "v2_0_0", label: "" },
      { from: "v1_1_1", to: "v2_0_0", label: "" },
      { from: "v2_0_0", to: "v1_1_0", label: "wipes users" },
      { from: "v2_0_0", to: "v3_0_0", label: "✗ noChain" },
    ]);
    expect(text).toContain("  v1_0_0 <--> v1_1_0\n");
    // The endpoints of a pair with no plan are still drawn, and the title says so.
    expect(text.split("\n")[1]).toBe("  %% No plan from 1.1.0 to 3.0.0, even with wipes");
  });

  it("draws the marks: forced stops as subroutine boxes, an unused transition release with its note", async () => {
    const text = toMermaid(picture(context(MARKED)));
    const drawn = await mermaid.draw(text);
    const shown = Object.fromEntries(
      Object.entries(drawn.nodes).map(([id, n]) => [
        id,
        `${n.shape} ${n.classes.join(",")}: ${n.text}`,
      ]),
    );
    expect(shown).toEqual({
      v1_0_0: "rect golden: 1.0.0\ngolden",
      v1_1_0: "polygon stop: 1.1.0\nstop: key rotation to k2",
      v2_0_0: "rect golden: 2.0.0\ngolden",
      v2_1_0: "polygon stop: 2.1.0\nstop: 3.0.0 upgrades only from >=2.1.0",
      v2_1_1_transition_1:
        "rect transition,unused: 2.1.1-transition.1\ntransition\nunused: no plan between golden releases stops here",
      v3_0_0: "rect golden: 3.0.0\ngolden",
    });
    expect(text).toContain(
      "dashed border, with a note: transition release that no plan between golden releases uses",
    );
  });

  it("shows labels with Mermaid's special characters exactly as written", async () => {
    const odd = ['"quoted" <b>bold</b> & #quot; | ; %% end', "`**markdown**`", "a #35; b"];
    const g = context({
      components: { data: { paths: ["var/lib/data"] } },
      releases: odd.map((line, i) => ({
        version: `1.${i}.0`,
        line,
        golden: true,
        epochs: { data: 1 },
      })),
    });
    const text = toMermaid(picture(g));
    parse(text);
    const drawn = await mermaid.draw(text);
    expect([...drawn.clusters].sort()).toEqual([...odd].sort());
  });

  it("fails on text that is not Mermaid, with Mermaid's parse error", async () => {
    const text = toMermaid(picture(ctx));
    // A label whose quote is not closed, as an escaping bug would write it.
    const broken = text.replace('v2_9_2["2.9.2<br/>golden"]', 'v2_9_2["2.9.2<br/>"golden"]');
    expect(broken).not.toBe(text);
    await expect(mermaid.draw(broken)).rejects.toThrow(
      /Parse error on line \d+:\n.*\["2\.9\.2<br\/>"golden"\]/,
    );
    // The page still draws after an error.
    expect(Object.keys((await mermaid.draw(text)).nodes)).toHaveLength(13);
  });

  it("parses a graph of 1,000 releases within Mermaid's default limits", async () => {
    // Mermaid's parser counts the edges against maxEdges (500); laying this one out takes
    // Mermaid about a minute here, so it is parsed, not drawn.
    const text = toMermaid(picture(big()));
    expect(text.length).toBeLessThanOrEqual(50_000);
    expect(await mermaid.parse(text)).toBe("flowchart-v2");
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
