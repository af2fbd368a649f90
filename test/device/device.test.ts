/**
 * A device walks the plan, for real (test/device, issue #14): a short walk and the failure
 * boots. The rotation graph's two goldens with the runner, both directions: 1.1.0 -> 2.0.0
 * (a key rotation, users and network converted at boot) and 2.0.0 -> 1.1.0 (through the
 * transition release: network converted before the flash, users wiped, the image's own
 * /etc/passwd read back), each hop pre-flashed and flashed by RAUC and booted under systemd
 * with OpenBMC's layout; then the halt, isolate, no-scripts and other-layout boots. The
 * full walk is `pnpm test:device [N]` (test/device/run.mjs). The stage installs what it
 * needs (mmdebstrap, rauc, qemu, ...) when missing and fails, never skips, without it.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const RUN = fileURLToPath(new URL("./run.mjs", import.meta.url));

describe("a device walks the plan (qemu, systemd, RAUC)", { timeout: 1_500_000 }, () => {
  it("keeps its data along both directions of a golden pair, and the failure boots behave", () => {
    const r = spawnSync(
      process.execPath,
      [RUN, "--graphs", "rotation", "--pairs", "1.1.0>2.0.0,2.0.0>1.1.0", "--failures"],
      { encoding: "utf8", timeout: 1_450_000, maxBuffer: 64 << 20 },
    );
    if (r.error) throw r.error;
    const last = r.stdout.trim().split("\n").pop() ?? "";
    const explain = `exit ${r.status}\n${r.stderr.slice(-6000)}`;
    expect(last, explain).toMatch(/^2 pairs, 3 hops walked, 8 boots, 0 violations$/);
    expect(r.stderr, explain).toMatch(
      /after the wipe of users, \/etc\/passwd is 1\.1\.0's own file \(\d+ lines, no device accounts/,
    );
    expect(r.status, explain).toBe(0);
  });
});
