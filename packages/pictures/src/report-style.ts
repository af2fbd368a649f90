import { palette } from "./style.js";

/** The report's CSS (inline: the page loads nothing). */
export const STYLE = `
:root {
  --text: ${palette.text}; --muted: ${palette.muted}; --line: #e5e7eb; --bg: #f3f4f6; --card: #ffffff;
  --golden: ${palette.golden.fill}; --golden-b: ${palette.golden.border};
  --transition: ${palette.transition.fill}; --transition-b: ${palette.transition.border};
  --ok: #dcfce7; --ok-b: #15803d; --wipe: #ffedd5; --wipe-b: ${palette.wipe}; --none: #fee2e2; --none-b: ${palette.blocked};
  --path: ${palette.path}; --accent: ${palette.golden_hop};
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Helvetica, Arial, sans-serif; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12.5px; }
header { background: #111827; color: #f9fafb; padding: 18px 28px 16px; }
header h1 { margin: 0; font-size: 22px; letter-spacing: .2px; }
header h1 .light { font-weight: 400; color: #9ca3af; }
header .file { margin: 4px 0 8px; color: #d1d5db; }
header .file code { color: #f9fafb; font-size: 13.5px; }
header .summary { margin: 0; color: #d1d5db; }
header .sep { color: #6b7280; margin: 0 4px; }
.chip { display: inline-block; padding: 0 8px; border-radius: 999px; border: 1px solid #4b5563; font-size: 12.5px; line-height: 20px; }
header .chip.golden { background: var(--golden); border-color: var(--golden-b); color: #451a03; }
header .chip.transition { background: var(--transition); border-color: var(--transition-b); color: #082f49; }
header .chip.withdrawn { background: #e5e7eb; border-color: #9ca3af; color: #374151; }
main { padding: 20px 28px; display: grid; gap: 20px; max-width: 1500px; }
.columns { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 20px; align-items: start; }
.columns.stacked { grid-template-columns: minmax(0, 1fr); }
@media (max-width: 1100px) { .columns { grid-template-columns: minmax(0, 1fr); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; box-shadow: 0 1px 2px rgba(0,0,0,.04); min-width: 0; }
.card h2 { margin: 0 0 6px; font-size: 17px; }
.card h2 .count { display: inline-block; min-width: 22px; padding: 0 7px; border-radius: 999px; background: var(--wipe); color: #9a3412; font-size: 13px; text-align: center; vertical-align: 2px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.good { color: var(--ok-b); font-weight: 600; }
.bad { color: var(--none-b); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; color: #374151; font-size: 12.5px; margin: 8px 0; }
.key { display: inline-flex; align-items: center; gap: 6px; }
.box { display: inline-block; width: 16px; height: 12px; border-radius: 3px; border: 1.5px solid #9ca3af; background: #fff; }
.box.golden { background: var(--golden); border-color: var(--golden-b); }
.box.transition { background: var(--transition); border-color: var(--transition-b); }
.box.withdrawn { background: #f3f4f6; border-style: dashed; }
.box.run { background: #f3f4f6; border-color: #d1d5db; }
.box.stop { border: 3px double ${palette.stop}; }
.box.unused { background: var(--transition); border-color: var(--transition-b); border-style: dashed; }
.box.ok { background: var(--ok); border-color: var(--ok-b); }
.box.wipe { background: var(--wipe); border-color: var(--wipe-b); }
.box.none { background: var(--none); border-color: var(--none-b); }

.plan-form { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 14px; margin: 10px 0 4px; }
.plan-form label { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; }
.plan-form select { font: inherit; font-weight: 400; padding: 5px 8px; border: 1px solid #d1d5db; border-radius: 6px; background: #fff; min-width: 210px; }
.plan-form button { font: inherit; font-size: 16px; padding: 3px 10px; border: 1px solid #d1d5db; border-radius: 6px; background: #f9fafb; cursor: pointer; }
.plan-form button:hover { background: #eef2ff; }
.plan-form .wipes { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin-left: 8px; }
.plan-form .check { font-weight: 400; }
#plan-result { margin-top: 10px; }
.plan-head { font-size: 15px; margin: 8px 0; }
.plan-head .verdict { display: inline-block; padding: 1px 9px; border-radius: 6px; font-weight: 700; margin-right: 6px; }
.plan.ok .verdict { background: var(--ok); color: #14532d; }
.plan.wipes .verdict { background: var(--wipe); color: #7c2d12; }
.plan.blocked .verdict { background: var(--none); color: #7f1d1d; }
.route { margin: 4px 0 10px; display: flex; flex-wrap: wrap; align-items: center; gap: 4px 0; }
.route .stop { font-weight: 600; padding: 2px 9px; border-radius: 6px; border: 1.5px solid #d1d5db; background: #fff; }
.route .stop.golden { background: var(--golden); border-color: var(--golden-b); }
.route .stop.transition { background: var(--transition); border-color: var(--transition-b); }
.route .arrow { color: var(--path); font-weight: 700; padding: 0 6px; }
.route .arrow.wipes { color: var(--wipe-b); font-weight: 600; font-size: 12.5px; }
.plan .cli { color: var(--muted); font-size: 12.5px; }
.plan .cli code { color: #374151; background: #f3f4f6; padding: 1px 5px; border-radius: 4px; }
.plan details { margin-top: 6px; }
.plan summary { cursor: pointer; color: var(--muted); font-size: 12.5px; }
.plan pre { background: #f9fafb; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; max-height: 320px; overflow: auto; }
.plan.wipes p.muted { color: #9a3412; }
.blockers { margin: 6px 0; padding-left: 20px; }
.blockers li { margin: 4px 0; }

table { border-collapse: collapse; }
.table-wrap { overflow-x: auto; }
table.steps { width: 100%; margin: 6px 0; }
table.steps th, table.gaps th, table.fleet th { text-align: left; font-weight: 600; color: #374151; background: #f9fafb; border-bottom: 1px solid var(--line); padding: 6px 10px; white-space: nowrap; }
table.steps td, table.gaps td, table.fleet td { border-bottom: 1px solid #f3f4f6; padding: 6px 10px; vertical-align: top; }
table.steps td.hop { white-space: nowrap; font-weight: 600; }
table.steps td.n { color: var(--muted); width: 28px; }
table.steps .dir { display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 12px; }
table.steps .dir.upgrade { background: #dbeafe; color: #1e3a8a; }
table.steps .dir.downgrade { background: #ede9fe; color: #4c1d95; }
.script { display: block; white-space: nowrap; }
.script code { color: #111827; }
.script .what { color: var(--muted); font-size: 12px; margin-left: 4px; }
.tag { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px; border-radius: 999px; margin-left: 5px; vertical-align: 1px; border: 1px solid transparent; }
.tag.golden { background: var(--golden); color: #78350f; border-color: var(--golden-b); }
.tag.transition { background: var(--transition); color: #0c4a6e; border-color: var(--transition-b); }
.tag.withdrawn, .tag.no-runner { background: #f3f4f6; color: #4b5563; border-color: #d1d5db; }
.wiped { color: #9a3412; font-weight: 600; }
.dash { color: #d1d5db; }

table.matrix { font-variant-numeric: tabular-nums; }
table.matrix th { font-weight: 600; padding: 6px 10px; white-space: nowrap; color: #374151; }
table.matrix thead th { border-bottom: 1px solid var(--line); }
table.matrix tbody th { text-align: left; border-right: 1px solid var(--line); }
table.matrix th.corner { color: var(--muted); font-weight: 400; font-size: 12px; }
table.matrix td { text-align: center; min-width: 64px; padding: 8px 10px; border: 2px solid #fff; border-radius: 6px; font-weight: 600; }
table.matrix td.self { color: #d1d5db; }
table.matrix td.cell { cursor: pointer; }
table.matrix td.cell:hover { outline: 2px solid var(--accent); }
table.matrix td.ok { background: #dcfce7; color: #14532d; }
table.matrix td.ok.hops-1 { background: #bbf7d0; }
table.matrix td.ok.hops-3, table.matrix td.ok.hops-4 { background: #ecfdf5; }
table.matrix td.wipe { background: var(--wipe); color: #9a3412; }
table.matrix td.none { background: var(--none); color: #991b1b; }
table.matrix td.chosen { outline: 2px solid var(--path); }
table.gaps td.why { color: #374151; min-width: 260px; }
table.fleet td.num { text-align: right; font-variant-numeric: tabular-nums; }
.card h3 { margin: 14px 0 6px; font-size: 14px; }
.chip.fleet-wipe { background: var(--wipe); }
.chip.fleet-none { background: var(--none); }
.code { display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.code.wipe { background: var(--wipe); color: #9a3412; }
.code.none { background: var(--none); color: #991b1b; }
.suggestion { margin-top: 12px; border-left: 3px solid var(--transition-b); padding: 2px 0 2px 12px; }
.suggestion pre.entry { background: #f9fafb; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; max-height: 260px; overflow: auto; margin: 6px 0 0; }
ul.missing { margin: 4px 0; padding-left: 20px; }
.code.reason { background: var(--bg); color: var(--muted); }
table.steps tr.why td { border-top: none; padding-top: 0; }
ul.why { margin: 0 0 4px; padding-left: 0; list-style: none; color: #374151; font-size: 13px; }

.svg-wrap { overflow: auto; max-height: 85vh; border: 1px solid #f3f4f6; border-radius: 8px; }
.svg-wrap svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
/* Fonts as wide as the Helvetica graphviz measured the labels with (DejaVu Sans is wider). */
.svg-wrap svg text { font-family: Helvetica, Arial, "Liberation Sans", "DejaVu Sans Condensed", sans-serif; }
.svg-wrap g.node.on-path > path, .svg-wrap g.node.on-path > polygon { stroke: var(--path); stroke-width: 3.5px; stroke-dasharray: none; }
.svg-wrap g.edge.on-path > path { stroke: var(--path); stroke-width: 3.5px; }
.svg-wrap g.edge.on-path > polygon { stroke: var(--path); fill: var(--path); }
.svg-wrap.planning g.node:not(.on-path) { opacity: .6; }
.svg-wrap.planning g.edge:not(.on-path) { opacity: .45; }
.svg-wrap.planning g.cluster { opacity: .75; }
footer { padding: 4px 28px 24px; color: var(--muted); font-size: 12.5px; max-width: 1500px; }
`;
