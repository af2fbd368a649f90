/**
 * What an adversarial review of the runner found (issue "The runner, hardened and lean"),
 * each as a test that failed before its fix, under dash and busybox ash. Where a tool's
 * behaviour matters (busybox `sha256sum`, a missing `df`), the PATH holds busybox applets
 * only, as on a BMC.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BundleSpec,
  chain,
  type KeyPair,
  listState,
  makeKeyPair,
  makeRoot,
  putData,
  readState,
  runIds,
  runRunner,
  SHELLS,
  type Shell,
  type TestRoot,
  tempDir,
  tool,
  writeBundle,
  writeState,
} from "./helpers.js";

/** A folder with every busybox applet as a link, minus `without`: a BMC's PATH. */
function busyboxPath(without: string[] = []): string {
  const dir = tempDir("stepstone-bbpath-");
  const list = spawnSync(tool("busybox"), ["--list"], { encoding: "utf8" }).stdout.split("\n");
  for (const applet of list) {
    if (applet === "" || without.includes(applet)) continue;
    symlinkSync(tool("busybox"), join(dir, applet));
  }
  return dir;
}

/** A process that exists and is not a zombie (killed, waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * The persistent layer (upper dir) on a small tmpfs in a private mount namespace,
 * filled until `free` KiB are left; the script copies `copy` KiB into it.
 */
function fullLayer(shell: Shell, free: number, copy: number, path?: string, extra = "") {
  return async () => {
    const t = await makeRoot({
      upper: "/persist",
      bundle: {
        release: "2.0.0",
        components: [{ name: "users", epoch: 2, onFailure: "wipe", paths: ["etc/passwd"] }],
        scripts: [
          {
            id: "users-1-2",
            component: "users",
            from: 1,
            to: 2,
            body: `cp "$MIGRATION_ROOT/big" "$MIGRATION_ROOT/persist/etc/passwd.new"\nmv "$MIGRATION_ROOT/persist/etc/passwd.new" "$MIGRATION_ROOT/persist/etc/passwd"${extra}`,
          },
        ],
      },
    });
    writeFileSync(join(t.root, "big"), Buffer.alloc(copy * 1024, 7));
    const layer = join(t.root, "persist");
    mkdirSync(layer, { recursive: true });
    const script = `
set -eu
layer=$1; shift
mount -t tmpfs -o size=2048k none "$layer"
mkdir -p "$layer/etc"
echo "root:x:0:0::/root:/bin/sh" > "$layer/etc/passwd"
avail=$(df -k "$layer" | awk 'NR == 2 { print $4 }')
dd if=/dev/zero of="$layer/fill" bs=1024 count=$((avail - ${free})) 2>/dev/null
set +e
"$@"; echo "rc=$?" >&2
cat "$layer/etc/passwd" >&2
`;
    const env: Record<string, string> = path ? { PATH: path } : {};
    const r = runRunner(t, shell, ["boot"], env, [
      tool("unshare"),
      "-m",
      "sh",
      "-c",
      script,
      "sh",
      layer,
    ]);
    expect(r.stderr).toMatch(/rc=1\n/);
    // The data is what it was: not wiped, not half converted.
    if (copy > 0) expect(r.stderr).toMatch(/root:x:0:0::\/root:\/bin\/sh\n$/);
    else expect(r.stderr).not.toMatch(/^root:x/m);
    expect(r.stderr).toMatch(/not wiping|stopping/);
    expect(r.stderr).not.toMatch(/policy wipe: resetting/);
    expect(readState(t, "failed/users-1-2")).toMatch(/status=/);
    expect(readState(t, "epoch/users")).toBeUndefined();
    return r;
  };
}

let k1: KeyPair;
let k2: KeyPair;
beforeAll(() => {
  const dir = tempDir("stepstone-keys-");
  k1 = makeKeyPair(dir, "vendor-2025");
  k2 = makeKeyPair(dir, "vendor-2026");
});

describe.each(SHELLS)("under %s", (shell) => {
  describe("1. every script is bounded in time", () => {
    const hung = (onFailure: "halt" | "isolate" | "wipe"): BundleSpec => ({
      release: "2.0.0",
      components: [
        { name: "a", epoch: 2, onFailure, paths: ["etc/a"] },
        { name: "b", epoch: 2, paths: ["etc/b"] },
      ],
      scripts: [
        {
          id: "a-1-2",
          component: "a",
          from: 1,
          to: 2,
          // A child in the background and a script that never ends.
          body: 'sleep 1000 &\necho $! > "$MIGRATION_ROOT/child"\nwhile :; do sleep 1; done',
        },
        ...chain("b", 1, 2),
      ],
    });

    it("kills a hung script and its process group at the limit: halt stops, exit 1", async () => {
      const t = await makeRoot({ bundle: hung("halt"), scriptTimeout: 2 });
      putData(t, "etc/a");
      putData(t, "etc/b");
      const t0 = Date.now();
      const r = runRunner(t, shell, ["boot"]);
      expect(Date.now() - t0).toBeLessThan(8000);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/a-1-2 was killed after 2s, its time limit; policy halt: stopping/);
      expect(readState(t, "failed/a-1-2")).toMatch(/reason=timeout after 2s/);
      expect(readState(t, "epoch/a")).toBeUndefined();
      expect(runIds(t)).toEqual([]);
      // The script's own child went with it (its whole process group).
      const child = Number(readFileSync(join(t.root, "child"), "utf8"));
      expect(alive(child)).toBe(false);
      // And nothing of the run is left running.
      expect(spawnSync("pgrep", ["-f", t.root]).status).toBe(1);
    });

    it("isolate: the hung component is failed, the others migrate, the boot ends", async () => {
      const t = await makeRoot({ bundle: hung("isolate"), scriptTimeout: 2 });
      putData(t, "etc/a");
      putData(t, "etc/b");
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(0);
      expect(runIds(t)).toEqual(["b-1-2"]);
      expect(readState(t, "epoch/b")).toBe("2\n");
      expect(listState(t, "failed")).toEqual(["a-1-2"]);
    });

    it("wipe: a script past its limit never makes a wipe (it says nothing about the data)", async () => {
      const t = await makeRoot({ bundle: hung("wipe"), scriptTimeout: 2 });
      putData(t, "etc/a", "precious\n");
      putData(t, "etc/b");
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not wiping/);
      expect(readFileSync(join(t.upperDir, "etc/a"), "utf8")).toBe("precious\n");
      expect(readState(t, "epoch/a")).toBeUndefined();
    });
  });

  describe("2. a full persistent layer never makes a wipe", () => {
    it("the layer filled to the last KiB: recorded as failed, the run stops", async () => {
      const r = await fullLayer(shell, 0, 512)();
      expect(r.stderr).toMatch(/full|storage or system error/);
    });

    it("room left but not enough (df looks fine): the script's ENOSPC says it", async () => {
      const r = await fullLayer(shell, 400, 1024)();
      expect(r.stderr).toMatch(/its output reports a storage or system error/);
    });
  });

  describe("3. file names sha256sum cannot print", () => {
    it("a listed name + newline + anything, holding the genuine bytes, cannot hide a tampered script", async () => {
      const t = await makeRoot({
        bundle: {
          release: "2.0.0",
          components: [{ name: "users", epoch: 2, paths: ["etc/passwd"] }],
          scripts: chain("users", 1, 2),
        },
      });
      putData(t, "etc/passwd");
      const name = readdirSync(t.bundleDir).find((f) => f.endsWith(".sh")) as string;
      const genuine = readFileSync(join(t.bundleDir, name));
      writeFileSync(join(t.bundleDir, `${name}\nx`), genuine);
      writeFileSync(join(t.bundleDir, name), '#!/bin/sh\necho evil >> "$MIGRATION_ROOT/runs"\n');
      for (const path of [busyboxPath(), process.env.PATH as string]) {
        const r = runRunner(t, shell, ["boot"], { PATH: path });
        expect(r.status).toBe(3);
        expect(r.stderr).toMatch(/unexpected file [\s\S]*in the bundle: nothing run/);
        expect(runIds(t)).toEqual([]);
      }
    });
  });

  describe("4. pre-flash reads the target once", () => {
    it("a manifest swapped in after openssl checked it chooses nothing", async () => {
      const running: BundleSpec = {
        release: "2.10.0",
        components: [{ name: "users", epoch: 3, paths: ["etc/passwd"] }],
        scripts: [
          ...chain("users", 1, 3),
          { id: "users-3-2", component: "users", from: 3, to: 2 },
          { id: "users-2-1", component: "users", from: 2, to: 1 },
        ],
        signWith: k1,
        trusts: [k1],
      };
      const t = await makeRoot({ bundle: running });
      writeState(t, "epoch/users", "3\n");
      const target = join(tempDir(), "target");
      const targetSpec: BundleSpec = {
        release: "2.9.0",
        components: [{ name: "users", epoch: 2, paths: ["etc/passwd"] }],
        scripts: [],
        signWith: k1,
      };
      writeBundle(target, targetSpec);
      // The attacker's manifest: users at 1, so that two of the image's scripts would run.
      const evil = join(tempDir(), "evil");
      writeBundle(evil, { ...targetSpec, components: [{ name: "users", epoch: 1 }] });
      // openssl as found on PATH: the real one, then the swap, right after it closed the file.
      const bin = tempDir("stepstone-bin-");
      writeFileSync(
        join(bin, "openssl"),
        `#!/bin/sh\n"${tool("openssl")}" "$@"; rc=$?\ncase "$*" in *target*) cp "${evil}/manifest.tsv" "${target}/manifest.tsv" ;; esac\nexit $rc\n`,
      );
      chmodSync(join(bin, "openssl"), 0o755);
      const r = runRunner(t, shell, ["pre-flash", "--target", target], {
        PATH: `${bin}:${process.env.PATH}`,
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(runIds(t)).toEqual(["users-3-2"]);
      expect(readState(t, "epoch/users")).toBe("2\n");
    });
  });

  describe("5. the journal stays under its cap", () => {
    it("a chatty script: at most the last 16 KiB of its output, the journal under ~64 KiB", async () => {
      const t = await makeRoot({
        bundle: {
          release: "2.0.0",
          components: [{ name: "a", epoch: 4 }],
          scripts: chain("a", 1, 4).map((s, i) => ({
            ...s,
            body:
              i === 0
                ? 'yes "line of a chatty migration" | head -c 9000000\necho LAST-LINE'
                : 'yes "x" | head -c 40000\nprintf "no newline at the end"',
          })),
        },
      });
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(0);
      const journal = statSync(join(t.stateDir, "journal")).size;
      const rotated = existsSync(join(t.stateDir, "journal.1"))
        ? statSync(join(t.stateDir, "journal.1")).size
        : 0;
      expect(journal).toBeLessThanOrEqual(65536 + 512);
      expect(rotated).toBeLessThanOrEqual(65536 + 512);
      const all = `${readState(t, "journal.1") ?? ""}${readState(t, "journal")}`;
      expect(all).toMatch(/a-1-2: output: 9000010 bytes, the last 16384 kept/);
      expect(all).toMatch(/LAST-LINE\n/);
      // A last line without its newline stays a line of its own.
      expect(all).toMatch(/no newline at the end\n\d+ boot\[\d+\]: end: ok/);
    });
  });

  describe("7. the wipe policy on a component without paths", () => {
    it("stops as halt: it never records the new epoch over unconverted data", async () => {
      const t = await makeRoot({
        bundle: {
          release: "2.0.0",
          components: [{ name: "a", epoch: 2, onFailure: "wipe" }],
          scripts: [{ id: "a-1-2", component: "a", from: 1, to: 2, body: "exit 4" }],
        },
      });
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/policy wipe, but the component has no paths to wipe; policy halt/);
      expect(readState(t, "epoch/a")).toBeUndefined();
      expect(readState(t, "failed/a-1-2")).toMatch(/status=4/);
    });
  });

  describe("9. the trust store is exactly the keys the manifest lists", () => {
    const signed = (): BundleSpec => ({
      release: "2.0.0",
      components: [{ name: "users", epoch: 2, paths: ["etc/passwd"] }],
      scripts: chain("users", 1, 2),
      signWith: k1,
      trusts: [k1],
    });
    async function root(edit: (keys: string) => void): Promise<TestRoot> {
      const t = await makeRoot({ bundle: signed() });
      putData(t, "etc/passwd");
      edit(join(t.bundleDir, "keys"));
      return t;
    }
    it.each([
      [
        "a key not in the manifest (keys/x.pub)",
        (k: string) => writeFileSync(join(k, "x.pub"), "x"),
      ],
      [
        "a second PEM the manifest does not list",
        (k: string) => writeFileSync(join(k, "other.pem"), readFileSync(k2.pub)),
      ],
      ["a dangling link", (k: string) => symlinkSync("/nonexistent.pem", join(k, "gone.pem"))],
      [
        "the listed key replaced by a link to a key",
        (k: string) => {
          const f = join(k, `${k1.id}.pem`);
          spawnSync("rm", [f]);
          symlinkSync(k1.pub, f);
        },
      ],
      ["the listed key missing", (k: string) => spawnSync("rm", [join(k, `${k1.id}.pem`)])],
      [
        "the listed key replaced by another key",
        (k: string) => writeFileSync(join(k, `${k1.id}.pem`), readFileSync(k2.pub)),
      ],
      ["a folder in keys/", (k: string) => mkdirSync(join(k, "more"))],
    ])("%s: exit 3, nothing run (it never fails open)", async (_what, edit) => {
      const t = await root(edit);
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/nothing run/);
      expect(runIds(t)).toEqual([]);
    });

    it("an unreadable key: exit 3 (run as a user that cannot read it)", async () => {
      const t = await root(() => {});
      spawnSync("chmod", ["-R", "a+rwX", t.root]);
      chmodSync(join(t.bundleDir, "keys", `${k1.id}.pem`), 0o000);
      const r = runRunner(t, shell, ["boot"], {}, [
        tool("setpriv"),
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
      ]);
      expect(r.stderr).toMatch(/is not a readable regular file: nothing run/);
      expect(r.status).toBe(3);
      expect(runIds(t)).toEqual([]);
    });

    it("a bundle signed by a key the image lists runs; one signed by another does not", async () => {
      const ok = await root(() => {});
      expect(runRunner(ok, shell, ["boot"]).status).toBe(0);
      const t = await makeRoot({ bundle: { ...signed(), signWith: k2 } });
      putData(t, "etc/passwd");
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/does not verify with any key the image trusts \(vendor-2025\)/);
    });
  });

  describe("10. pre-flash refuses a target built for another platform", () => {
    it.each([
      ["qemuarm", "evb-ast2600"],
      ["qemuarm", undefined],
      [undefined, "qemuarm"],
    ])("running %s, target %s: exit 2, nothing run", async (running, target) => {
      const t = await makeRoot({
        bundle: {
          release: "2.10.0",
          ...(running ? { platform: running } : {}),
          components: [{ name: "users", epoch: 2 }],
          scripts: [{ id: "users-2-1", component: "users", from: 2, to: 1 }],
        },
      });
      writeState(t, "epoch/users", "2\n");
      const dir = join(tempDir(), "t");
      writeBundle(dir, {
        release: "2.9.0",
        ...(target ? { platform: target } : {}),
        components: [{ name: "users", epoch: 1 }],
        scripts: [],
      });
      const r = runRunner(t, shell, ["pre-flash", "--target", dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/is built for platform .*: refusing it, nothing run/);
      expect(runIds(t)).toEqual([]);
    });
  });

  describe("11. applied/<id> is whole after any cut", () => {
    it.each([
      ["id=users-1-2\nsha256=ab"],
      [""],
      ["id=users-1-2\nsha256=0\ncomponent=users\nfrom=1\nto=2\ntime=5\nrelease=2.0.0\nphase=bo"],
    ])("the next boot, even one with nothing to do, repairs %j from the manifest", async (torn) => {
      const t = await makeRoot({
        bundle: {
          release: "2.0.0",
          components: [{ name: "users", epoch: 2, paths: ["etc/passwd"] }],
          scripts: chain("users", 1, 2),
        },
      });
      putData(t, "etc/passwd");
      expect(runRunner(t, shell, ["boot"]).status).toBe(0);
      writeState(t, "applied/users-1-2", torn);
      const r = runRunner(t, shell, ["boot"]);
      expect(r.status).toBe(0);
      expect(runIds(t)).toEqual(["users-1-2"]);
      const repaired = readState(t, "applied/users-1-2") ?? "";
      expect(repaired).toMatch(
        /^id=users-1-2\nsha256=[0-9a-f]{64}\ncomponent=users\nfrom=1\nto=2\ntime=\d+\nrelease=2\.0\.0\nphase=boot\nrepaired=1\n$/,
      );
      expect(readState(t, "journal")).toMatch(/users-1-2: applied record was incomplete/);
    });
  });
});

// Busybox ash runs its own applets whatever PATH says, so only a shell without them can lack
// df: dash, with a PATH of busybox applets without df.
describe("2. a full persistent layer never makes a wipe (under dash, without df)", () => {
  it("no df to tell how full it is: no wipe either", async () => {
    // The script fails for a reason of its own, after writing nothing.
    const r = await fullLayer("dash", 400, 0, busyboxPath(["df"]), "\nexit 1")();
    expect(r.stderr).toMatch(/cannot tell how full/);
  });
});
