import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { InputError } from "@stepstone/errors";

/**
 * Ed25519 over the bytes of manifest.tsv, as OpenSSL 3 checks it on the device:
 * `openssl pkeyutl -verify -pubin -inkey PUB -rawin -in manifest.tsv -sigfile SIG`.
 * The manifest lists every script's sha256, so the signature covers them all.
 */
export function signManifest(tsv: string, keyFile: string): Buffer {
  return sign(null, Buffer.from(tsv), readKey(keyFile, "private"));
}

export function verifyManifest(tsv: Buffer, sig: Buffer, keyFile: string): boolean {
  return verify(null, tsv, readKey(keyFile, "public"), sig);
}

function readKey(file: string, kind: "private" | "public"): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new InputError(
      `${file}: cannot read the ${kind} key: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  let key: KeyObject;
  try {
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new InputError(
      `${file}: not a PEM ${kind} key (make one with: openssl genpkey -algorithm ed25519 -out key.pem)`,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new InputError(
      `${file}: a ${key.asymmetricKeyType} key; bundles are signed with ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}
