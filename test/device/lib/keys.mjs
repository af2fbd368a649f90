// Signing keys of the device stage, one set per key id of a graph (`signedBy`, `trusts`):
// an ed25519 key pair (the repository's demo keys, derived from a published seed) that signs the release's stepstone bundle (manifest.tsv.sig; the
// runner checks it with the public keys its own image carries) and an X.509 certificate
// with its key that signs the release's RAUC bundle (RAUC checks it against the keyring
// of the running image: the certificates of the keys it trusts). So a key rotation is
// enforced twice on the device, by the updater and by the runner, as on a product.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { demoPrivatePem, demoPublicPem } from "../../../scripts/demo-keys.mjs";
import { must } from "../../powercut/lib/assets.mjs";

/** Keys of ID under DIR, made once: { id, ed25519: {key, pub}, x509: {key, cert} }. */
export function ensureKey(dir, id) {
  const d = join(dir, id);
  const k = {
    id,
    ed25519: { key: join(d, "ed25519.pem"), pub: join(d, "ed25519.pub.pem") },
    x509: { key: join(d, "rauc.key.pem"), cert: join(d, "rauc.cert.pem") },
  };
  if (existsSync(k.x509.cert) && existsSync(k.ed25519.pub)) return k;
  mkdirSync(d, { recursive: true });
  // The repository's demo-key scheme (scripts/demo-keys.mjs): for the bundled graph's ids
  // these are the keys whose public halves keys/*.pub.pem holds.
  writeFileSync(k.ed25519.key, demoPrivatePem(id), { mode: 0o600 });
  writeFileSync(k.ed25519.pub, demoPublicPem(id));
  must("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    k.x509.key,
    "-out",
    k.x509.cert,
    "-days",
    "3650",
    "-subj",
    `/O=stepstone device stage/CN=${id}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,digitalSignature,keyCertSign",
  ]);
  return k;
}
