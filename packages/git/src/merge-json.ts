import { fieldNames } from "@stepstone/graph";
import type { Json } from "./merge-types.js";

/** Key orders of DESIGN.md's tables (format.ts): new keys go where a person would put them. */
export const ROOT_KEYS = fieldNames("root");
export const RELEASE_KEYS = fieldNames("release");
export const MIGRATION_KEYS = fieldNames("migration");

/**
 * Fields a release read from a tag takes from the repository; every other field (golden,
 * transition, withdrawn, runner, keys, platforms, upgradeFrom, line, notes) is the
 * release engineer's and is kept as written.
 */
export const RELEASE_FROM_TAG = ["version", "epochs", "ships", "tag"];
/** Fields a migration found in the repository takes from it (`script` only when unset). */
export const MIGRATION_FROM_REPO = ["id", "component", "from", "to", "shippedIn", "sha256"];

export function without(o: Json | null, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o ?? {})) if (!keys.includes(k)) out[k] = v;
  return out;
}

export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `next`'s defined keys, in `old`'s order where `old` has them; a new key goes after the
 * last key that precedes it in `order` (DESIGN.md's order), so hand-written files keep
 * their layout and written ones follow the documentation.
 */
export function ordered(old: Json | null | undefined, next: Json, order: readonly string[]): Json {
  const keys = Object.keys(next).filter((k) => next[k] !== undefined);
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  const out = old ? Object.keys(old).filter((k) => keys.includes(k)) : [];
  const added = keys.filter((k) => !out.includes(k)).sort((a, b) => rank(a) - rank(b));
  for (const k of added) {
    let at = 0;
    for (let i = 0; i < out.length; i++) if (rank(out[i] as string) <= rank(k)) at = i + 1;
    out.splice(at, 0, k);
  }
  const res: Json = {};
  for (const k of out) res[k] = next[k];
  return res;
}
