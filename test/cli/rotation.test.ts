import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git, gitRepo, tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { stepstone } from "../helpers/cli.js";

/**
 * A key rotation end to end, with real openssl: the old golden 1.0.0 trusts only key
 * "a"; the new golden 2.0.0 is signed with "b" and trusts only "b"; two transition
 * builds bridge them, each trusting both (1.0.1-transition.1 signed with "a" on the way
 * up, 2.0.1-transition.1 signed with "b" on the way down, carrying users-2-1). A third
 * key, "lab", is in the graph but trusted by no release: no bundle may carry it.
 */
const KEYS = ["a", "b", "lab"] as const;
const T1 = "1.0.1-transition.1";
const T2 = "2.0.1-transition.1";

function rotation(): { dir: string; graph: string; priv: string; pub: (id: string) => string } {
  const dir = tempDir();
  const priv = join(dir, "private");
  mkdirSync(priv);
  mkdirSync(join(dir, "keys"));
  mkdirSync(join(dir, "m"));
  for (const id of KEYS) {
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", join(priv, `${id}.pem`)]);
    execFileSync("openssl", [
      "pkey",
      "-in",
      join(priv, `${id}.pem`),
      "-pubout",
      "-out",
      join(dir, "keys", `${id}.pub.pem`),
    ]);
  }
  writeFileSync(join(dir, "m/users-1-2.sh"), "#!/bin/sh\nset -eu\necho up\n");
  writeFileSync(join(dir, "m/users-2-1.sh"), "#!/bin/sh\nset -eu\necho down\n");
  const graph = join(dir, "release-graph.json");
  writeFileSync(
    graph,
    JSON.stringify(
      {
        schemaVersion: 1,
        keys: {
          a: { public: "keys/a.pub.pem", notes: "signed everything up to 1.x" },
          b: { public: "keys/b.pub.pem", notes: "signs 2.x" },
          lab: { public: "keys/lab.pub.pem", notes: "the lab's key: no release trusts it" },
        },
        components: { users: { paths: ["etc/passwd"] } },
        releases: [
          { version: "1.0.0", golden: true, epochs: { users: 1 }, signedBy: "a", trusts: ["a"] },
          {
            version: T1,
            transition: true,
            epochs: { users: 1 },
            signedBy: "a",
            trusts: ["a", "b"],
          },
          { version: "2.0.0", golden: true, epochs: { users: 2 }, signedBy: "b", trusts: ["b"] },
          {
            version: T2,
            transition: true,
            epochs: { users: 2 },
            ships: ["users-2-1"],
            signedBy: "b",
            trusts: ["a", "b"],
          },
        ],
        migrations: [
          {
            id: "users-1-2",
            component: "users",
            from: 1,
            to: 2,
            script: "m/users-1-2.sh",
            shippedIn: ">=2.0.0",
          },
          { id: "users-2-1", component: "users", from: 2, to: 1, script: "m/users-2-1.sh" },
        ],
      },
      null,
      2,
    ),
  );
  return { dir, graph, priv, pub: (id) => join(dir, "keys", `${id}.pub.pem`) };
}

/** The entries of a bundle, by path (tar -x into a folder, read back). */
function entries(bundle: string): Map<string, Buffer> {
  const root = tempDir();
  execFileSync("tar", ["-xzf", bundle, "-C", root]);
  const names = execFileSync("tar", ["-tzf", bundle], { encoding: "utf8" }).trim().split("\n");
  return new Map(names.map((n) => [n, readFileSync(join(root, n))]));
}

/** openssl's own verdict on a bundle's signature, with `pub`. */
function opensslVerifies(bundle: string, pub: string): boolean {
  const root = tempDir();
  execFileSync("tar", ["-xzf", bundle, "-C", root]);
  const d = join(root, "usr/share/migration.d");
  const r = spawnSync("openssl", [
    "pkeyutl",
    "-verify",
    "-pubin",
    "-inkey",
    pub,
    "-rawin",
    "-in",
    join(d, "manifest.tsv"),
    "-sigfile",
    join(d, "manifest.tsv.sig"),
  ]);
  return r.status === 0;
}

describe("a key rotation, end to end", () => {
  it("validates, and plans across the rotation through the transition builds", () => {
    const { graph } = rotation();
    const v = stepstone(["validate", "--graph", graph]);
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("3 signing keys");
    const up = JSON.parse(
      stepstone(["plan", "--graph", graph, "--from", "1.0.0", "--to", "2.0.0", "--format", "json"])
        .stdout,
    );
    expect(up.steps.map((s: { to: string }) => s.to)).toEqual([T1, "2.0.0"]);
    const down = JSON.parse(
      stepstone(["plan", "--graph", graph, "--from", "2.0.0", "--to", "1.0.0", "--format", "json"])
        .stdout,
    );
    expect(down.steps.map((s: { to: string }) => s.to)).toEqual([T2, "1.0.0"]);
    expect(stepstone(["gaps", "--check", "--graph", graph]).code).toBe(0);
  });

  it("bundles a release only with its own key, and carries exactly the keys it trusts", () => {
    const { dir, graph, priv, pub } = rotation();
    const out = join(dir, "out");
    // The new golden with the old key: refused, naming both keys, nothing written.
    const wrong = stepstone([
      "bundle",
      "--graph",
      graph,
      "--release",
      "2.0.0",
      "--out",
      out,
      "--sign",
      join(priv, "a.pem"),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(
      `stepstone: ${join(priv, "a.pem")} is not the key of 2.0.0: ${graph} says 2.0.0 is signedBy "b" (keys/b.pub.pem), and the public half of ${join(priv, "a.pem")} is "a"'s; sign with b's private key\n`,
    );
    expect(existsSync(out)).toBe(false);

    const ok = stepstone([
      "bundle",
      "--graph",
      graph,
      "--release",
      T2,
      "--out",
      out,
      "--sign",
      join(priv, "b.pem"),
    ]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const bundle = join(out, `migration-${T2}.tar.gz`);
    const files = entries(bundle);
    const D = "usr/share/migration.d";
    expect([...files.keys()].filter((n) => n.includes("/keys/"))).toEqual([
      `${D}/keys/a.pem`,
      `${D}/keys/b.pem`,
    ]);
    expect(files.get(`${D}/keys/a.pem`)?.equals(readFileSync(pub("a")))).toBe(true);
    const sha = (id: string) =>
      execFileSync("sha256sum", [pub(id)], { encoding: "utf8" }).split(" ")[0];
    const tsv = files.get(`${D}/manifest.tsv`)?.toString() ?? "";
    expect(tsv.split("\n").filter((l) => l.startsWith("key\t"))).toEqual([
      `key\ta\t${sha("a")}\tkeys/a.pem`,
      `key\tb\t${sha("b")}\tkeys/b.pem`,
    ]);
    // Key lines come after the components and before the scripts.
    expect(tsv).toMatch(/\ncomponent\tusers[^\n]*\nkey\ta\t[^\n]*\nkey\tb\t[^\n]*\nscript\t1\t/);
    expect(JSON.parse(files.get(`${D}/manifest.json`)?.toString() ?? "").keys).toEqual([
      { id: "a", sha256: sha("a"), file: "keys/a.pem" },
      { id: "b", sha256: sha("b"), file: "keys/b.pem" },
    ]);
    expect(opensslVerifies(bundle, pub("b"))).toBe(true);
    expect(opensslVerifies(bundle, pub("a"))).toBe(false);
  });

  it("publish --keys signs each build with its own key; each verifies with it and with --graph", () => {
    const { graph, priv, pub } = rotation();
    const repo = gitRepo();
    // One key for a rotation is refused before anything is written.
    const one = stepstone([
      "publish",
      "--repo",
      repo,
      "--graph",
      graph,
      "--sign",
      join(priv, "a.pem"),
    ]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain(`is not the key of ${T2}`);
    expect(one.stderr).toContain("pass --keys DIR to sign each with its own");
    expect(git(repo, ["tag"])).toBe("");

    const r = stepstone(["publish", "--repo", repo, "--graph", graph, "--keys", priv]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const [t, own, other] of [
      [T1, "a", "b"],
      [T2, "b", "a"],
    ] as const) {
      const bundle = join(repo, t, `migration-${t}.tar.gz`);
      expect(opensslVerifies(bundle, pub(own)), `${t} with ${own}`).toBe(true);
      expect(opensslVerifies(bundle, pub(other)), `${t} with ${other}`).toBe(false);
      expect(stepstone(["verify", bundle, "--key", pub(own)]).code).toBe(0);
      expect(stepstone(["verify", bundle, "--key", pub(other)]).code).toBe(3);
      const v = stepstone(["verify", bundle, "--graph", graph]);
      expect(v.stderr).toBe("");
      expect(v.code).toBe(0);
      expect(v.stdout).toContain(
        `trust store a, b (keys/), every sha256 matches; signature verified with ${own}'s key`,
      );
    }
  });

  it("publish --keys with a key missing exits 2 before anything is written, not even the repository", () => {
    const { dir, graph, priv } = rotation();
    const keys = join(dir, "only-a");
    mkdirSync(keys);
    writeFileSync(join(keys, "a.pem"), readFileSync(join(priv, "a.pem")));
    const repo = join(dir, "transition-builds");
    const r = stepstone(["publish", "--repo", repo, "--graph", graph, "--keys", keys]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stepstone: --keys ${keys}: no b.pem there, the private key of "b" that signs ${T2} (${graph}); add it, nothing was written\n`,
    );
    expect(existsSync(repo)).toBe(false);
  });

  /**
   * On a device, with the bundles the CLI makes and the runner it emits: the old golden
   * 1.0.0 trusts only "a". It accepts the transition (signed with "a"), refuses 2.0.0
   * (signed with "b") with nothing run; the transition, which trusts both, then accepts
   * 2.0.0; each image checks its own bundle with its own trust store at boot.
   */
  describe.each(["dash", "busybox ash"])("on a device, under %s", (shell) => {
    const sh = shell === "dash" ? ["dash"] : ["busybox", "ash"];
    function setUp() {
      const { dir, graph, priv } = rotation();
      const out = join(dir, "bundles");
      for (const [v, k] of [
        ["1.0.0", "a"],
        [T1, "a"],
        ["2.0.0", "b"],
      ] as const) {
        const r = stepstone([
          "bundle",
          "--graph",
          graph,
          "--release",
          v,
          "--out",
          out,
          "--sign",
          join(priv, `${k}.pem`),
        ]);
        expect(r.code, r.stderr).toBe(0);
      }
      const root = join(dir, "device");
      expect(stepstone(["runner", "--out", root, "--graph", graph]).code).toBe(0);
      mkdirSync(join(root, "run"));
      mkdirSync(join(root, "etc"));
      writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
      const flash = (v: string) => {
        spawnSync("rm", ["-rf", join(root, "usr/share/migration.d")]);
        execFileSync("tar", ["-xzf", join(out, `migration-${v}.tar.gz`), "-C", root]);
      };
      const runner = (...args: string[]) => {
        const r = spawnSync(
          sh[0] as string,
          [...sh.slice(1), join(root, "usr/libexec/migration/runner"), "--root", root, ...args],
          { encoding: "utf8" },
        );
        return { code: r.status, stderr: r.stderr };
      };
      const bundle = (v: string) => join(out, `migration-${v}.tar.gz`);
      return { root, flash, runner, bundle };
    }

    it("walks 1.0.0 -> transition -> 2.0.0; 1.0.0 refuses 2.0.0 directly (exit 3, nothing run)", () => {
      const { root, flash, runner, bundle } = setUp();
      flash("1.0.0");
      expect(runner("boot")).toEqual({ code: 0, stderr: "" });
      const direct = runner("pre-flash", "--target", bundle("2.0.0"));
      expect(direct.code).toBe(3);
      expect(direct.stderr).toMatch(
        /target: manifest\.tsv\.sig does not verify with any key the image trusts \(a\): nothing run/,
      );
      expect(runner("pre-flash", "--target", bundle(T1))).toEqual({ code: 0, stderr: "" });
      flash(T1);
      expect(runner("boot")).toEqual({ code: 0, stderr: "" });
      expect(runner("pre-flash", "--target", bundle("2.0.0"))).toEqual({ code: 0, stderr: "" });
      flash("2.0.0");
      expect(runner("boot")).toEqual({ code: 0, stderr: "" });
      expect(readFileSync(join(root, "var/lib/migration/epoch/users"), "utf8")).toBe("2\n");
      expect(readFileSync(join(root, "var/lib/migration/journal"), "utf8")).toMatch(
        /run users-1-2 \(users 1->2, boot\)/,
      );
    });

    it.each([
      ["keys/x.pub", (k: string) => writeFileSync(join(k, "x.pub"), "not a key")],
      ["a dangling link", (k: string) => symlinkSync("/nonexistent/b.pem", join(k, "b.pem"))],
      [
        "an extra key",
        (k: string) => writeFileSync(join(k, "lab.pem"), readFileSync(join(k, "a.pem"))),
      ],
    ])("fails closed on %s in the image's keys/ (exit 3, nothing run)", (_what, edit) => {
      const { root, flash, runner, bundle } = setUp();
      flash("1.0.0");
      edit(join(root, "usr/share/migration.d/keys"));
      expect(runner("pre-flash", "--target", bundle(T1)).code).toBe(3);
      expect(existsSync(join(root, "var/lib/migration/applied"))).toBe(false);
    });
  });
});
