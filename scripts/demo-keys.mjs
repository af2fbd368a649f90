// The private halves of the DEMO keys named by the bundled release-graph.json, derived
// on the spot so that no private key is ever committed (keys/*.pub.pem are their public
// halves). Each seed is public knowledge, sha256("stepstone demo key " + id): anyone can
// sign with these keys. They exist so the main job and the tests can sign the sample's
// bundles; never use them, or this scheme, for a real product.
//
//   node scripts/demo-keys.mjs OUTDIR   writes OUTDIR/<id>.pem (mode 0600) for every key
//                                       of the bundled release-graph.json
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// An ed25519 private key in PKCS#8 DER is this fixed prefix and the 32-byte seed.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/** The demo key `id` (a KeyObject), from its documented seed. */
export function demoKey(id) {
  const seed = createHash("sha256").update(`stepstone demo key ${id}`).digest();
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** Its private half in PEM (PKCS#8), as `openssl genpkey -algorithm ed25519` writes one. */
export function demoPrivatePem(id) {
  return demoKey(id).export({ format: "pem", type: "pkcs8" });
}

/** Its public half in PEM, as `openssl pkey -pubout` writes it (what keys/<id>.pub.pem holds). */
export function demoPublicPem(id) {
  return createPublicKey(demoKey(id)).export({ format: "pem", type: "spki" });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write("usage: node scripts/demo-keys.mjs OUTDIR\n");
    process.exit(2);
  }
  const graph = JSON.parse(readFileSync(new URL("../release-graph.json", import.meta.url), "utf8"));
  mkdirSync(out, { recursive: true });
  for (const id of Object.keys(graph.keys ?? {})) {
    const file = join(out, `${id}.pem`);
    writeFileSync(file, demoPrivatePem(id), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
}
