/** Fixed-size bitsets over release indices: one bit per release, 32 per word. */

export type Bits = Uint32Array;

// Bitsets are carved out of shared slabs: a plan makes tens of thousands of them, and a
// typed array over 64 bytes gets its own off-heap buffer, which costs an allocation and
// GC bookkeeping each; a view into a slab is one small object.
const SLAB_WORDS = 1 << 16;
let slab = new Uint32Array(SLAB_WORDS);
let used = 0;

/** A zeroed bitset over n releases. */
export function bitsFor(n: number): Bits {
  const words = (n + 31) >>> 5;
  if (words > SLAB_WORDS >>> 4) return new Uint32Array(words);
  if (used + words > SLAB_WORDS) {
    slab = new Uint32Array(SLAB_WORDS);
    used = 0;
  }
  const b = slab.subarray(used, used + words);
  used += words;
  return b;
}

/** A copy of b. */
export function copyBits(b: Bits): Bits {
  const out = bitsFor(b.length << 5);
  out.set(b);
  return out;
}

export function setBit(b: Bits, i: number): void {
  b[i >>> 5] = (b[i >>> 5] as number) | (1 << (i & 31));
}

export function clearBit(b: Bits, i: number): void {
  b[i >>> 5] = (b[i >>> 5] as number) & ~(1 << (i & 31));
}

/** Sets bits [from, to). */
export function setRange(b: Bits, from: number, to: number): void {
  while (from < to && (from & 31) !== 0) setBit(b, from++);
  while (from + 32 <= to) {
    b[from >>> 5] = 0xffffffff;
    from += 32;
  }
  while (from < to) setBit(b, from++);
}

export function hasBit(b: Bits, i: number): boolean {
  return ((b[i >>> 5] as number) & (1 << (i & 31))) !== 0;
}

export function andInto(target: Bits, other: Bits): void {
  for (let w = 0; w < target.length; w++) target[w] = (target[w] as number) & (other[w] as number);
}

export function orInto(target: Bits, other: Bits): void {
  for (let w = 0; w < target.length; w++) target[w] = (target[w] as number) | (other[w] as number);
}

/** Calls fn for every set bit, ascending. */
export function forEachBit(b: Bits, fn: (i: number) => void): void {
  for (let w = 0; w < b.length; w++) {
    let word = b[w] as number;
    while (word !== 0) {
      const low = word & -word;
      fn((w << 5) + (31 - Math.clz32(low)));
      word ^= low;
    }
  }
}
