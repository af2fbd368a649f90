// What every part of the device stage shares: host tools, the kernel (the power-cut
// stage's, same cache), the cached base, keys, the model, the work folder.
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ensureGuestParts, ensureTools, which } from "../../powercut/lib/assets.mjs";
import { ensureBase } from "./base.mjs";
import { cliHasLayout, HERE } from "./images.mjs";
import { makeModel, readBaseAccounts } from "./model.mjs";

/** Host command -> Debian package: what the device stage runs on the host. */
export const DEVICE_TOOLS = {
  "qemu-system-x86_64": "qemu-system-x86",
  mke2fs: "e2fsprogs",
  debugfs: "e2fsprogs",
  mmdebstrap: "mmdebstrap",
  rauc: "rauc",
  mksquashfs: "squashfs-tools",
  openssl: "openssl",
  "dpkg-deb": "dpkg",
  "apt-get": "apt",
};

export function makeContext({ log: given, cpu = "qemu64" } = {}) {
  const t0 = performance.now();
  const log =
    given ??
    ((s) =>
      process.stderr.write(`device: [${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`));
  ensureTools(log, DEVICE_TOOLS, "the device stage");
  const cache = join(HERE, ".cache");
  mkdirSync(cache, { recursive: true });
  // The kernel is the power-cut stage's: same package, same cache folder.
  const parts = ensureGuestParts(log, join(HERE, "../powercut/.cache"));
  const base = ensureBase(log, cache, parts, HERE);
  // Under the stage's cache folder, not the shared /tmp: other jobs on the machine clean
  // /tmp/stepstone-* (a walk lost its work folder that way).
  mkdirSync(join(cache, "work"), { recursive: true });
  const work = mkdtempSync(join(cache, "work", "run-"));
  const keys = join(cache, "keys");
  mkdirSync(keys, { recursive: true });
  return {
    t0,
    log,
    qemu: which("qemu-system-x86_64"),
    parts,
    base,
    work,
    keys,
    imageCache: join(cache, "images"),
    model: makeModel(readBaseAccounts(base.root)),
    cliHasLayout: cliHasLayout(),
    cpu,
    vms: new Set(),
    boots: [],
    seq: 0,
  };
}
