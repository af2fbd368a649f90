import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { stepstone } from "../helpers/cli.js";

/**
 * The graph's `keys`: what validate requires of them, what bundle does with them, what
 * verify checks of the trust store a bundle carries. Real openssl makes every key.
 */

type Json = Record<string, unknown>;
const D = "usr/share/migration.d";

function genkey(dir: string, id: string, algorithm = "ed25519"): { key: string; pub: string } {
  mkdirSync(join(dir, "keys"), { recursive: true });
  const key = join(dir, `${id}.pem`);
  const pub = join(dir, "keys", `${id}.pub.pem`);
  const opts = algorithm === "RSA" ? ["-pkeyopt", "rsa_keygen_bits:2048"] : [];
  execFileSync("openssl", ["genpkey", "-algorithm", algorithm, ...opts, "-out", key]);
  execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-out", pub]);
  return { key, pub };
}

/** A folder with a one-script graph whose releases are given; keys k1 and k2 made. */
function workspace(releases: Json[], extra: Json = {}) {
  const dir = tempDir();
  const k1 = genkey(dir, "k1");
  const k2 = genkey(dir, "k2");
  mkdirSync(join(dir, "m"));
  writeFileSync(join(dir, "m/up.sh"), "#!/bin/sh\nset -eu\n");
  const graph = join(dir, "release-graph.json");
  writeFileSync(
    graph,
    JSON.stringify({
      schemaVersion: 1,
      keys: { k1: { public: "keys/k1.pub.pem" }, k2: { public: "keys/k2.pub.pem" } },
      components: { users: { paths: ["etc/passwd"] } },
      releases,
      migrations: [
        { id: "up", component: "users", from: 1, to: 2, script: "m/up.sh", shippedIn: ">=2.0.0" },
      ],
      ...extra,
    }),
  );
  return { dir, graph, k1, k2 };
}

const signed = (version: string, key: string, trusts = [key]): Json => ({
  version,
  epochs: { users: version.startsWith("1.") ? 1 : 2 },
  signedBy: key,
  trusts,
});

describe("validate with keys", () => {
  it("reports every key problem at once, each as FILE: path: message, exit 2", () => {
    const { dir, graph } = workspace([
      signed("1.0.0", "k1"),
      signed("1.1.0", "k3"),
      { ...signed("1.2.0", "k1"), trusts: ["k1", "kk2"] },
      { ...signed("2.0.0", "k2"), trusts: ["k1"] },
      { version: "2.1.0", epochs: { users: 2 }, trusts: ["k2"] },
      { version: "2.2.0", epochs: { users: 2 }, signedBy: "k2" },
    ]);
    const g = JSON.parse(readFileSync(graph, "utf8"));
    // A missing file, an RSA key, a private key committed by mistake, a path outside the
    // folder, an id that cannot be a file name on the device.
    genkey(dir, "rsa", "RSA");
    writeFileSync(join(dir, "keys/private.pem"), readFileSync(join(dir, "k1.pem")));
    Object.assign(g.keys, {
      gone: { public: "keys/gone.pub.pem" },
      rsa: { public: "keys/rsa.pub.pem" },
      private: { public: "keys/private.pem" },
      outside: { public: "../k1.pub.pem" },
      "bad/id": { public: "keys/k1.pub.pem" },
    });
    writeFileSync(graph, JSON.stringify(g, null, 2));
    const r = stepstone(["validate", "--graph", graph]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    const f = graph;
    expect(lines).toEqual([
      `stepstone: ${f}: keys.outside.public: "../k1.pub.pem" must be a relative path inside the graph's folder (no "..", not absolute)`,
      `stepstone: ${f}: keys["bad/id"]: key id must match ^[A-Za-z0-9][A-Za-z0-9._-]*$ (it is the key's file name on the device, keys/<id>.pem)`,
      `stepstone: ${f}: releases[1].signedBy: unknown key "k3" (did you mean "k1"?): add it to "keys" (with its public key file) or name one of "k1", "k2", "gone", "rsa", "private", "outside", "bad/id"`,
      `stepstone: ${f}: releases[1].trusts[0]: unknown key "k3" (did you mean "k1"?): add it to "keys" (with its public key file) or name one of "k1", "k2", "gone", "rsa", "private", "outside", "bad/id"`,
      `stepstone: ${f}: releases[2].trusts[1]: unknown key "kk2" (did you mean "k2"?): add it to "keys" (with its public key file) or name one of "k1", "k2", "gone", "rsa", "private", "outside", "bad/id"`,
      `stepstone: ${f}: releases[3].trusts: does not list the release's own key "k2": its image checks its own bundle's signature with these keys at boot; add "k2"`,
      `stepstone: ${f}: releases[4].signedBy: missing: this release has the runner and trusts keys, so its image checks its own bundle's signature at boot; an unsigned bundle could never pass: set signedBy (or remove trusts)`,
      `stepstone: ${f}: releases[5].trusts: missing: a release signed with "k2" must trust its own key (its image checks its own bundle with its trust store); add "trusts": ["k2"]`,
    ]);
    // Once the graph itself is right, the key files are checked, all of them at once.
    g.releases = [signed("1.0.0", "k1"), signed("2.0.0", "k2")];
    delete g.keys["bad/id"];
    delete g.keys.outside;
    writeFileSync(graph, JSON.stringify(g, null, 2));
    const files = stepstone(["validate", "--graph", graph]);
    expect(files.code).toBe(2);
    expect(files.stderr.trim().split("\n")).toEqual([
      `stepstone: ${f}: keys.gone.public: keys/gone.pub.pem: no such file (relative to ${dir}); write the public key there (openssl pkey -in PRIVATE.pem -pubout -out keys/gone.pub.pem)`,
      `stepstone: ${f}: keys.rsa.public: keys/rsa.pub.pem: a rsa key; stepstone signs with ed25519 (openssl genpkey -algorithm ed25519)`,
      `stepstone: ${f}: keys.private.public: keys/private.pem: holds a private key; keep it out of the repository and write only its public half there (openssl pkey -in PRIVATE.pem -pubout -out keys/private.pem)`,
    ]);
  });

  it("refuses a key file that is a link out of the graph's folder", () => {
    const { dir, graph } = workspace([signed("1.0.0", "k1")]);
    const elsewhere = tempDir();
    genkey(elsewhere, "x");
    symlinkSync(join(elsewhere, "keys/x.pub.pem"), join(dir, "keys/link.pub.pem"));
    const g = JSON.parse(readFileSync(graph, "utf8"));
    g.keys.k1.public = "keys/link.pub.pem";
    writeFileSync(graph, JSON.stringify(g));
    const r = stepstone(["validate", "--graph", graph]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `keys.k1.public: keys/link.pub.pem: resolves outside the graph's folder`,
    );
  });

  it("without keys, warns once that signatures cannot be checked against the graph", () => {
    const { graph } = workspace([signed("1.0.0", "k1"), signed("2.0.0", "k2")]);
    const g = JSON.parse(readFileSync(graph, "utf8"));
    delete g.keys;
    writeFileSync(graph, JSON.stringify(g));
    const r = stepstone(["validate", "--graph", graph]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warning: ${graph}: no "keys": signedBy and trusts are labels that no public key backs, so bundles cannot be checked against the graph (add "keys": {"<id>": {"public": "keys/<id>.pub.pem"}})\n`,
    );
    // A graph that names no key at all has nothing to check: no warning.
    g.releases = [{ version: "1.0.0", epochs: { users: 1 } }];
    writeFileSync(graph, JSON.stringify(g));
    expect(stepstone(["validate", "--graph", graph]).stderr).toBe("");
  });

  it("warns about a release without signedBy among signed releases (after them too)", () => {
    const { graph } = workspace([
      signed("1.0.0", "k1"),
      { version: "1.1.0", epochs: { users: 1 } },
      signed("2.0.0", "k2"),
      { version: "2.1.0", epochs: { users: 2 } },
    ]);
    const r = stepstone(["validate", "--graph", graph]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      `warning: ${graph}: releases[1]: 1.1.0 has no signedBy, but 1.0.0 (k1) before it and 2.0.0 (k2) after it are signed: set its signedBy and trusts (sync gives a new release those of the release before it)`,
      `warning: ${graph}: releases[3]: 2.1.0 has no signedBy, but 2.0.0 before it is signed (by k2): set its signedBy and trusts (sync gives a new release those of the release before it)`,
    ]);
  });
});

describe("bundle with keys", () => {
  const bundle = (graph: string, version: string, ...args: string[]) => {
    const out = join(tempDir(), "out");
    return {
      out,
      file: join(out, `migration-${version}.tar.gz`),
      ...stepstone(["bundle", "--graph", graph, "--release", version, "--out", out, ...args]),
    };
  };
  const list = (file: string) =>
    execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n");

  it("refuses a signed release without --sign, and a key that is not its signedBy, writing nothing", () => {
    const { graph, k1, k2 } = workspace([signed("2.0.0", "k2")]);
    const none = bundle(graph, "2.0.0");
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `stepstone: 2.0.0 is signed by "k2" (${graph}: keys.k2, keys/k2.pub.pem): pass --sign with its private key, or --unsigned for a development bundle its image would not check\n`,
    );
    expect(existsSync(none.out)).toBe(false);
    const wrong = bundle(graph, "2.0.0", "--sign", k1.key);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(
      `stepstone: ${k1.key} is not the key of 2.0.0: ${graph} says 2.0.0 is signedBy "k2" (keys/k2.pub.pem), and the public half of ${k1.key} is "k1"'s; sign with k2's private key\n`,
    );
    expect(existsSync(wrong.out)).toBe(false);
    // A key that is not even in the graph, and one that is no key at all.
    const stranger = genkey(tempDir(), "stranger");
    expect(bundle(graph, "2.0.0", "--sign", stranger.key).stderr).toContain(
      `the public half of ${stranger.key} is no key of the graph; sign with k2's private key`,
    );
    const junk = bundle(graph, "2.0.0", "--sign", k2.pub);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toBe(
      `stepstone: ${k2.pub}: not a PEM private key (make one with: openssl genpkey -algorithm ed25519 -out key.pem)\n`,
    );
    const right = bundle(graph, "2.0.0", "--sign", k2.key);
    expect(right.stderr).toBe("");
    expect(right.code).toBe(0);
    expect(list(right.file)).toContain(`${D}/keys/k2.pem`);
  });

  it("--unsigned writes no keys/ and no key lines, and says the image would accept any bundle", () => {
    const { graph, k2 } = workspace([signed("2.0.0", "k2")]);
    const r = bundle(graph, "2.0.0", "--unsigned");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "note: 2.0.0: unsigned bundle (--unsigned), without keys/: an image built with it accepts any target bundle; for development only\n",
    );
    expect(r.stdout).toContain("not signed");
    const names = list(r.file);
    expect(names.filter((n) => n.includes("keys/") || n.endsWith(".sig"))).toEqual([]);
    const tsv = execFileSync("tar", ["-xzOf", r.file, `${D}/manifest.tsv`], { encoding: "utf8" });
    expect(tsv).not.toMatch(/^key\t/m);
    expect(bundle(graph, "2.0.0", "--unsigned", "--sign", k2.key).code).toBe(2);
  });

  it("refuses --sign for a release the graph does not sign; bundles it unsigned without", () => {
    const { graph, k1 } = workspace([{ version: "2.0.0", epochs: { users: 2 } }]);
    const r = bundle(graph, "2.0.0", "--sign", k1.key);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stepstone: ${k1.key}: 2.0.0 has no signedBy in ${graph}, so no key can sign it: set its signedBy (and trusts) to one of the graph's keys, or bundle it without --sign\n`,
    );
    const plain = bundle(graph, "2.0.0");
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
  });

  it("without keys in the graph, signs with any key as before and carries no trust store", () => {
    const { graph, k1 } = workspace([signed("2.0.0", "k2")]);
    const g = JSON.parse(readFileSync(graph, "utf8"));
    delete g.keys;
    writeFileSync(graph, JSON.stringify(g));
    const r = bundle(graph, "2.0.0", "--sign", k1.key);
    expect(r.code).toBe(0);
    expect(list(r.file).filter((n) => n.includes("keys/"))).toEqual([]);
    expect(stepstone(["verify", r.file, "--key", k1.pub]).code).toBe(0);
    // verify --graph needs the graph's keys to know which key to use.
    const v = stepstone(["verify", r.file, "--graph", graph]);
    expect(v.code).toBe(2);
    expect(v.stderr).toBe(
      `stepstone: ${graph} has no "keys", so it names no public key to verify with: add "keys" to it, or pass --key PUB.pem\n`,
    );
  });
});

describe("verify checks the trust store like scripts", () => {
  /** A good signed bundle of a release trusting both keys, extracted into a folder. */
  function good() {
    const w = workspace([signed("2.0.0", "k2", ["k1", "k2"])]);
    const out = join(w.dir, "out");
    const r = stepstone([
      "bundle",
      "--graph",
      w.graph,
      "--release",
      "2.0.0",
      "--out",
      out,
      "--sign",
      w.k2.key,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const file = join(out, "migration-2.0.0.tar.gz");
    const root = tempDir();
    execFileSync("tar", ["-xzf", file, "-C", root]);
    /** Packs the (tampered) folder again, as GNU tar would. */
    const repack = () => {
      const bad = join(tempDir(), "bad.tar.gz");
      execFileSync("tar", ["-czf", bad, "-C", root, D]);
      return bad;
    };
    return { ...w, file, root, repack };
  }

  it("accepts the bundle as written, with --key and with --graph", () => {
    const { file, graph, k2 } = good();
    expect(stepstone(["verify", file, "--key", k2.pub]).code).toBe(0);
    const v = stepstone(["verify", file, "--graph", graph, "--format", "json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      ok: true,
      keys: ["k1", "k2"],
      signature: "verified",
    });
  });

  it.each([
    [
      "a changed key",
      (root: string) =>
        writeFileSync(join(root, D, "keys/k1.pem"), readFileSync(join(root, D, "keys/k2.pem"))),
      `${D}/keys/k1.pem: sha256`,
    ],
    [
      "a missing key",
      (root: string) => execFileSync("rm", [join(root, D, "keys/k1.pem")]),
      `${D}/keys/k1.pem: listed in the manifest (key k1) but missing`,
    ],
    [
      "an extra key",
      (root: string) => writeFileSync(join(root, D, "keys/evil.pem"), "x"),
      `${D}/keys/evil.pem: not in the manifest (a device trusts only the keys it lists)`,
    ],
    [
      "a key in a subfolder",
      (root: string) => {
        mkdirSync(join(root, D, "keys/sub"));
        writeFileSync(join(root, D, "keys/sub/k.pem"), "x");
      },
      `${D}/keys/sub/k.pem: outside ${D}/`,
    ],
  ])("exits 3 on %s, with or without a key", (_name, tamper, message) => {
    const { root, repack, k2 } = good();
    tamper(root);
    const bad = repack();
    for (const args of [[], ["--key", k2.pub]]) {
      const r = stepstone(["verify", bad, ...args]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(message);
    }
  });

  it("with --graph, exits 3 when the bundle's trust store is not what the graph says", () => {
    const { file, graph } = good();
    const g = JSON.parse(readFileSync(graph, "utf8"));
    g.releases[0].trusts = ["k2"];
    writeFileSync(graph, JSON.stringify(g));
    const r = stepstone(["verify", file, "--graph", graph]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `${D}/keys: the bundle trusts k1, k2, but ${graph} says 2.0.0 trusts k2 (with the key files it names)`,
    );
  });
});
