import { createPublicKey, type KeyObject } from "node:crypto";
import { type Diagnostic, InputError, systemCode, systemReason } from "@stepstone/errors";
import { jsonPath, type ReleaseGraph, type SigningKey } from "@stepstone/graph";
import { readScript } from "./read-script.js";

/** A key of the graph, read: the PEM bytes as the file holds them (what a bundle carries). */
export interface PublicKey {
  readonly id: string;
  readonly pem: Buffer;
  readonly key: KeyObject;
}

/**
 * The public key of a `keys` entry: a file inside the graph's folder (links resolved, as
 * for scripts) holding an ed25519 public key in PEM. Throws InputError with a message
 * that names the file and the fix (no "FILE: path:" prefix: callers add it).
 */
export function readPublicKey(root: string, key: SigningKey): PublicKey {
  let pem: Buffer;
  try {
    pem = readScript(root, key.public);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = systemCode(e);
    throw new InputError(
      code === "ENOENT"
        ? `${key.public}: no such file (relative to ${root}); write the public key there (openssl pkey -in PRIVATE.pem -pubout -out ${key.public})`
        : `${key.public}: cannot read: ${systemReason(e)}`,
    );
  }
  const text = pem.toString("latin1");
  // createPublicKey would take a private key too (and derive its public half): a private
  // key committed next to the graph must be an error, never a working configuration.
  if (text.includes("PRIVATE KEY-----"))
    throw new InputError(
      `${key.public}: holds a private key; keep it out of the repository and write only its public half there (openssl pkey -in PRIVATE.pem -pubout -out ${key.public})`,
    );
  let k: KeyObject;
  try {
    if (!text.includes("-----BEGIN PUBLIC KEY-----")) throw new Error("no PEM public key");
    k = createPublicKey(pem);
  } catch {
    throw new InputError(
      `${key.public}: not a PEM public key (make one with: openssl pkey -in PRIVATE.pem -pubout -out ${key.public})`,
    );
  }
  if (k.asymmetricKeyType !== "ed25519")
    throw new InputError(
      `${key.public}: a ${k.asymmetricKeyType} key; stepstone signs with ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  return { id: key.id, pem, key: k };
}

/** Every key file of the graph: one diagnostic per unreadable or wrong file. */
export function checkKeyFiles(graph: ReleaseGraph, root: string, file: string): Diagnostic[] {
  const errors: Diagnostic[] = [];
  for (const key of graph.keys?.values() ?? []) {
    try {
      readPublicKey(root, key);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push({ file, where: jsonPath(["keys", key.id, "public"]), message: e.message });
    }
  }
  return errors;
}

/**
 * A key's public half as DER (SubjectPublicKeyInfo), derived from a private key: what
 * two keys are compared by (never their files' bytes, which differ in PEM layout).
 */
export function publicDer(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return pub.export({ format: "der", type: "spki" });
}
