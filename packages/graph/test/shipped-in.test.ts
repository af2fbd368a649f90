import { parseRange, parseVersion } from "@stepstone/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runRange, shippingRuns, shippingText as text, toRuns } from "../src/index.js";

/** Tests list the positions that ship; the code takes them as runs. */
const shippingText = (
  ones: number[],
  ...rest: Parameters<typeof text> extends [unknown, ...infer R] ? R : never
) => text(toRuns(ones), ...rest);

const V = ["2.9.0", "2.10.0", "2.10.1-transition.1", "2.10.1", "2.11.0", "2.12.0-rc1", "2.12.0"];
const none = new Set<number>();
const always = () => false;

describe("shippingText: the simplest exact range", () => {
  it("writes a closed run as >=first <first-after", () => {
    expect(shippingText([1, 2, 3, 4], none, V, always)).toEqual({
      shippedIn: ">=2.10.0 <2.12.0-rc1",
      ships: [],
    });
  });

  it("leaves a run that reaches the newest release open", () => {
    expect(shippingText([4, 5, 6], none, V, always).shippedIn).toBe(">=2.11.0");
    expect(shippingText([6], none, V, always).shippedIn).toBe(">=2.12.0");
  });

  it("writes one closed release as its version", () => {
    expect(shippingText([2], none, V, always).shippedIn).toBe("2.10.1-transition.1");
  });

  it("joins two runs with ||", () => {
    expect(shippingText([1, 4, 5, 6], none, V, always).shippedIn).toBe("2.10.0 || >=2.11.0");
  });

  it("bridges a free release (one naming it in ships) instead of splitting the run", () => {
    expect(shippingRuns(toRuns([1, 3]), new Set([2]))).toEqual([[1, 3]]);
    expect(toRuns([1, 2, 3, 7])).toEqual([
      [1, 3],
      [7, 7],
    ]);
    expect(shippingText([1, 3], new Set([2]), V, always).shippedIn).toBe(">=2.10.0 <2.11.0");
    // A free release after the run may fall inside the range too.
    expect(runRange([1, 1], V, new Set([2]))).toBe("2.10.0");
    expect(runRange([3, 4], V, new Set([5]))).toBe(">=2.10.1 <2.12.0");
  });

  it("beyond two runs keeps the longest as a range and lists the others in ships", () => {
    expect(shippingText([0, 2, 4, 5], none, V, always)).toEqual({
      shippedIn: ">=2.11.0 <2.12.0",
      ships: [0, 2],
    });
  });

  it("keeps a run in the range when a release in it may not take a ships entry", () => {
    const fixed = (p: number) => p === 2; // e.g. a hand-written transition release
    expect(shippingText([0, 2, 4, 5], none, V, fixed)).toEqual({
      shippedIn: "2.10.1-transition.1 || >=2.11.0 <2.12.0",
      ships: [0],
    });
  });

  it("writes nothing when no release ships it", () => {
    expect(shippingText([], none, V, always)).toEqual({ shippedIn: null, ships: [] });
  });

  it("is exact: the range and the ships entries give the ones, and no forbidden release", () => {
    const versions = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 2 ? `1.${Math.floor(i / 3)}.0-rc.1` : `1.${Math.floor(i / 3)}.${i % 3}`,
    ).sort((a, b) => parseVersion(a)?.compare(parseVersion(b) as never) ?? 0);
    const cell = fc.constantFrom<"1" | "0" | "?">("1", "0", "?");
    fc.assert(
      fc.property(
        fc.array(cell, { minLength: 12, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (cells, fixedFlags) => {
          const ones = cells.flatMap((c, i) => (c === "1" ? [i] : []));
          const free = new Set(cells.flatMap((c, i) => (c === "?" ? [i] : [])));
          const fixed = (p: number) => fixedFlags[p] === true;
          const text = shippingText(ones, free, versions, fixed);
          const range = text.shippedIn === null ? null : parseRange(text.shippedIn);
          if (text.shippedIn !== null) expect(range).not.toBeNull();
          const ships = new Set(text.ships);
          for (const p of text.ships) expect(fixed(p)).toBe(false);
          cells.forEach((c, i) => {
            if (c === "?") return;
            const inRange = range?.test(parseVersion(versions[i] as string) as never) ?? false;
            expect(inRange || ships.has(i)).toBe(c === "1");
          });
        },
      ),
      { numRuns: 400 },
    );
  });
});
