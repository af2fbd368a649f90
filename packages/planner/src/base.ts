import type { Release, VersionRange } from "@stepstone/graph";
import { type Bits, bitsFor, orInto, setBit } from "./bits.js";

/**
 * Rules 1-3 of DESIGN.md "Hop legality" for every hop at once: row a holds the releases a
 * hop out of a may flash before any epoch is looked at (not withdrawn, trusted by a,
 * admitting a when higher), `(n + 31) >>> 5` words per row.
 */

/**
 * Every release's base targets (rules 1-3) in one sweep up the releases: who is listed
 * and who signs with which key are bitsets made once; the releases a restricts away
 * (rule 3: those above a whose upgradeFrom does not admit a) are kept as the union of
 * the upgradeFrom groups that do not admit the current release, which changes only
 * where a group's admitted interval starts or ends. Each release then costs one pass
 * over its words.
 */
export function baseTargetRows(
  releases: readonly Release[],
  admittedBy: (range: VersionRange) => Uint8Array,
): Uint32Array {
  const n = releases.length;
  const words = (n + 31) >>> 5;
  const listed = bitsFor(n);
  const byKey = new Map<string, Bits>();
  const groups = new Map<string, { admitted: Uint8Array; members: Bits }>();
  for (const [b, r] of releases.entries()) {
    if (!r.withdrawn) setBit(listed, b);
    if (r.signedBy !== null) {
      let kb = byKey.get(r.signedBy);
      if (!kb) {
        kb = bitsFor(n);
        byKey.set(r.signedBy, kb);
      }
      setBit(kb, b);
    }
    if (r.upgradeFrom !== null) {
      let g = groups.get(r.upgradeFrom.raw);
      if (!g) {
        g = { admitted: admittedBy(r.upgradeFrom), members: bitsFor(n) };
        groups.set(r.upgradeFrom.raw, g);
      }
      setBit(g.members, b);
    }
  }
  // The releases a key list trusts: one bitset per distinct list.
  const trustedBy = new Map<string, Bits>();
  const trustedOf = (keys: readonly string[]): Bits => {
    const id = JSON.stringify(keys);
    let t = trustedBy.get(id);
    if (!t) {
      t = bitsFor(n);
      for (let i = 0; i < keys.length; i++) {
        const kb = byKey.get(keys[i] as string);
        if (kb) orInto(t, kb);
      }
      trustedBy.set(id, t);
    }
    return t;
  };
  const list = [...groups.values()];
  // Groups are disjoint (a release has one upgradeFrom), so a group that starts
  // admitting again can clear its members from the union.
  const admits = new Uint8Array(list.length).fill(1);
  const excluded = bitsFor(n);
  const all = new Uint32Array(n * words);
  for (const [a, release] of releases.entries()) {
    for (let gi = 0; gi < list.length; gi++) {
      const g = list[gi] as { admitted: Uint8Array; members: Bits };
      const now = g.admitted[a] as number;
      if (now === admits[gi]) continue;
      admits[gi] = now;
      for (let w = 0; w < words; w++)
        excluded[w] =
          now === 1
            ? (excluded[w] as number) & ~(g.members[w] as number)
            : (excluded[w] as number) | (g.members[w] as number);
    }
    const keys = release.trusts;
    baseRow(all, a, words, listed, keys === null ? listed : trustedOf(keys), excluded);
  }
  return all;
}

/**
 * Row a of the base targets: listed, trusted by a, and not above a unless its
 * upgradeFrom admits a (`excluded`: the releases whose upgradeFrom does not), a itself
 * left out.
 */
function baseRow(
  all: Uint32Array,
  a: number,
  words: number,
  listed: Bits,
  trusted: Bits,
  excluded: Bits,
): void {
  const aw = a >>> 5;
  // Rule 3 restricts upgrades only: the bits above a.
  const above = (a & 31) === 31 ? 0 : (0xffffffff << ((a & 31) + 1)) >>> 0;
  const row = a * words;
  for (let w = 0; w < words; w++) {
    const x = w < aw ? 0 : w === aw ? (excluded[w] as number) & above : (excluded[w] as number);
    all[row + w] = (listed[w] as number) & (trusted[w] as number) & ~x;
  }
  all[row + aw] = (all[row + aw] as number) & ~(1 << (a & 31));
}
