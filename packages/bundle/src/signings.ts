import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "@stepstone/errors";
import type { Release } from "@stepstone/graph";
import { displayPath, type LoadedGraph } from "@stepstone/graph-file";
import { type Signing, signingFor } from "./keys.js";

export interface BatchSigningOptions {
  /** One private key for every release (`--sign`; a graph with one key). */
  readonly sign?: string;
  /** A folder of private keys: each release is signed with `<folder>/<signedBy>.pem`. */
  readonly keys?: string;
  /** `--unsigned`: development bundles of releases the graph says are signed. */
  readonly unsigned?: boolean;
}

/**
 * How each of several releases is signed (`bundle --all`, `publish`): `--keys DIR` with
 * DIR/<signedBy>.pem, `--sign` with one key (with `keys` in the graph, it must be every
 * release's signedBy key), or `--unsigned`. Every problem at once, before anything is
 * written (InputError, exit 2).
 */
export function signingsFor(
  loaded: LoadedGraph,
  releases: readonly Release[],
  opts: BatchSigningOptions,
): Map<Release, Signing> {
  const given = [
    opts.sign !== undefined && "--sign",
    opts.keys !== undefined && "--keys",
    opts.unsigned === true && "--unsigned",
  ].filter((x): x is string => x !== false);
  if (given.length > 1)
    throw new InputError(
      `${given.join(" and ")} together: choose one (--keys signs each release with its own key)`,
    );
  const out = new Map<Release, Signing>();
  const problems: string[] = [];
  const graph = displayPath(loaded.file);
  // Releases that need a key none was given for, by key: one line per key, not per release.
  const unsignedBy = new Map<string, string[]>();
  for (const release of releases) {
    const v = release.version;
    let sign = opts.sign;
    if (opts.keys !== undefined && release.signedBy !== null) {
      sign = join(opts.keys, `${release.signedBy}.pem`);
      if (!existsSync(sign)) {
        problems.push(
          `--keys ${opts.keys}: no ${release.signedBy}.pem there, the private key of "${release.signedBy}" that signs ${v} (${graph}); add it, nothing was written`,
        );
        continue;
      }
    }
    if (
      sign === undefined &&
      opts.unsigned !== true &&
      loaded.graph.keys !== null &&
      release.signedBy !== null
    ) {
      const list = unsignedBy.get(release.signedBy) ?? [];
      unsignedBy.set(release.signedBy, [...list, v]);
      continue;
    }
    try {
      out.set(
        release,
        signingFor(
          loaded,
          release,
          {
            ...(sign !== undefined && { sign }),
            ...(opts.unsigned === true && { unsigned: true }),
          },
          opts.keys ? "--keys" : "--sign",
        ),
      );
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const rotation = opts.sign !== undefined && new Set(releases.map((r) => r.signedBy)).size > 1;
      problems.push(
        `${e.message}${rotation ? " (the releases are signed with different keys: pass --keys DIR to sign each with its own)" : ""}`,
      );
    }
  }
  problems.unshift(
    ...[...unsignedBy].map(([key, versions]) => {
      const which = versions.length === 1 ? `${versions[0]} is` : `${versions.join(", ")} are`;
      return `${which} signed by "${key}" (${graph}): pass --keys DIR (with ${key}.pem in it) or --sign with its private key; nothing was written`;
    }),
  );
  if (problems.length > 0) throw new InputError(problems.join("\n"));
  return out;
}
