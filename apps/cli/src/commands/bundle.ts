import type { Signing } from "@stepstone/bundle";
import { InputError, IntegrityError } from "@stepstone/errors";
import { findRelease, openGraph } from "../graph.js";
import { color, type Format, out, plural, printJson } from "../output.js";
import { type BundleOptions, bundleJson, bundleSummary, warnAbout } from "./bundle-output.js";

export type { BundleOptions } from "./bundle-output.js";

export async function bundleCommand(opts: BundleOptions): Promise<number> {
  const chosen = [
    opts.release !== undefined && "--release",
    opts.releases !== undefined && "--releases",
    opts.all === true && "--all",
  ].filter(Boolean);
  if (chosen.length !== 1)
    throw new InputError(
      chosen.length === 0
        ? "bundle needs --release VERSION, --releases RANGE or --all"
        : `${chosen.join(" and ")} together: choose one`,
    );
  if (opts.release === undefined) return (await import("./bundles.js")).bundleMany(opts);
  const { signingFor, signingsFor, UNSIGNED, writeBundle } = await import("@stepstone/bundle");
  const { loaded, ctx } = await openGraph(opts);
  const release = findRelease(ctx, opts.release, "--release");
  // An image without the runner has no bundle at all: writeBundle says so, before any
  // question of keys.
  const signing = !release.runner
    ? UNSIGNED
    : opts.keys !== undefined
      ? (signingsFor(loaded, [release], { keys: opts.keys }).get(release) as Signing)
      : signingFor(loaded, release, opts);
  for (const n of signing.notices) process.stderr.write(`${color.yellow("note")}: ${n}\n`);
  const res = await writeBundle(loaded, ctx, ctx.releaseIndex(release), opts.out, signing);
  warnAbout(res);
  if (opts.format === "json") {
    printJson(bundleJson(res));
    return 0;
  }
  out(`${color.green("wrote")} ${res.file}`);
  out(`  ${bundleSummary(res)}`);
  // One write: a vendor's bundle lists thousands of scripts.
  if (res.manifest.scripts.length > 0)
    out(res.manifest.scripts.map((s) => `  ${s.file}`).join("\n"));
  return 0;
}

export interface VerifyOptions {
  format: Format;
  key?: string;
  graph?: string;
}

export async function verifyCommand(bundle: string, opts: VerifyOptions): Promise<number> {
  const lib = await import("@stepstone/bundle");
  if (opts.key !== undefined && opts.graph !== undefined)
    throw new InputError(
      "--key and --graph together: choose one (--graph uses the release's signedBy key)",
    );
  const graph = opts.graph === undefined ? null : await openGraph({ graph: opts.graph });
  // With --graph: what the graph says of the bundle's release, once its manifest is read.
  const fromGraph: string[] = [];
  let keyName = opts.key ?? null;
  const verified = await lib.verifyBundle(
    bundle,
    graph === null
      ? opts.key
      : (manifest) => {
          const { ctx } = graph;
          const release = findRelease(ctx, manifest.release, "the bundle's release");
          const { key, problems } = lib.graphVerifyKey(graph.loaded, release, manifest);
          fromGraph.push(...problems);
          keyName = key.name;
          return key;
        },
  );
  const res = { ...verified, problems: [...verified.problems, ...fromGraph] };
  if (opts.format === "json") {
    printJson({
      file: bundle,
      ok: res.problems.length === 0,
      release: res.manifest?.release ?? null,
      platform: res.manifest?.platform ?? null,
      scripts: res.manifest?.scripts.length ?? 0,
      keys: res.manifest?.keys.map((k) => k.id) ?? [],
      signature: res.signature,
      problems: res.problems,
    });
    return res.problems.length === 0 ? 0 : 3;
  }
  const ids = res.manifest?.keys.map((k) => k.id) ?? [];
  const trusted = ids.length === 0 ? "" : `, trust store ${ids.join(", ")} (keys/)`;
  if (res.problems.length > 0) {
    throw new IntegrityError(
      `${bundle}: integrity check failed, a device would run nothing from it:\n${res.problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  out(
    `${color.green("ok")} ${bundle}: ${res.manifest?.release}${res.manifest?.platform ? ` (${res.manifest.platform})` : ""}, ` +
      `${plural(res.manifest?.scripts.length ?? 0, "script")}${trusted}, every sha256 matches; signature ${res.signature}${keyName === null ? "" : ` with ${keyName}`}`,
  );
  return 0;
}
