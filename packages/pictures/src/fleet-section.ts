import { esc } from "./html.js";

/**
 * The fleet section of the report page: what `stepstone fleet` says of an inventory, as
 * plain data (the CLI reads the inventory and plans it; this only draws it).
 */
export interface ReportFleet {
  readonly inventory: string;
  readonly devices: number;
  readonly classes: number;
  readonly badLines: number;
  readonly releases: readonly {
    release: string;
    platform: string | null;
    devices: number;
    failed: number;
  }[];
  readonly failedComponents: readonly { component: string; devices: number }[];
  readonly golden: readonly {
    release: string;
    atRelease: number;
    reachableWithoutWipe: number;
  }[];
  /** The classes toward the chosen target. */
  readonly target: {
    readonly release: string;
    readonly summary: Readonly<
      Record<
        "atTarget" | "direct" | "throughStops" | "needingWipes" | "unreachable" | "failed",
        number
      >
    >;
    readonly classes: readonly {
      id: string;
      devices: number;
      /** The releases flashed (empty: already there), or null: no plan, with why. */
      flashes: readonly string[] | null;
      wipes: readonly string[];
      why: string;
    }[];
    readonly waves: readonly {
      wave: number;
      step: number;
      flash: string;
      devices: number;
      classes: number;
      wipes: readonly string[];
    }[];
  };
}

/** Rows shown per table: a fleet of a million devices has thousands of classes. */
const ROWS = 40;

const n = (x: number) => x.toLocaleString("en-US");
const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
const more = (shown: number, all: number, what: string) =>
  all > shown
    ? `<p class="muted">The ${shown} largest of ${n(all)} ${what}; <code>stepstone fleet --format json</code> lists them all.</p>`
    : "";

export function fleetSection(f: ReportFleet): string {
  const t = f.target;
  const s = t.summary;
  const chips = [
    ["already there", s.atTarget, "ok"],
    ["direct", s.direct, "ok"],
    ["through stops", s.throughStops, "ok"],
    ["needing wipes", s.needingWipes, "wipe"],
    ["unreachable", s.unreachable, "none"],
  ]
    .map(
      ([label, count, cls]) =>
        `<span class="chip fleet-${cls}">${esc(String(label))} <strong>${n(count as number)}</strong></span>`,
    )
    .join(" ");
  const classes = t.classes
    .slice(0, ROWS)
    .map((c) => {
      const plan =
        c.flashes === null
          ? `<span class="code none">no plan</span> ${esc(c.why)}`
          : c.flashes.length === 0
            ? `<span class="muted">already there</span>`
            : `${c.flashes.map(esc).join(" → ")}${c.wipes.length > 0 ? ` <span class="code wipe">wipes ${esc(c.wipes.join(", "))}</span>` : ""}${c.why === "" ? "" : `<br><span class="muted">${esc(c.why)}</span>`}`;
      return `<tr><td><code>${esc(c.id)}</code></td><td class="num">${n(c.devices)}</td><td class="why">${plan}</td></tr>`;
    })
    .join("\n");
  const waves = t.waves
    .slice(0, ROWS)
    .map(
      (w) =>
        `<tr><td class="num">${w.wave}</td><td>${esc(w.flash)}</td><td class="num">${w.step}</td><td class="num">${n(w.devices)}</td><td class="num">${n(w.classes)}</td><td>${w.wipes.length === 0 ? '<span class="muted">—</span>' : `<span class="code wipe">${esc(w.wipes.join(", "))}</span>`}</td></tr>`,
    )
    .join("\n");
  const releases = f.releases
    .slice(0, ROWS)
    .map(
      (r) =>
        `<tr><td>${esc(r.release)}</td><td>${r.platform === null ? '<span class="muted">—</span>' : esc(r.platform)}</td><td class="num">${n(r.devices)}</td><td class="num">${r.failed === 0 ? '<span class="muted">0</span>' : n(r.failed)}</td></tr>`,
    )
    .join("\n");
  const golden = f.golden
    .map(
      (g) =>
        `<tr><td>${esc(g.release)}</td><td class="num">${n(g.atRelease)}</td><td class="num">${n(g.reachableWithoutWipe)}</td><td class="num">${pct(g.reachableWithoutWipe, f.devices)}</td></tr>`,
    )
    .join("\n");
  const failed =
    f.failedComponents.length === 0
      ? ""
      : `<p>Failed components: ${f.failedComponents.map((c) => `<strong>${esc(c.component)}</strong> ${n(c.devices)}`).join(", ")}</p>`;
  return `<section id="fleet" class="card">
  <h2>Fleet <span class="count">${n(f.devices)}</span></h2>
  <p class="muted">From <code>${esc(f.inventory)}</code>: ${n(f.devices)} devices in ${n(f.classes)} classes (same release, platform, data epochs and failures)${f.badLines > 0 ? `; ${n(f.badLines)} bad ${f.badLines === 1 ? "line" : "lines"} skipped` : ""}; ${n(s.failed)} report a failed migration.</p>
  <h3>Toward ${esc(t.release)}</h3>
  <p class="legend">${chips}</p>
  <div class="table-wrap"><table class="fleet">
<thead><tr><th>class</th><th>devices</th><th>plan</th></tr></thead>
<tbody>
${classes}
</tbody>
</table></div>
${more(Math.min(ROWS, t.classes.length), t.classes.length, "classes")}
  <h3>Waves</h3>
  <p class="muted">The deployments that move the fleet, in order: each flashes one release on the devices whose plan has it at that hop.</p>
  <div class="table-wrap"><table class="fleet">
<thead><tr><th>wave</th><th>flash</th><th>hop</th><th>devices</th><th>classes</th><th>wipes</th></tr></thead>
<tbody>
${waves}
</tbody>
</table></div>
${more(Math.min(ROWS, t.waves.length), t.waves.length, "waves")}
  <h3>What the fleet runs</h3>
  <div class="table-wrap"><table class="fleet">
<thead><tr><th>release</th><th>platform</th><th>devices</th><th>with failures</th></tr></thead>
<tbody>
${releases}
</tbody>
</table></div>
${failed}
  <h3>Where can we take it?</h3>
  <p class="muted">Per golden release: the devices that could reach it without a wipe.</p>
  <div class="table-wrap"><table class="fleet">
<thead><tr><th>golden release</th><th>already there</th><th>reachable without wipe</th><th>share</th></tr></thead>
<tbody>
${golden}
</tbody>
</table></div>
</section>`;
}
