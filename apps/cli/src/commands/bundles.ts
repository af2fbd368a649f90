import { InputError } from "@stepstone/errors";
import { parseRange, type Release } from "@stepstone/graph";
import { selectReleases } from "@stepstone/planner";
import { openGraph } from "../graph.js";
import { color, out, plural, printJson } from "../output.js";
import { type BundleOptions, bundleJson, bundleSummary, warnAbout } from "./bundle-output.js";

/**
 * `bundle --all` / `bundle --releases RANGE`: the graph is read and validated once, every
 * release's key is checked before the first bundle is written (all problems at once), and
 * each bundle is reported as it is written. Releases without the runner have no bundle:
 * said on stderr, not an error. A set with nothing to bundle is (exit 2).
 */
export async function bundleMany(opts: BundleOptions): Promise<number> {
  const { signingsFor, writeBundle } = await import("@stepstone/bundle");
  const { loaded, ctx } = await openGraph(opts);
  let set: Release[];
  if (opts.releases !== undefined) {
    const range = parseRange(opts.releases);
    if (range === null)
      throw new InputError(
        `--releases "${opts.releases}": not a semver range (e.g. ">=2.9.0 <3.0.0")`,
      );
    set = selectReleases(ctx, { kind: "range", range });
  } else set = selectReleases(ctx, { kind: "all" });
  const what = opts.releases !== undefined ? `--releases "${opts.releases}"` : "--all";
  const noRunner = set.filter((r) => !r.runner);
  const todo = set.filter((r) => r.runner);
  if (todo.length === 0)
    throw new InputError(
      `${what}: no release to bundle (${set.length === 0 ? "no release matches, withdrawn ones never count" : "the releases it matches have no runner"})`,
    );
  const releases = todo;
  const signings = signingsFor(loaded, releases, {
    ...(opts.sign !== undefined && { sign: opts.sign }),
    ...(opts.keys !== undefined && { keys: opts.keys }),
    ...(opts.unsigned === true && { unsigned: true }),
  });
  for (const r of noRunner)
    process.stderr.write(
      `${color.dim("note")}: ${r.version} has no runner (runner: false): no bundle\n`,
    );
  // Progress for a person watching (as sync's): never in logs or pipes.
  const tty = process.stderr.isTTY === true;
  const results = [];
  for (const [i, release] of todo.entries()) {
    if (tty) process.stderr.write(`\r\u001b[Kbundle: ${i + 1}/${todo.length} ${release.version}`);
    const signing = signings.get(release);
    if (signing === undefined) throw new Error(`no signing for ${release.version}`);
    for (const n of signing.notices) {
      if (tty) process.stderr.write("\r\u001b[K");
      process.stderr.write(`${color.yellow("note")}: ${n}\n`);
    }
    const res = await writeBundle(loaded, ctx, ctx.releaseIndex(release), opts.out, signing);
    if (tty) process.stderr.write("\r\u001b[K");
    warnAbout(res);
    results.push(res);
    if (opts.format === "text") out(`${color.green("wrote")} ${res.file}: ${bundleSummary(res)}`);
  }
  if (opts.format === "json") {
    printJson({ bundles: results.map(bundleJson) });
    return 0;
  }
  const skipped = noRunner.length > 0 ? ` (${noRunner.length} without the runner skipped)` : "";
  out(`${plural(results.length, "bundle")} of ${what} in ${opts.out}${skipped}`);
  return 0;
}
