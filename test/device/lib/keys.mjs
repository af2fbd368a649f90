// Signing keys of the device stage, one set per key id of a graph (`signedBy`, `trusts`):
// an ed25519 key pair that signs the release's stepstone bundle (manifest.tsv.sig; the
// runner checks it with the public keys its own image carries) and an X.509 certificate
// with its key that signs the release's RAUC bundle (RAUC checks it against the keyring
// of the running image: the certificates of the keys it trusts). So a key rotation is
// enforced twice on the device, by the updater and by the runner, as on a product.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { must } from "../../powercut/lib/assets.mjs";

/** Keys of ID under DIR, made once: { id, ed25519: {key, pub}, x509: {key, cert} }. */
export function ensureKey(dir, id) {
  const d = join(dir, id);
  const k = {
    id,
    ed25519: { key: join(d, "ed25519.pem"), pub: join(d, "ed25519.pub.pem") },
    x509: { key: join(d, "rauc.key.pem"), cert: join(d, "rauc.cert.pem") },
  };
  if (existsSync(k.x509.cert)) return k;
  mkdirSync(d, { recursive: true });
  must("openssl", ["genpkey", "-algorithm", "ed25519", "-out", k.ed25519.key]);
  must("openssl", ["pkey", "-in", k.ed25519.key, "-pubout", "-out", k.ed25519.pub]);
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
