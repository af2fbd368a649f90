import { resolve } from "node:path";
import { InputError } from "@stepstone/errors";
import { parseRange } from "@stepstone/graph";
import { displayPath, graphPathToWrite, loadGraph, resolveGraphPath } from "@stepstone/graph-file";
import type { ReleaseSelection } from "@stepstone/planner";
import { openGraph } from "../graph.js";
import { type Cell, color, type Format, out, plural, printJson, some, table } from "../output.js";

const warn = (message: string) => process.stderr.write(`${color.yellow("warning")}: ${message}\n`);

export interface SyncOptions {
  repo: string;
  tags?: string;
  exclude?: string;
  graph?: string;
  format: Format;
}

export async function syncCommand(opts: SyncOptions): Promise<number> {
  const { syncRepo } = await import("@stepstone/git");
  const file = graphPathToWrite(opts.graph);
  // Progress only for a person watching: never in logs, pipes or JSON consumers' stderr.
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const res = await syncRepo({
    repo: opts.repo,
    graph: file,
    ...(opts.tags !== undefined && { tags: opts.tags }),
    ...(opts.exclude !== undefined && { exclude: opts.exclude }),
    ...(tty && {
      progress: (p) => {
        shown = true;
        process.stderr.write(
          `\r\u001b[Ksync: ${p.stage === "writing" ? "checking and writing" : "reading"} ${p.stage === "folders" ? "folders" : "scripts"} ${p.done}/${p.total}`,
        );
      },
    }),
  });
  if (shown) process.stderr.write("\r\u001b[K");
  for (const s of res.skipped) warn(`tag ${s.tag} skipped: ${s.reason}`);
  for (const p of res.peeled)
    process.stderr.write(
      `note: tag ${p.tag} is an annotated tag of an annotated tag (${p.levels} tag objects): read at the commit they lead to, ${p.commit.slice(0, 12)}\n`,
    );
  for (const w of res.warnings) warn(w);
  const name = displayPath(res.file);
  const c = res.changes;
  if (opts.format === "json") {
    printJson({
      file: res.file,
      repo: resolve(opts.repo),
      created: res.created,
      written: res.written,
      tags: {
        read: res.tags.read,
        filtered: res.tags.filtered,
        skipped: res.skipped,
        peeled: res.peeled,
      },
      components: c.components,
      releases: c.releases,
      migrations: c.migrations,
      scripts: res.scripts,
      inherited: res.inherited,
      warnings: res.warnings,
    });
    return 0;
  }
  const skipped = res.skipped.length > 0 ? `, ${res.skipped.length} skipped` : "";
  const filtered = res.tags.filtered > 0 ? `, ${res.tags.filtered} filtered out` : "";
  if (!res.written && res.scripts.length === 0) {
    out(
      `${color.green("unchanged")} ${name}: already says what the ${plural(res.tags.read, "tag")} read say${skipped}${filtered}`,
    );
    return 0;
  }
  out(
    `${color.green(res.created ? "created" : "synced")} ${name} from ${opts.repo}: ${plural(res.tags.read, "tag")} read${skipped}${filtered}`,
  );
  const line = (what: string, ch: { added: string[]; updated: string[]; unchanged: number }) => {
    const parts = [
      `${ch.added.length} added${ch.added.length > 0 ? ` (${some(ch.added)})` : ""}`,
      `${ch.updated.length} updated${ch.updated.length > 0 ? ` (${some(ch.updated)})` : ""}`,
      `${ch.unchanged} unchanged`,
    ];
    out(`  ${what}: ${parts.join(", ")}`);
  };
  line("releases", c.releases);
  line("migrations", c.migrations);
  if (c.components.added.length > 0) {
    out(
      `  components: ${c.components.added.length} added (${some(c.components.added)}): not wipeable until you set their paths`,
    );
  }
  if (res.scripts.length > 0)
    out(`  scripts: ${plural(res.scripts.length, "file")} written (${some(res.scripts, 4)})`);
  for (const k of res.inherited) {
    const what = [
      k.signedBy !== null && `signedBy ${k.signedBy}`,
      k.trusts !== null && `trusts ${k.trusts.length === 0 ? "no key" : k.trusts.join(", ")}`,
    ].filter(Boolean);
    out(`  keys: ${k.version} inherits ${what.join(" and ")} from ${k.from}; check them`);
  }
  return 0;
}

export interface PublishOptions {
  repo: string;
  sign?: string;
  keys?: string;
  release?: string;
  dryRun?: boolean;
  graph?: string;
  format: Format;
}

export async function publishCommand(opts: PublishOptions): Promise<number> {
  const { publishTransitions } = await import("@stepstone/git");
  const loaded = await loadGraph(resolveGraphPath(opts.graph), { checkScripts: true });
  const res = await publishTransitions({
    repo: opts.repo,
    loaded,
    ...(opts.sign !== undefined && { sign: opts.sign }),
    ...(opts.keys !== undefined && { keys: opts.keys }),
    ...(opts.release !== undefined && { release: opts.release }),
    ...(opts.dryRun === true && { dryRun: true }),
  });
  if (opts.format === "json") {
    printJson(res);
    return 0;
  }
  const repo = displayPath(res.repo);
  // A dry run says what publish would do, in the same words, each with "would".
  const verb: Record<string, string> = {
    initialized: "initialize",
    published: "publish",
    tagged: "tag",
    restored: "restore",
  };
  const would = (s: string) => (res.dryRun ? `would ${verb[s] ?? s}` : s);
  if (res.initialized) out(`${color.green(would("initialized"))} ${repo} (a new git repository)`);
  if (res.releases.length === 0) {
    out(`No transition release in ${displayPath(loaded.file)}: nothing to publish.`);
    return 0;
  }
  const width = res.dryRun ? 16 : 10;
  for (const r of res.releases) {
    const what = `${plural(r.scripts, "script")}, closes ${plural(r.closes, "gap")} between golden releases${redundancy(r)}`;
    const commit = r.commit === null ? "" : `commit ${r.commit.slice(0, 10)}, `;
    switch (r.status) {
      case "skipped":
        out(`${color.dim("skipped".padEnd(width))} ${r.version}: ${r.reason}`);
        break;
      case "unchanged":
        out(`${color.dim("unchanged".padEnd(width))} ${r.version} (tag ${r.tag})`);
        break;
      default:
        out(
          `${color.green(would(r.status).padEnd(width))} ${r.version} in ${repo}/${r.folder}/ (${commit}tag ${r.tag}): ${what}`,
        );
    }
  }
  if (res.dryRun) out("Nothing was written (--dry-run).");
  return 0;
}

/** A build that closes no gap is said to be so before it is tagged, not found out later. */
function redundancy(r: { closes: number; stops: number }): string {
  if (r.closes > 0) return "";
  if (r.stops === 0)
    return color.yellow(
      ": redundant, no best plan between them stops at it (withdraw it or drop it from the graph unless other releases need it)",
    );
  return `: ${plural(r.stops, "best plan")} stop at it, but they would connect without it`;
}

export interface RetireOptions {
  keep?: string;
  platform?: string;
  graph?: string;
  format: Format;
}

export async function retireCommand(opts: RetireOptions): Promise<number> {
  const { retire } = await import("@stepstone/planner");
  const { ctx } = await openGraph(opts);
  let keep: ReleaseSelection = { kind: "golden" };
  if (opts.keep !== undefined) {
    const range = parseRange(opts.keep);
    if (range === null)
      throw new InputError(`--keep "${opts.keep}": not a semver range (e.g. ">=2.9.0")`);
    keep = { kind: "range", range };
  }
  const res = retire(ctx.graph, ctx.platform, keep);
  const reason = (r: { code: string; component?: string; key?: string; message: string }) => ({
    code: r.code,
    ...(r.component !== undefined && { component: r.component }),
    ...(r.key !== undefined && { key: r.key }),
    message: r.message,
  });
  if (opts.format === "json") {
    printJson({
      next: res.next.version,
      keep: res.keep.map((r) => r.version),
      gaps: res.gaps,
      migrations: res.entries.map((e) => ({
        id: e.migration.id,
        component: e.migration.component,
        from: e.migration.from,
        to: e.migration.to,
        verdict: e.verdict,
        shippedIn: e.shippedIn,
        unship: e.unship,
        lastShippedBy: e.lastShippedBy?.version ?? null,
        alternative: e.alternative,
        opens: e.opens.map((g) => ({
          from: g.from.version,
          to: g.to.version,
          reason: reason(g.reason),
        })),
        lengthens: e.lengthens.map((l) => ({
          from: l.from.version,
          to: l.to.version,
          hops: l.hops,
        })),
      })),
    });
    return 0;
  }
  const kept = res.keep.filter((r) => r !== res.next).map((r) => r.version);
  out(
    `Next release: ${color.bold(res.next.version)}, the newest (tag the release you prepare and sync, or add it, to ask about it).`,
  );
  out(
    `It must stay connected with ${kept.length === 0 ? "no other release" : `${some(kept)} (${opts.keep === undefined ? "golden" : `--keep ${opts.keep}`})`}` +
      (res.gaps > 0 ? `; ${plural(res.gaps, "gap")} among them already, not counted.` : "."),
  );
  if (opts.keep === undefined && kept.length === 0)
    out(
      "No golden release in the graph: pass --keep RANGE to say which releases must stay connected.",
    );
  out();
  const rows: Cell[][] = res.entries.map((e) => {
    const m = e.migration;
    let verdict: string;
    let why: Cell;
    switch (e.verdict) {
      case "retired":
        verdict = color.dim("retired");
        why = e.lastShippedBy
          ? `not shipped by the next release (last: ${e.lastShippedBy.version})`
          : "shipped by no release";
        break;
      case "may-go":
        verdict = color.green("may go");
        why =
          e.shippedIn === null
            ? `remove it from ${res.next.version}'s ships`
            : `shippedIn "${e.shippedIn}"${e.unship ? ` and remove it from ${res.next.version}'s ships` : ""}`;
        break;
      default:
        verdict = color.yellow("must stay");
        why = [
          ...e.opens
            .slice(0, 4)
            .map(
              (g) =>
                `${g.from.version} → ${g.to.version}: ${g.reason.code}${g.reason.component ? ` ${g.reason.component}` : ""}`,
            ),
          ...(e.opens.length > 4 ? [`… ${e.opens.length - 4} more gaps`] : []),
          ...e.lengthens
            .slice(0, 4)
            .map(
              (l) =>
                `${l.from.version} → ${l.to.version}: ${l.hops.after} hops instead of ${l.hops.before}`,
            ),
          ...(e.lengthens.length > 4 ? [`… ${e.lengthens.length - 4} more longer plans`] : []),
          ...(e.alternative ? ["(alone it could go: another migration covers the same hops)"] : []),
        ];
    }
    return [m.id, m.component, `${m.from} → ${m.to}`, verdict, why];
  });
  out(table(["migration", "component", "epochs", "verdict", "why"], rows));
  const mayGo = res.entries.filter((e) => e.verdict === "may-go").length;
  out();
  out(
    mayGo === 0
      ? `Nothing ${res.next.version} ships may go yet.`
      : `${plural(mayGo, "migration")} may stop shipping from ${res.next.version} on, all together: give ${mayGo === 1 ? "it" : "them"} the shippedIn shown; no gap opens and no plan between these releases gets longer.`,
  );
  return 0;
}
