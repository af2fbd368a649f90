// The shared base of every image the device stage boots: a Debian root file system made
// by mmdebstrap from the configured mirror (systemd as PID 1, udev, kmod, dbus, RAUC,
// OpenSSL for signed bundles), with the cloud kernel's few modules the guest loads.
// Built once and cached under test/device/.cache/base-<key>/, keyed by everything that
// goes into it (packages, hook, kernel, sources), so a second run costs nothing.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { HarnessError, must } from "../../powercut/lib/assets.mjs";

export const PACKAGES = ["systemd", "systemd-sysv", "udev", "kmod", "dbus", "rauc", "openssl"];
const SOURCES = "/etc/apt/sources.list.d/debian.sources";
const EXCLUDES = ["doc", "man", "locale", "info"].map(
  (d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`,
);

/** The cached base tree for this kernel: { root, key, built: seconds | 0 when cached }. */
export function ensureBase(log, cache, parts, here) {
  const hook = join(here, "guest/base-hook.sh");
  const sources = existsSync(SOURCES) ? readFileSync(SOURCES, "utf8") : "";
  if (!sources) throw new HarnessError(`${SOURCES} is missing: mmdebstrap needs the mirror`);
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        PACKAGES,
        EXCLUDES,
        "merged-usr",
        readFileSync(hook, "utf8"),
        parts.kernelPackage,
        sources,
      ]),
    )
    .digest("hex")
    .slice(0, 16);
  const root = join(cache, `base-${key}`);
  const done = `${root}.done`;
  if (existsSync(done)) return { root, key, built: 0 };
  const tmp = `${root}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`building the base root file system with mmdebstrap (${PACKAGES.join(" ")})`);
  const t0 = performance.now();
  must("mmdebstrap", [
    "--variant=minbase",
    `--include=${PACKAGES.join(",")}`,
    ...EXCLUDES,
    // The /usr merge without the usrmerge package (and the perl it pulls in: 55 MB).
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    `--customize-hook=sh ${hook} "$1" ${parts.kernelDir} ${parts.kernelVersion}`,
    "bookworm",
    tmp,
    SOURCES,
  ]);
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
  writeFileSync(done, `${key}\n`);
  const built = (performance.now() - t0) / 1000;
  log(`base built in ${built.toFixed(0)} s`);
  return { root, key, built };
}
