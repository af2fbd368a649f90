import { readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { InputError } from "@stepstone/errors";

/** The script's bytes, refusing a path that escapes the graph's folder (links included). */
export function readScript(root: string, script: string): Buffer {
  // realpath(3) in one call (the JS realpathSync lstat()s every path segment).
  const real = realpathSync.native(join(root, script));
  const realRoot = realRootOf(root);
  if (!real.startsWith(realRoot + sep)) {
    throw new InputError(`${script}: resolves outside the graph's folder (${realRoot})`);
  }
  return readFileSync(real);
}

const realRoots = new Map<string, string>();
function realRootOf(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) {
    real = realpathSync.native(root);
    realRoots.set(root, real);
  }
  return real;
}
