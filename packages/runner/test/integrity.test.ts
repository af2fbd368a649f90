/**
 * Integrity: a bundle whose scripts, manifest or signature do not check out runs nothing
 * and exits 3, under busybox ash and dash. Keys and signatures are real ed25519 (openssl).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  runRunner,
  runs,
  SHELLS,
  signManifest,
  tempDir,
} from "./helpers.js";

let k1: KeyPair;
let k2: KeyPair;
beforeAll(() => {
  const dir = tempDir("stepstone-keys-");
  k1 = makeKeyPair(dir, "k1");
  k2 = makeKeyPair(dir, "k2");
});

function bundle(signWith?: KeyPair): BundleSpec {
  return {
    release: "2.10.0",
    components: [{ name: "users", epoch: 3, paths: ["etc/passwd"] }],
    scripts: chain("users", 1, 3),
    ...(signWith ? { signWith } : {}),
  };
}

describe.each(SHELLS)("integrity under %s", (shell) => {
  async function signedRoot() {
    const t = await makeRoot({ bundle: bundle(k1), keys: [k2, k1] });
    putData(t, "etc/passwd");
    return t;
  }

  function expectRefused(t: Awaited<ReturnType<typeof makeRoot>>, pattern: RegExp) {
    const r = runRunner(t, shell, ["boot"]);
    expect(r.stderr).toMatch(pattern);
    expect(r.status).toBe(3);
    expect(runs(t)).toEqual([]);
    expect(listState(t, "applied")).toEqual([]);
    expect(readState(t, "epoch/users")).toBeUndefined();
  }

  it("runs a bundle signed with one of the installed keys", async () => {
    const t = await signedRoot();
    const r = runRunner(t, shell, ["boot"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(runs(t)).toHaveLength(2);
  });

  it("refuses a script changed after the manifest was made", async () => {
    const t = await signedRoot();
    const f = join(t.bundleDir, "0002-users-2-3-users-2-3.sh");
    writeFileSync(f, `${readFileSync(f, "utf8")}echo evil\n`);
    expectRefused(t, /the sha256 of 0002-users-2-3-users-2-3\.sh does not match manifest\.tsv/);
  });

  it("refuses a manifest changed after it was signed", async () => {
    const t = await signedRoot();
    const m = join(t.bundleDir, "manifest.tsv");
    writeFileSync(m, readFileSync(m, "utf8").replace("\t3\t1\thalt", "\t4\t1\thalt"));
    expectRefused(t, /manifest\.tsv\.sig does not verify with any key/);
  });

  it("refuses a manifest signed with a key the image does not trust", async () => {
    const t = await makeRoot({ bundle: bundle(k2), keys: [k1] });
    putData(t, "etc/passwd");
    expectRefused(t, /does not verify with any key/);
  });

  it("refuses an unsigned manifest when keys are installed", async () => {
    const t = await makeRoot({ bundle: bundle(), keys: [k1] });
    putData(t, "etc/passwd");
    expectRefused(t, /manifest\.tsv\.sig is missing/);
  });

  it("refuses a bundle with a script the manifest does not list", async () => {
    const t = await signedRoot();
    const extra = join(t.bundleDir, "0003-users-3-4-sneaky.sh");
    writeFileSync(extra, '#!/bin/sh\necho sneaky >> "$MIGRATION_ROOT/runs"\n');
    chmodSync(extra, 0o755);
    expectRefused(t, /0003-users-3-4-sneaky\.sh is not listed in manifest\.tsv/);
  });

  it("refuses a bundle whose listed script is missing", async () => {
    const t = await signedRoot();
    rmSync(join(t.bundleDir, "0001-users-1-2-users-1-2.sh"));
    expectRefused(t, /is listed in manifest\.tsv but missing/);
  });

  it("refuses a tampered bundle without keys too (the sha256s still count)", async () => {
    const t = await makeRoot({ bundle: bundle() });
    putData(t, "etc/passwd");
    const f = join(t.bundleDir, "0001-users-1-2-users-1-2.sh");
    writeFileSync(f, '#!/bin/sh\necho evil >> "$MIGRATION_ROOT/runs"\n');
    expectRefused(t, /does not match/);
  });

  it("refuses an unexpected directory in the bundle", async () => {
    const t = await signedRoot();
    mkdirSync(join(t.bundleDir, "more"));
    expectRefused(t, /unexpected directory more/);
  });

  it("refuses files without a manifest", async () => {
    const t = await signedRoot();
    rmSync(join(t.bundleDir, "manifest.tsv"));
    expectRefused(t, /holds files but no manifest\.tsv/);
  });

  it("status refuses a tampered bundle as well", async () => {
    const t = await signedRoot();
    const m = join(t.bundleDir, "manifest.tsv");
    writeFileSync(m, `${readFileSync(m, "utf8")}# appended\n`);
    expect(runRunner(t, shell, ["status", "--json"]).status).toBe(3);
  });

  it("accepts a re-signed manifest (the signature covers exactly manifest.tsv)", async () => {
    const t = await signedRoot();
    const m = join(t.bundleDir, "manifest.tsv");
    writeFileSync(m, `${readFileSync(m, "utf8")}# a comment line\n`);
    signManifest(t.bundleDir, k2);
    expect(runRunner(t, shell, ["boot"]).status).toBe(0);
  });
});
