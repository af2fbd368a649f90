import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { InputError, systemReason } from "@stepstone/errors";

/**
 * Ed25519 over the bytes of manifest.tsv, as OpenSSL 3 checks it on the device:
 * `openssl pkeyutl -verify -pubin -inkey PUB -rawin -in manifest.tsv -sigfile SIG`.
 * The manifest lists every script's and key's sha256, so the signature covers them all.
 */
export function signManifest(tsv: string, key: string | KeyObject): Buffer {
  return sign(null, Buffer.from(tsv), typeof key === "string" ? readPrivateKey(key) : key);
}

export function verifyManifest(tsv: Buffer, sig: Buffer, key: string | KeyObject): boolean {
  return verify(null, tsv, typeof key === "string" ? readKey(key, "public") : key, sig);
}

/** An ed25519 private key in PEM; InputError (exit 2) naming the file otherwise. */
export function readPrivateKey(file: string): KeyObject {
  return readKey(file, "private");
}

function readKey(file: string, kind: "private" | "public"): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read the ${kind} key: ${systemReason(e)}`);
  }
  let key: KeyObject;
  try {
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new InputError(
      kind === "private"
        ? `${file}: not a PEM private key (make one with: openssl genpkey -algorithm ed25519 -out key.pem)`
        : `${file}: not a PEM public key (its private key gives it: openssl pkey -in key.pem -pubout -out pub.pem)`,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new InputError(
      `${file}: a ${key.asymmetricKeyType} key; bundles are signed with ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}
