import type { KeyObject } from "node:crypto";
import { InputError } from "@stepstone/errors";
import { jsonPath, type Release } from "@stepstone/graph";
import { displayPath, type LoadedGraph } from "@stepstone/graph-file";
import { type PublicKey, publicDer, readPublicKey } from "@stepstone/graph-file/keys";
import { readPrivateKey } from "./sign.js";

/** How one release's bundle is signed, and the trust store its image carries. */
export interface Signing {
  /** The private key manifest.tsv is signed with; null: unsigned. */
  readonly key: KeyObject | null;
  /** The keys the image trusts (the release's `trusts`), carried as keys/<id>.pem. */
  readonly trust: readonly PublicKey[];
  /** What the user must be told on stderr (an explicit --unsigned of a signed release). */
  readonly notices: readonly string[];
}

export const UNSIGNED: Signing = { key: null, trust: [], notices: [] };

export interface SigningOptions {
  /** The private key file (`--sign`). */
  readonly sign?: string;
  /** `--unsigned`: a development bundle of a release the graph says is signed. */
  readonly unsigned?: boolean;
}

/**
 * The rules of `keys` for one release's bundle. Without `keys` in the graph, key names are
 * labels: any ed25519 key signs, nothing else is checked, no trust store is carried. With
 * `keys`: the private key's public half must be the release's `signedBy` key, a signed
 * release is bundled only with a key or an explicit `unsigned`, and a signed bundle
 * carries the public keys of the release's `trusts`. Throws InputError (exit 2).
 */
export function signingFor(
  loaded: LoadedGraph,
  release: Release,
  opts: SigningOptions,
  /** How the private key is asked for in messages (`--sign KEY.pem`, `--keys DIR`). */
  option = "--sign",
): Signing {
  if (opts.sign !== undefined && opts.unsigned === true)
    throw new InputError(`${option} and --unsigned together: choose one`);
  const keys = loaded.graph.keys;
  const graphName = displayPath(loaded.file);
  const v = release.version;
  if (keys === null) {
    return opts.sign === undefined ? UNSIGNED : { ...UNSIGNED, key: readPrivateKey(opts.sign) };
  }
  const own = release.signedBy === null ? undefined : keys.get(release.signedBy);
  if (opts.unsigned === true) {
    const signed = own !== undefined || (release.trusts?.length ?? 0) > 0;
    return {
      ...UNSIGNED,
      notices: signed
        ? [
            `${v}: unsigned bundle (--unsigned), without keys/: an image built with it accepts any target bundle; for development only`,
          ]
        : [],
    };
  }
  if (opts.sign === undefined) {
    if (own === undefined) return UNSIGNED;
    throw new InputError(
      `${v} is signed by "${own.id}" (${graphName}: keys.${own.id}, ${own.public}): pass --sign with its private key, or --unsigned for a development bundle its image would not check`,
    );
  }
  if (own === undefined)
    throw new InputError(
      `${opts.sign}: ${v} has no signedBy in ${graphName}, so no key can sign it: set its signedBy (and trusts) to one of the graph's keys, or bundle it without ${option}`,
    );
  const key = readPrivateKey(opts.sign);
  const pub = graphKey(loaded, own.id);
  if (!publicDer(key).equals(publicDer(pub.key))) {
    // Only a hint (which key it is): a broken key file is validate's to report, and
    // here it merely cannot be the match.
    const actual = [...keys.values()].find((k) => {
      try {
        return publicDer(graphKey(loaded, k.id).key).equals(publicDer(key));
      } catch {
        return false;
      }
    });
    throw new InputError(
      `${opts.sign} is not the key of ${v}: ${graphName} says ${v} is signedBy "${own.id}" (${own.public}), and the public half of ${opts.sign} is ${actual === undefined ? "no key of the graph" : `"${actual.id}"'s`}; sign with ${own.id}'s private key`,
    );
  }
  return { key, trust: (release.trusts ?? []).map((id) => graphKey(loaded, id)), notices: [] };
}

/** A key of the graph, read; its problems worded as the graph file's. */
export function graphKey(loaded: LoadedGraph, id: string): PublicKey {
  const key = loaded.graph.keys?.get(id);
  const file = displayPath(loaded.file);
  if (key === undefined) throw new InputError(`${file}: keys: no key "${id}"`);
  try {
    return readPublicKey(loaded.root, key);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(`${file}: ${jsonPath(["keys", id, "public"])}: ${e.message}`);
  }
}
