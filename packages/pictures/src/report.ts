import {
  gaps,
  gapsJson,
  type Matrix,
  matrixJson,
  type PlanContext,
  suggest,
} from "@stepstone/planner";
import { fleetSection, type ReportFleet } from "./fleet-section.js";
import { esc } from "./html.js";
import { goldenMatrix, type Picture, type Tag, tagsOf } from "./picture.js";
import { STYLE } from "./report-style.js";
import { NODE_LEGEND, nodeMarks, palette } from "./style.js";

/** Everything the report shows that is computed when it is written (the planner runs in the page). */
export interface ReportData {
  /** The graph file as the user named it. */
  readonly file: string;
  readonly platform: string | null;
  readonly counts: {
    readonly components: number;
    readonly releases: number;
    readonly lines: number;
    readonly golden: number;
    readonly transition: number;
    readonly withdrawn: number;
    readonly migrations: number;
  };
  readonly components: readonly { readonly name: string; readonly wipeable: boolean }[];
  readonly releases: readonly { readonly version: string; readonly tags: readonly Tag[] }[];
  /** The golden matrix (`matrix --format json`), each cell with its plan's stops. */
  readonly matrix: {
    readonly releases: readonly string[];
    readonly cells: readonly MatrixCellData[];
  };
  /** `gaps --suggest --format json`. */
  readonly gaps: ReturnType<typeof gapsJson>;
}

export interface MatrixCellData {
  readonly from: string;
  readonly to: string;
  readonly reachable: boolean;
  readonly hops: number | null;
  readonly wipes: number | null;
  /** The releases the best plan flashes, in order (the last is `to`). */
  readonly stops: readonly string[];
}

/**
 * The golden matrix, the gaps and the suggestions, exactly as `matrix` and `gaps --suggest`
 * compute them; `golden` is the golden matrix when the caller has it (the picture's).
 */
export function reportData(
  ctx: PlanContext,
  file: string,
  golden: Matrix = goldenMatrix(ctx),
): ReportData {
  const m = golden;
  const json = matrixJson(m);
  const gapList = gaps(ctx, m);
  const releases = ctx.releases;
  return {
    file,
    platform: ctx.platform,
    counts: {
      components: ctx.components.length,
      releases: releases.length,
      lines: new Set(releases.map((r) => r.line)).size,
      golden: releases.filter((r) => r.golden).length,
      transition: releases.filter((r) => r.transition).length,
      withdrawn: releases.filter((r) => r.withdrawn).length,
      migrations: ctx.graph.migrations.length,
    },
    components: ctx.components.map((c) => ({ name: c.name, wipeable: c.wipeable })),
    releases: releases.map((r) => ({ version: r.version, tags: tagsOf(r) })),
    matrix: {
      // The CLI's `matrix --format json`, each cell with the stops the page draws.
      releases: json.releases,
      cells: json.cells.map((cell, i) => ({
        ...cell,
        // The stops of the matrix's own search (not every plan's scripts, which a large
        // matrix would pay for thousands of times).
        stops: (m.cells[i] as (typeof m.cells)[number]).stops.map((r) => r.version),
      })),
    },
    gaps: gapsJson(gapList, gapList.length > 0 ? suggest(ctx, gapList) : null),
  };
}

/** What the page's script reads (embedded as JSON). */
export interface PageData {
  readonly file: string;
  readonly platform: string | null;
  /** The graph file's JSON: the page parses it with the same parseGraph as the CLI. */
  readonly graph: unknown;
  /** Release version -> the picture's node id (a folded run holds several releases). */
  readonly nodes: Readonly<Record<string, string>>;
  /** The pair planned when the page opens. */
  readonly from: string | null;
  readonly to: string | null;
}

export interface ReportInput {
  readonly data: ReportData;
  readonly picture: Picture;
  /** The picture as inline SVG (see renderSvg). */
  readonly svg: string;
  /** The graph file's JSON, for the page's planner. */
  readonly graph: unknown;
  /** The page's script: the planner bundled for the browser, with the page's own code. */
  readonly script: string;
  /** With `report --inventory`: the fleet section. */
  readonly fleet?: ReportFleet;
}

/**
 * One self-contained HTML page: inline CSS, the picture as inline SVG, the data as JSON, the
 * script inline. A Content-Security-Policy forbids every load (`default-src 'none'`), so
 * the browser itself enforces that the page reaches no network.
 */
export function reportHtml(input: ReportInput): string {
  const { data, picture } = input;
  const nodes: Record<string, string> = {};
  for (const line of picture.lines)
    for (const n of line.nodes) for (const r of n.releases) nodes[r.version] = n.id;
  const golden = data.matrix.releases;
  const page: PageData = {
    file: data.file,
    platform: data.platform,
    graph: input.graph,
    nodes,
    from: golden[0] ?? data.releases[0]?.version ?? null,
    to: golden[golden.length - 1] ?? data.releases[data.releases.length - 1]?.version ?? null,
  };
  const on = data.platform === null ? "" : ` on ${data.platform}`;
  const c = data.counts;
  const chips = [
    `${c.releases} releases in ${c.lines} lines`,
    `<span class="chip golden">${c.golden} golden</span>`,
    `<span class="chip transition">${c.transition} transition</span>`,
    ...(c.withdrawn > 0 ? [`<span class="chip withdrawn">${c.withdrawn} withdrawn</span>`] : []),
    `${c.components} components`,
    `${c.migrations} migrations`,
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>stepstone report: ${esc(data.file)}${esc(on)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>stepstone <span class="light">report</span></h1>
  <p class="file"><code>${esc(data.file)}</code>${data.platform === null ? "" : ` <span class="chip">platform ${esc(data.platform)}</span>`}</p>
  <p class="summary">${chips.join(' <span class="sep">·</span> ')}</p>
</header>
<main>
${plannerSection(data)}
${graphSection(input)}
<div class="columns${data.matrix.releases.length > 8 ? " stacked" : ""}">
${matrixSection(data)}
${gapsSection(data)}
</div>
${input.fleet === undefined ? "" : fleetSection(input.fleet)}
</main>
<footer>Written by <code>stepstone report</code> from <code>${esc(data.file)}</code>${esc(on)}. The planner in this page is stepstone's own, bundled into it: it finds the same plans as <code>stepstone plan</code>. The page loads nothing from the network.</footer>
<script type="application/json" id="stepstone-data">${json(page)}</script>
<script>${scriptText(input.script)}</script>
</body>
</html>
`;
}

export { esc };

function plannerSection(data: ReportData): string {
  const options = data.releases
    .map((r) => {
      const tags = r.tags.length > 0 ? ` (${r.tags.join(", ")})` : "";
      return `<option value="${esc(r.version)}">${esc(r.version + tags)}</option>`;
    })
    .join("");
  const wipeable = data.components.filter((c) => c.wipeable);
  const wipes =
    wipeable.length === 0
      ? `<span class="muted">no component may be wiped</span>`
      : wipeable
          .map(
            (c) =>
              `<label class="check"><input type="checkbox" name="wipe" value="${esc(c.name)}"> ${esc(c.name)}</label>`,
          )
          .join("");
  return `<section id="planner" class="card">
  <h2>Plan a move</h2>
  <form id="plan-form" class="plan-form" autocomplete="off">
    <label>from <select id="from" name="from">${options}</select></label>
    <button type="button" id="swap" title="swap from and to">⇄</button>
    <label>to <select id="to" name="to">${options}</select></label>
    <span class="wipes"><span class="muted">allow wiping:</span> ${wipes}</span>
  </form>
  <div id="plan-result" aria-live="polite"><noscript><p class="muted">The planner needs JavaScript; the rest of the page does not.</p></noscript></div>
</section>`;
}

function graphSection(input: ReportInput): string {
  const swatch = (color: string, dash: string, text: string) =>
    `<span class="key"><svg width="28" height="10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/></svg>${esc(text)}</span>`;
  const box = (cls: string, text: string) =>
    `<span class="key"><span class="box ${cls}"></span>${esc(text)}</span>`;
  const marks = nodeMarks(input.picture.lines.flatMap((l) => l.nodes));
  const legend = [
    box("golden", "golden"),
    box("transition", "transition"),
    box("withdrawn", "withdrawn"),
    box("run", "folded run of releases"),
    ...NODE_LEGEND.filter((l) => marks.has(l.mark)).map((l) => box(l.mark, l.text)),
    swatch(palette.next, "0", "next release"),
    swatch(palette.golden_hop, "0", "hop of a golden plan"),
    swatch(palette.wipe, "5 3", "wipes data"),
    swatch(palette.blocked, "2 2", "blocked"),
    swatch(palette.path, "0", "the plan above"),
  ].join("");
  return `<section id="graph" class="card">
  <h2>Release graph</h2>
  <p class="muted">Each row is a release line. Drawn: each release to the next, and the hops of the best plans between neighbouring golden releases; pick a pair above to see its plan here.</p>
  <p class="legend">${legend}</p>
  <div class="svg-wrap">${input.svg}</div>
</section>`;
}

function matrixSection(data: ReportData): string {
  const m = data.matrix;
  const on = data.platform === null ? "" : ` on ${data.platform}`;
  if (m.releases.length === 0) {
    return `<section id="matrix" class="card"><h2>Golden matrix</h2><p class="muted">No golden releases${esc(on)}: mark the manufacturing images with <code>"golden": true</code>.</p></section>`;
  }
  const cell = new Map(m.cells.map((c) => [`${c.from}\0${c.to}`, c]));
  const head = m.releases.map((v) => `<th scope="col">${esc(v)}</th>`).join("");
  const rows = m.releases
    .map((a) => {
      const tds = m.releases
        .map((b) => {
          if (a === b) return `<td class="self">·</td>`;
          const c = cell.get(`${a}\0${b}`);
          if (!c?.reachable)
            return `<td class="cell none" data-from="${esc(a)}" data-to="${esc(b)}" title="${esc(`${a} → ${b}: no plan, even with wipes`)}">✗</td>`;
          const wipes = c.wipes ?? 0;
          const text = wipes === 0 ? String(c.hops) : `${c.hops}+${wipes}w`;
          const title = `${[a, ...c.stops].join(" → ")}: ${c.hops} ${c.hops === 1 ? "hop" : "hops"}${wipes === 0 ? "" : `, wipes ${wipes} ${wipes === 1 ? "component" : "components"}`}`;
          return `<td class="cell ${wipes === 0 ? "ok" : "wipe"} hops-${Math.min(c.hops ?? 0, 4)}" data-from="${esc(a)}" data-to="${esc(b)}" title="${esc(title)}">${esc(text)}</td>`;
        })
        .join("");
      return `<tr><th scope="row">${esc(a)}</th>${tds}</tr>`;
    })
    .join("\n");
  return `<section id="matrix" class="card">
  <h2>Golden matrix</h2>
  <p class="muted">The best plan from each golden release (row) to each other (column)${esc(on)}, every wipeable component allowed to be wiped. Click a cell to plan it above.</p>
  <div class="table-wrap"><table class="matrix">
<thead><tr><th class="corner">from \\ to</th>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
  <p class="legend"><span class="key"><span class="box ok"></span>N hops without wiping</span><span class="key"><span class="box wipe"></span>N+Kw: N hops that wipe K components</span><span class="key"><span class="box none"></span>✗ unreachable</span></p>
</section>`;
}

function gapsSection(data: ReportData): string {
  const g = data.gaps;
  const n = data.matrix.releases.length;
  if (g.gaps.length === 0) {
    return `<section id="gaps" class="card"><h2>Gaps</h2><p class="good">No gaps: every pair of the ${n} golden releases connects without wiping.</p></section>`;
  }
  const rows = g.gaps
    .map(
      (x) =>
        `<tr><td>${esc(x.from)}</td><td>${esc(x.to)}</td><td><span class="code ${x.reason.code === "wipe" ? "wipe" : "none"}">${esc(x.reason.code)}</span></td><td>${esc(x.reason.component ?? x.reason.key ?? "")}</td><td class="why">${esc(x.reason.message)}</td></tr>`,
    )
    .join("\n");
  const suggestions = g.suggestions
    .map(
      (s) => `<div class="suggestion">
  <p><strong>Suggested transition release <code>${esc(s.release.version)}</code></strong> closes ${s.closes.length} ${s.closes.length === 1 ? "gap" : "gaps"}: ${s.closes.map((c) => `${esc(c.from)} → ${esc(c.to)}`).join(", ")}</p>
  <pre class="entry">${esc(JSON.stringify(s.release, null, 2))}</pre>
</div>`,
    )
    .join("\n");
  const missing = g.missing
    .map(
      (m) =>
        `<li><strong>${esc(m.component)} ${m.from} → ${m.to}</strong>: no existing script converts it; needed by ${m.for.map((c) => `${esc(c.from)} → ${esc(c.to)}`).join(", ")}</li>`,
    )
    .join("");
  return `<section id="gaps" class="card">
  <h2>Gaps <span class="count">${g.gaps.length}</span></h2>
  <p class="muted">Pairs of golden releases whose best plan wipes data, or that cannot be reached at all.</p>
  <div class="table-wrap"><table class="gaps">
<thead><tr><th>from</th><th>to</th><th>reason</th><th></th><th>why</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
${suggestions === "" ? `<p class="muted">No transition release built from existing migrations closes these gaps.</p>` : suggestions}
${missing === "" ? "" : `<p class="bad">Migrations to write:</p><ul class="missing">${missing}</ul>`}
</section>`;
}

/** JSON inside a <script> element: `<` escaped, so no `</script>` or `<!--` can end it. */
export function json(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** A script's text inside a <script> element: `</script` cannot appear (written `<\/script`). */
function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}
