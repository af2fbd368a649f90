import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { demoKeys, SAMPLE, stepstone } from "../helpers/cli.js";

/**
 * Both ends of `plan --device`: the emitted runner's `status --json` on a device root
 * (real dash, a real bundle), read back by the planner.
 */
function device(shell: readonly string[]): { root: string; runner: (...args: string[]) => string } {
  const dir = tempDir();
  const root = join(dir, "root");
  // Signed with 2.10.0's own key, so the image carries its trust store (keys/).
  const sign = ["--sign", demoKeys().key("vendor-2025")];
  expect(
    stepstone([
      "bundle",
      "--graph",
      SAMPLE,
      "--release",
      "2.10.0",
      "--out",
      join(dir, "b"),
      ...sign,
    ]).code,
  ).toBe(0);
  expect(stepstone(["runner", "--graph", SAMPLE, "--out", root]).code).toBe(0);
  execFileSync("tar", ["-xzf", join(dir, "b", "migration-2.10.0.tar.gz"), "-C", root]);
  // Data written by 2.9.x before the runner existed: root-only accounts and state.
  mkdirSync(join(root, "etc/systemd/network"), { recursive: true });
  mkdirSync(join(root, "var/lib/bmcweb"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  writeFileSync(
    join(root, "etc/systemd/network/eth0.network"),
    "[Match]\nName=eth0\n[DHCP]\nUseDNS=yes\n",
  );
  const runner = (...args: string[]) => {
    const [cmd, ...pre] = shell as [string, ...string[]];
    const r = spawnSync(
      cmd,
      [...pre, join(root, "usr/libexec/migration/runner"), "--root", root, ...args],
      {
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  return { root, runner };
}

describe.each([["dash"], ["busybox", "ash"]])(
  "runner status --json feeds plan --device (%s)",
  (...shell) => {
    const run = (d: ReturnType<typeof device>, ...args: string[]) => d.runner(...args);

    it("plans from the data the device really has, before and after its boot migrations", () => {
      const d = device(shell);
      const status = JSON.parse(run(d, "status", "--json"));
      expect(status).toMatchObject({ release: "2.10.0", platform: null });
      expect(
        status.components.map((c: { name: string; epoch: number }) => [c.name, c.epoch]),
      ).toEqual([
        ["users", 1],
        ["ownership", 1],
        ["network", 1],
      ]);
      const file = join(tempDir(), "status.json");
      writeFileSync(file, JSON.stringify(status));

      // The device still holds 2.9.x data: 2.12.0 no longer ships the users and ownership
      // up-migrations, so the running 2.10.0 must run them before flashing; network-1-2 is
      // shipped by both, and the chain with fewer pre-flash scripts runs it at boot.
      const before = stepstone([
        "plan",
        "--graph",
        SAMPLE,
        "--device",
        file,
        "--to",
        "2.12.0",
        "--format",
        "json",
      ]);
      expect(before.code).toBe(0);
      const plan = JSON.parse(before.stdout);
      expect(plan.from).toBe("2.10.0");
      expect(plan.steps).toHaveLength(1);
      expect(plan.steps[0].preFlash.map((m: { id: string }) => m.id)).toEqual([
        "users-1-2",
        "ownership-1-2",
      ]);
      expect(plan.steps[0].boot.map((m: { id: string }) => m.id)).toEqual(["network-1-2"]);
      // Planned from the release's own epochs, nothing would run: the device's status matters.
      const nominal = JSON.parse(
        stepstone([
          "plan",
          "--graph",
          SAMPLE,
          "--from",
          "2.10.0",
          "--to",
          "2.12.0",
          "--format",
          "json",
        ]).stdout,
      );
      expect(nominal.steps[0].preFlash).toEqual([]);

      run(d, "boot");
      const after = JSON.parse(run(d, "status", "--json"));
      expect(
        after.components.every(
          (c: { epoch: number; imageEpoch: number }) => c.epoch === c.imageEpoch,
        ),
      ).toBe(true);
      writeFileSync(file, JSON.stringify(after));
      const now = JSON.parse(
        stepstone([
          "plan",
          "--graph",
          SAMPLE,
          "--device",
          file,
          "--to",
          "2.12.0",
          "--format",
          "json",
        ]).stdout,
      );
      expect(now.steps[0].preFlash).toEqual([]);
      expect(now.steps[0].boot).toEqual([]);
    });
  },
);
