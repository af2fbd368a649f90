// What `bundle` prints, for one release and for many (bundles.ts).
import type { BundleResult } from "@stepstone/bundle";
import { formatDiagnostic } from "@stepstone/errors";
import { color, type Format, plural } from "../output.js";

export interface BundleOptions {
  graph?: string;
  format: Format;
  release?: string;
  releases?: string;
  all?: boolean;
  platform?: string;
  out: string;
  sign?: string;
  keys?: string;
  unsigned?: boolean;
}

export function warnAbout(res: BundleResult): void {
  for (const w of res.warnings)
    process.stderr.write(`${color.yellow("warning")}: ${formatDiagnostic(w)}\n`);
}

/** One bundle as `bundle --format json` prints it. */
export function bundleJson(res: BundleResult) {
  return {
    file: res.file,
    release: res.manifest.release,
    platform: res.manifest.platform,
    signed: res.signed,
    sha256: res.sha256,
    keys: res.manifest.keys,
    scripts: res.manifest.scripts,
  };
}

/** `2.10.0: 3 scripts, signed (manifest.tsv.sig), trusts ..., sha256 ...`. */
export function bundleSummary(res: BundleResult): string {
  return (
    `${res.manifest.release}${res.manifest.platform ? ` (${res.manifest.platform})` : ""}: ${plural(res.manifest.scripts.length, "script")}, ` +
    `${res.signed ? "signed (manifest.tsv.sig)" : "not signed"}, ` +
    `${res.manifest.keys.length === 0 ? "" : `trusts ${res.manifest.keys.map((k) => k.id).join(", ")} (keys/), `}sha256 ${res.sha256}`
  );
}
