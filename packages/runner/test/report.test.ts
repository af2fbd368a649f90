/**
 * What the runner tells the people who read a device (#13, point 17), under busybox ash and
 * dash: `status` shows a failed script's exit status and its last journal lines, `boot` and
 * `pre-flash` print one summary line when they succeed, and an integrity refusal is kept in
 * the device's journal, not only on stderr.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BundleSpec,
  chain,
  listState,
  makeRoot,
  putData,
  readState,
  runRunner,
  SHELLS,
  status,
  tempDir,
  writeBundle,
} from "./helpers.js";

function bundle(body?: string): BundleSpec {
  return {
    release: "2.10.0",
    components: [
      { name: "users", epoch: 3, paths: ["etc/passwd"] },
      { name: "network", epoch: 2, onFailure: "isolate", paths: ["etc/systemd/network"] },
    ],
    scripts: [
      ...chain("users", 1, 3),
      {
        id: "network-1-2",
        component: "network",
        from: 1,
        to: 2,
        ...(body !== undefined && { body }),
      },
    ],
  };
}

const FAILING = [
  'echo "converting eth0.network"',
  'echo "eth1.network: \\"Address=\\" is not an address" >&2',
  "exit 3",
].join("\n");

describe.each(SHELLS)("the runner reports under %s", (shell) => {
  it("status gives a failed script's exit status and its journal lines (text and JSON)", async () => {
    const t = await makeRoot({ bundle: bundle(FAILING) });
    putData(t, "etc/passwd");
    putData(t, "etc/systemd/network/eth0.network");
    const boot = runRunner(t, shell, ["boot"]);
    expect(boot.status).toBe(0); // isolate: the rest of the system boots
    expect(boot.stdout).toBe(
      "boot 2.10.0: 2 scripts run (users); isolated, its services stay stopped: network (runner status)\n",
    );

    const s = status(t, shell);
    expect(s.failures).toHaveLength(1);
    const f = s.failures[0];
    expect(f).toMatchObject({
      id: "network-1-2",
      component: "network",
      phase: "boot",
      from: 1,
      to: 2,
      status: 3,
      reason: null,
    });
    expect(f?.journal[0]).toMatch(/ run network-1-2 \(network 1->2, boot\)$/);
    expect(f?.journal).toContain("converting eth0.network");
    expect(f?.journal).toContain('eth1.network: "Address=" is not an address');
    expect(f?.journal.at(-1)).toMatch(/ FAILED network-1-2 \(exit 3\)$/);

    const text = runRunner(t, shell, ["status"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("failures:\n  network-1-2 (network, 1->2 at boot: exit 3)\n");
    expect(text.stdout).toMatch(/ {6}\| .* run network-1-2 \(network 1->2, boot\)\n/);
    expect(text.stdout).toContain('      | eth1.network: "Address=" is not an address\n');
  });

  it("status names a timeout as the reason, with no exit status", async () => {
    const t = await makeRoot({ bundle: bundle("sleep 30"), scriptTimeout: 1 });
    putData(t, "etc/passwd");
    putData(t, "etc/systemd/network/eth0.network");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    const f = status(t, shell).failures[0];
    expect(f).toMatchObject({ id: "network-1-2", status: null, reason: "timeout after 1s" });
    expect(runRunner(t, shell, ["status"]).stdout).toContain(
      "  network-1-2 (network, 1->2 at boot: timeout after 1s)\n",
    );
  });

  it("boot prints one summary line, also when there is nothing to do", async () => {
    const t = await makeRoot({ bundle: bundle() });
    putData(t, "etc/passwd");
    putData(t, "etc/systemd/network/eth0.network");
    const first = runRunner(t, shell, ["boot"]);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(
      "boot 2.10.0: 3 scripts run (users network); every component at the image's epochs\n",
    );
    const again = runRunner(t, shell, ["boot"]);
    expect(again.stdout).toBe(
      "boot 2.10.0: nothing to do, every component at the image's epochs\n",
    );
    expect(again.stderr).toBe("");
  });

  it("pre-flash prints one summary line", async () => {
    const t = await makeRoot({ bundle: bundle() });
    putData(t, "etc/passwd");
    putData(t, "etc/systemd/network/eth0.network");
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
    // The running image ships users-3-2 (a downgrade before the flash); 2.9.0 is at users 2.
    writeBundle(t.bundleDir, {
      ...bundle(),
      scripts: [...bundle().scripts, { id: "users-3-2", component: "users", from: 3, to: 2 }],
    });
    const target = join(tempDir(), "target");
    writeBundle(target, {
      release: "2.9.0",
      components: [
        { name: "users", epoch: 2, paths: ["etc/passwd"] },
        { name: "network", epoch: 2, onFailure: "isolate", paths: ["etc/systemd/network"] },
      ],
      scripts: chain("users", 1, 2),
    });
    const r = runRunner(t, shell, ["pre-flash", "--target", target]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("pre-flash to 2.9.0: 1 script run (users) now; ready to flash\n");
  });

  it("an integrity refusal at boot is written to the journal too", async () => {
    const t = await makeRoot({ bundle: bundle() });
    putData(t, "etc/passwd");
    putData(t, "etc/systemd/network/eth0.network");
    writeFileSync(join(t.bundleDir, "0001-users-1-2-users-1-2.sh"), "#!/bin/sh\necho evil\n");
    const r = runRunner(t, shell, ["boot"]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    const journal = readState(t, "journal") ?? "";
    expect(journal).toMatch(/ boot\[\d+\]: image: the sha256 of .* does not match manifest\.tsv/);
    expect(journal).toMatch(/ end: refused \(exit 3\), nothing run\n$/);
    // Nothing recorded but the journal: no record folder is made for a refusal.
    expect(listState(t, "")).toEqual(["journal"]);
    // status reads only: it refuses as well, and writes nothing.
    const before = readState(t, "journal");
    expect(runRunner(t, shell, ["status"]).status).toBe(3);
    expect(readState(t, "journal")).toBe(before);
  });
});
