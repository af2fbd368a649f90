/**
 * Power cuts in a real VM (qemu, Debian's cloud kernel, busybox): a few cuts of the emitted
 * runner, a few crash states replayed from dm-log-writes, the harness's teeth against a
 * runner without its sync after the script, and a cut inside a pre-flash script. The full run is `pnpm test:powercut [N]` (test/powercut/run.mjs).
 * The harness fetches the kernel and busybox-static itself (apt-get download, cached in
 * test/powercut/.cache) and installs qemu-system-x86, e2fsprogs and cpio when missing; a
 * missing tool fails these tests, never skips them.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const RUN = fileURLToPath(new URL("./run.mjs", import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  last: string;
}

function harness(args: string[]): Result {
  const r = spawnSync(process.execPath, [RUN, ...args], {
    encoding: "utf8",
    timeout: 280_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last };
}

const explain = (r: Result) => `exit ${r.code}\n${r.stderr.slice(-4000)}`;

describe("power cuts in a VM", { timeout: 300_000 }, () => {
  it("the emitted runner loses nothing at random cuts (boot, pre-flash then flash, pre-flash then the same image)", () => {
    const r = harness(["6"]);
    expect(r.last, explain(r)).toBe("6 cuts, 0 violations");
    expect(r.code, explain(r)).toBe(0);
  });

  it("loses nothing either in crash states of a disk with a volatile write cache (dm-log-writes)", () => {
    const r = harness(["4", "--model", "log-writes", "--scenarios", "boot,pre-flash/flash"]);
    expect(r.last, explain(r)).toBe("4 cuts, 0 violations");
    expect(r.code, explain(r)).toBe(0);
  });

  it("has teeth: a runner without the sync after the script is caught", () => {
    // Cut as the last script starts: the earlier scripts are recorded (their records were
    // fsynced), but without the global sync their rewritten files never reached the disk.
    const r = harness([
      "2",
      "--variant",
      "no-sync-after-script",
      "--scenarios",
      "boot",
      "--wb",
      "lazy",
      "--cut-at",
      "start logging-1-2",
    ]);
    expect(r.last, explain(r)).toBe("2 cuts, 2 violations");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "[damaged] users: data damaged (lost or torn writes): etc/group: empty",
    );
    expect(r.stderr).toMatch(/\[applied-early\] users: applied\/users-1-2 exists/);
  });

  it("finishes a down-migration cut during pre-flash when the same image boots again", () => {
    // The runner announces each pre-flash script with a durable marker and finishes it at
    // its next run: without that, the same image (the flash never happened) would see its
    // own epoch and keep half-downgraded data (found by this harness).
    const r = harness([
      "1",
      "--scenarios",
      "pre-flash/back",
      "--wb",
      "lazy",
      "--cut-at",
      "sync 32 logging-2-1",
    ]);
    expect(r.last, explain(r)).toBe("1 cuts, 0 violations");
    expect(r.code, explain(r)).toBe(0);
  });
});
