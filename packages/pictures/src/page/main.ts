/**
 * The report page's script: stepstone's own graph parser and planner (bundled into the
 * page with this file), planning the pair the reader picks, exactly as `stepstone plan`
 * does from the same file. It runs in the browser only.
 */
import type { Release } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import {
  type PlanContext as Context,
  PlanContext,
  plan,
  planJson,
  planWhy,
} from "@stepstone/planner";
import type { PageData } from "../report.js";
import { type PlanView, planView } from "./view.js";

const data = JSON.parse(
  (document.getElementById("stepstone-data") as HTMLScriptElement).textContent ?? "{}",
) as PageData;
const { graph } = parseGraph(data.graph, data.file);
const ctx: Context = new PlanContext(graph, data.platform);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fromSelect = $<HTMLSelectElement>("from");
const toSelect = $<HTMLSelectElement>("to");
const result = $<HTMLDivElement>("plan-result");
const wipeBoxes = [...document.querySelectorAll<HTMLInputElement>('input[name="wipe"]')];
const svgWrap = document.querySelector<HTMLDivElement>(".svg-wrap");

if (data.from !== null) fromSelect.value = data.from;
if (data.to !== null) toSelect.value = data.to;

function releaseOf(version: string): Release | undefined {
  return ctx.releases.find((r) => r.version === version);
}

function update(): void {
  const from = releaseOf(fromSelect.value);
  const to = releaseOf(toSelect.value);
  if (from === undefined || to === undefined) return;
  const allowWipe = wipeBoxes.filter((b) => b.checked).map((b) => b.value);
  const res = plan(ctx, { from, to, allowWipe });
  const why = res.reachable ? planWhy(ctx, res.plan, { allowWipe }) : [];
  const view = planView(res, allowWipe, data.platform, ctx.components, why);
  result.replaceChildren(render(view, JSON.stringify(planJson(res, why), null, 2)));
  highlight(view);
  for (const td of document.querySelectorAll<HTMLTableCellElement>("table.matrix td.cell")) {
    td.classList.toggle(
      "chosen",
      td.dataset.from === fromSelect.value && td.dataset.to === toSelect.value,
    );
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function releaseLabel(r: Release): Node {
  const span = el("span", {}, r.version);
  const tags: [boolean, string, string][] = [
    [r.golden, "golden", "golden"],
    [r.transition, "transition", "transition"],
    [r.withdrawn, "withdrawn", "withdrawn"],
    [!r.runner, "no-runner", "no runner"],
  ];
  for (const [on, cls, text] of tags)
    if (on) span.append(el("span", { class: `tag ${cls}` }, text));
  return span;
}

function render(v: PlanView, jsonText: string): Node {
  const box = el("div", { class: `plan ${v.status}`, "data-status": v.status });
  const head = el(
    "p",
    { class: "plan-head" },
    el("span", { class: "verdict" }, v.verdict),
    releaseLabel(v.from),
    " → ",
    releaseLabel(v.to),
    v.summary === "" ? "" : `: ${v.summary}`,
  );
  box.append(head);
  if (v.steps.length > 0) {
    const stop = (r: Release) =>
      el(
        "span",
        { class: `stop${r.transition ? " transition" : ""}${r.golden ? " golden" : ""}` },
        r.version,
      );
    const route = el("p", { class: "route" }, stop(v.from));
    for (const s of v.steps) {
      route.append(
        el(
          "span",
          { class: `arrow ${s.wipe.length > 0 ? "wipes" : ""}` },
          s.wipe.length > 0 ? ` ⇢ wipes ${s.wipe.join(", ")} ⇢ ` : " → ",
        ),
        stop(s.to),
      );
    }
    box.append(route);
    const rows = v.steps.flatMap((s, i) => [
      el(
        "tr",
        { "data-from": s.from.version, "data-to": s.to.version },
        el("td", { class: "n" }, String(i + 1)),
        el("td", { class: "hop" }, "flash ", releaseLabel(s.to)),
        el("td", {}, el("span", { class: `dir ${s.direction}` }, s.direction)),
        scriptsCell(s.preFlash),
        scriptsCell(s.boot),
        s.wipe.length === 0
          ? el("td", {}, el("span", { class: "dash" }, "—"))
          : el("td", { class: "wiped" }, s.wipe.join(", ")),
      ),
      // Why the plan stops here, under the stop's row (as `stepstone plan` prints it).
      ...((v.why[i] ?? []).length === 0
        ? []
        : [
            el(
              "tr",
              { class: "why", "data-stop": s.to.version },
              el("td", {}, ""),
              el(
                "td",
                { colspan: "5" },
                el(
                  "ul",
                  { class: "why" },
                  ...(v.why[i] ?? []).map((r) =>
                    el(
                      "li",
                      {},
                      el("span", { class: "muted" }, "why: "),
                      r.message,
                      " ",
                      el("span", { class: "code reason" }, r.code),
                    ),
                  ),
                ),
              ),
            ),
          ]),
    ]);
    box.append(
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "steps" },
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ...[
                "#",
                "hop",
                "direction",
                "before flashing (old image)",
                "at boot (new image)",
                "wipe",
              ].map((h) => el("th", {}, h)),
            ),
          ),
          el("tbody", {}, ...rows),
        ),
      ),
    );
  }
  if (v.blockers.length > 0) {
    box.append(
      el(
        "ul",
        { class: "blockers" },
        ...v.blockers.map((b) =>
          el(
            "li",
            {},
            el("span", { class: `code ${b.code === "wipe" ? "wipe" : "none"}` }, b.code),
            " ",
            b.message,
          ),
        ),
      ),
    );
  }
  for (const n of v.notes) box.append(el("p", { class: "muted" }, n));
  box.append(el("p", { class: "cli" }, "Same as ", el("code", {}, v.command)));
  box.append(
    el(
      "details",
      {},
      el("summary", {}, "as JSON (plan --format json)"),
      el("pre", { class: "plan-json" }, jsonText),
    ),
  );
  return box;
}

function scriptsCell(scripts: PlanView["steps"][number]["boot"]): HTMLTableCellElement {
  if (scripts.length === 0) return el("td", {}, el("span", { class: "dash" }, "—"));
  return el(
    "td",
    {},
    ...scripts.map((m) =>
      el(
        "span",
        { class: "script" },
        el("code", { class: "script-id" }, m.id),
        el("span", { class: "what" }, `${m.component} ${m.from}→${m.to}`),
      ),
    ),
  );
}

/** Marks the plan's releases and hops in the picture; hops it does not draw get a line. */
function highlight(v: PlanView): void {
  const svg = svgWrap?.querySelector("svg");
  if (!svg || !svgWrap) return;
  for (const e of svg.querySelectorAll(".on-path")) e.classList.remove("on-path");
  for (const e of svg.querySelectorAll(".plan-overlay")) e.remove();
  const nodeOf = (r: Release) => data.nodes[r.version];
  const nodeEl = (id: string | undefined) =>
    id === undefined ? null : document.getElementById(`release:${id}`);
  const stops = [v.from, ...v.steps.map((s) => s.to)];
  for (const r of stops) nodeEl(nodeOf(r))?.classList.add("on-path");
  svgWrap.classList.toggle("planning", v.steps.length > 0);
  for (const s of v.steps) {
    const a = nodeOf(s.from);
    const b = nodeOf(s.to);
    if (a === undefined || b === undefined || a === b) continue;
    const drawn =
      document.getElementById(`hop:${a}:${b}`) ?? document.getElementById(`hop:${b}:${a}`);
    if (drawn) drawn.classList.add("on-path");
    else overlay(svg, nodeEl(a), nodeEl(b));
  }
}

/** A hop the picture leaves out, drawn over it as a green arc between the two nodes. */
function overlay(svg: SVGSVGElement, a: Element | null, b: Element | null): void {
  if (!(a instanceof SVGGraphicsElement) || !(b instanceof SVGGraphicsElement)) return;
  const layer = svg.querySelector("g.graph") ?? svg;
  const ns = svg.namespaceURI;
  if (!svg.querySelector("#plan-arrow")) {
    const defs = document.createElementNS(ns, "defs");
    const color = getComputedStyle(document.documentElement).getPropertyValue("--path").trim();
    defs.innerHTML = `<marker id="plan-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="3.2" markerHeight="3.2" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
    svg.prepend(defs);
  }
  const p = a.getBBox();
  const q = b.getBBox();
  const x1 = p.x + p.width / 2;
  const y1 = p.y + p.height / 2;
  const x2 = q.x + q.width / 2;
  const y2 = q.y + q.height / 2;
  // Leave the boxes: start and end on their borders along the line between centres.
  const clip = (bx: DOMRect, dx: number, dy: number) => {
    const t = Math.min(
      dx === 0 ? Number.POSITIVE_INFINITY : bx.width / 2 / Math.abs(dx),
      dy === 0 ? Number.POSITIVE_INFINITY : bx.height / 2 / Math.abs(dy),
    );
    return Math.min(t, 0.45);
  };
  const dx = x2 - x1;
  const dy = y2 - y1;
  const s = clip(p, dx, dy);
  const e = clip(q, dx, dy);
  const sx = x1 + dx * s;
  const sy = y1 + dy * s;
  const ex = x2 - dx * e;
  const ey = y2 - dy * e;
  const bend = 0.15;
  const cx = (sx + ex) / 2 - (ey - sy) * bend;
  const cy = (sy + ey) / 2 + (ex - sx) * bend;
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", `M${sx},${sy} Q${cx},${cy} ${ex},${ey}`);
  path.setAttribute("class", "plan-overlay");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "3");
  path.setAttribute("marker-end", "url(#plan-arrow)");
  path.setAttribute("style", "color: var(--path)");
  layer.append(path);
}

fromSelect.addEventListener("change", update);
toSelect.addEventListener("change", update);
for (const b of wipeBoxes) b.addEventListener("change", update);
$<HTMLButtonElement>("swap").addEventListener("click", () => {
  const f = fromSelect.value;
  fromSelect.value = toSelect.value;
  toSelect.value = f;
  update();
});
for (const td of document.querySelectorAll<HTMLTableCellElement>("table.matrix td.cell")) {
  td.addEventListener("click", () => {
    // The matrix allows every wipe: so does the plan of a cell.
    fromSelect.value = td.dataset.from ?? "";
    toSelect.value = td.dataset.to ?? "";
    for (const b of wipeBoxes) b.checked = true;
    update();
    document.getElementById("planner")?.scrollIntoView({ behavior: "smooth" });
  });
}
document.documentElement.dataset.planner = "ready";
update();
