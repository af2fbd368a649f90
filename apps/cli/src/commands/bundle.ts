import { formatDiagnostic, IntegrityError } from "@stepstone/errors";
import { findRelease, openGraph } from "../graph.js";
import { color, type Format, out, plural, printJson } from "../output.js";

export interface BundleOptions {
  graph?: string;
  format: Format;
  release: string;
  platform?: string;
  out: string;
  sign?: string;
}

export async function bundleCommand(opts: BundleOptions): Promise<number> {
  const { writeBundle } = await import("@stepstone/bundle");
  const { loaded, ctx } = await openGraph(opts);
  const r = findRelease(ctx, opts.release, "--release");
  const res = await writeBundle(loaded, ctx, r, opts.out, opts.sign);
  for (const w of res.warnings)
    process.stderr.write(`${color.yellow("warning")}: ${formatDiagnostic(w)}\n`);
  if (opts.format === "json") {
    printJson({
      file: res.file,
      release: res.manifest.release,
      platform: res.manifest.platform,
      signed: res.signed,
      sha256: res.sha256,
      scripts: res.manifest.scripts,
    });
    return 0;
  }
  out(`${color.green("wrote")} ${res.file}`);
  out(
    `  ${res.manifest.release}${res.manifest.platform ? ` (${res.manifest.platform})` : ""}: ${plural(res.manifest.scripts.length, "script")}, ` +
      `${res.signed ? "signed (manifest.tsv.sig)" : "not signed"}, sha256 ${res.sha256}`,
  );
  // One write: a vendor's bundle lists thousands of scripts.
  if (res.manifest.scripts.length > 0)
    out(res.manifest.scripts.map((s) => `  ${s.file}`).join("\n"));
  return 0;
}

export interface VerifyOptions {
  format: Format;
  key?: string;
}

export async function verifyCommand(bundle: string, opts: VerifyOptions): Promise<number> {
  const { verifyBundle } = await import("@stepstone/bundle");
  const res = await verifyBundle(bundle, opts.key);
  if (opts.format === "json") {
    printJson({
      file: bundle,
      ok: res.problems.length === 0,
      release: res.manifest?.release ?? null,
      platform: res.manifest?.platform ?? null,
      scripts: res.manifest?.scripts.length ?? 0,
      signature: res.signature,
      problems: res.problems,
    });
    return res.problems.length === 0 ? 0 : 3;
  }
  if (res.problems.length > 0) {
    throw new IntegrityError(
      `${bundle}: integrity check failed, a device would run nothing from it:\n${res.problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  out(
    `${color.green("ok")} ${bundle}: ${res.manifest?.release}${res.manifest?.platform ? ` (${res.manifest.platform})` : ""}, ` +
      `${plural(res.manifest?.scripts.length ?? 0, "script")}, every sha256 matches; signature ${res.signature}`,
  );
  return 0;
}
