import { InputError } from "@stepstone/errors";
import type { Release } from "@stepstone/graph";
import {
  type Connection,
  type MigrationView,
  type PlanContext,
  type ReleaseView,
  selectReleases,
  showMigration,
  showMigrationJson,
  showRelease,
  showReleaseJson,
} from "@stepstone/planner";
import { findRelease, label, openGraph, releaseSelection } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, some, table } from "../output.js";

export interface ShowOptions {
  graph?: string;
  format: Format;
  platform?: string;
  all?: boolean;
  releases?: string;
}

/**
 * `stepstone show V|MIGRATION-ID`: a release (by version or recorded tag) or a migration
 * (by id). A name that could be both is the release: migration ids are rarely versions.
 */
export async function showCommand(name: string, opts: ShowOptions): Promise<number> {
  const { ctx } = await openGraph(opts);
  const set = selectReleases(ctx, releaseSelection(opts));
  const setName = opts.all
    ? "every release"
    : opts.releases !== undefined
      ? `--releases "${opts.releases}"`
      : "the golden releases";
  let found: Release | InputError;
  try {
    found = findRelease(ctx, name, "show");
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    found = e;
  }
  if (!(found instanceof InputError)) {
    const view = showRelease(ctx, found, set);
    if (opts.format === "json") printJson(showReleaseJson(view, ctx.platform));
    else printRelease(view, ctx, setName);
    return 0;
  }
  const migration = ctx.graph.migrations.find((m) => m.id === name);
  if (migration === undefined) {
    const near = ctx.graph.migrations
      .map((m) => m.id)
      .filter((id) => id.includes(name) || name.includes(id));
    throw new InputError(
      near.length > 0
        ? `show ${name}: no such release or migration in the graph; did you mean ${some(near, 5)}?`
        : `${found.message.replace(": no such release in the graph", ": no such release or migration in the graph")}`,
    );
  }
  const view = showMigration(ctx, migration, set);
  if (opts.format === "json") printJson(showMigrationJson(view));
  else printMigration(view, setName);
  return 0;
}

const cost = (c: Connection): string => {
  if (!c.reachable) return color.red("✗ no plan, even with wipes");
  const text = `${plural(c.hops ?? 0, "hop")}${c.wipes ? `, ${plural(c.wipes, "wipe")}` : ""}`;
  return c.wipes ? color.yellow(text) : color.green(text);
};
const via = (c: Connection) =>
  c.via.length === 0 ? color.dim("direct") : c.via.map((r) => r.version).join(" → ");

function printRelease(v: ReleaseView, ctx: PlanContext, setName: string): void {
  const r = v.release;
  out(
    `Release ${color.bold(label(r))}, line ${r.line}${r.tag !== undefined ? `, tag ${r.tag}` : ""}`,
  );
  const facts: Cell[][] = [
    ["upgradeFrom", r.upgradeFrom === null ? color.dim("any lower release") : r.upgradeFrom.raw],
    ["signed by", r.signedBy ?? color.dim("no key")],
    ["trusts", r.trusts === null ? color.dim("any image") : r.trusts.join(", ") || "no key"],
  ];
  if (r.notes !== undefined) facts.push(["notes", r.notes]);
  out(table(["", ""], facts).split("\n").slice(1).join("\n"));
  out();
  const names = ctx.graph.components.map((c) => c.name);
  out(
    table(
      ["epochs", ...names],
      v.epochs.map((e) => [
        e.platform ?? "(every platform)",
        ...names.map((n) =>
          e.overridden.includes(n) ? color.bold(`${e.epochs[n]}*`) : String(e.epochs[n]),
        ),
      ]),
    ),
  );
  if (v.epochs.some((e) => e.overridden.length > 0))
    out(`  ${color.dim("* this release's override on that platform")}`);
  out();
  if (!r.runner) out("Ships nothing: its image has no runner (runner: false).");
  else if (v.ships.length === 0) out("Ships no migration.");
  else {
    out(`Ships ${plural(v.ships.length, "migration")}:`);
    out(
      v.ships.map((m) => `  ${m.id} ${color.dim(`(${m.component} ${m.from}→${m.to})`)}`).join("\n"),
    );
  }
  if (v.set.length === 0) {
    out();
    out(`No other release in ${setName} to connect with (try --all).`);
    return;
  }
  for (const [title, list] of [
    [`Reached from ${setName} (best plan, wipes allowed):`, v.reachedFrom],
    [`Reaches ${setName}:`, v.reaches],
  ] as const) {
    out();
    out(title);
    out(
      table(
        ["release", "plan", "via"],
        list.map((c) => [label(c.other), cost(c), via(c)]),
      ),
    );
  }
}

function printMigration(v: MigrationView, setName: string): void {
  const m = v.migration;
  out(`Migration ${color.bold(m.id)}: ${m.component} ${m.from} → ${m.to} (${v.direction})`);
  const facts: Cell[][] = [
    [
      "script",
      `${m.script}${m.sha256 !== undefined ? color.dim(` (sha256 ${m.sha256.slice(0, 16)}…)`) : ""}`,
    ],
    [
      "shippedIn",
      m.shippedIn === null ? color.dim("none (only where ships names it)") : m.shippedIn.raw,
    ],
  ];
  if (m.description !== undefined) facts.push(["description", m.description]);
  if (m.after.length > 0) facts.push(["after", m.after.join(", ")]);
  if (v.before.length > 0) facts.push(["before", v.before.map((x) => x.id).join(", ")]);
  if (m.notes !== undefined) facts.push(["notes", m.notes]);
  out(table(["", ""], facts).split("\n").slice(1).join("\n"));
  out();
  const shipped = v.shippedBy.map((r) => r.version);
  out(
    shipped.length === 0
      ? `Shipped by no release: no image carries it.`
      : `Shipped by ${plural(shipped.length, "release")}: ${some(shipped, 12)}${v.namedBy.length > 0 ? ` (in ships: ${v.namedBy.map((r) => r.version).join(", ")})` : ""}`,
  );
  out();
  if (v.usedBy.length === 0) {
    out(`No best plan between ${setName} runs it.`);
    return;
  }
  out(`Run by ${plural(v.usedBy.length, "best plan")} between ${setName}:`);
  out(
    table(
      ["from", "to", "hop", "runs"],
      v.usedBy.map((u) => [
        u.from.version,
        u.to.version,
        String(u.hop),
        u.phase === "pre-flash" ? "before flashing (old image)" : "at boot (new image)",
      ]),
    ),
  );
}
