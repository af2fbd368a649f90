import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { graphSchema } from "../src/schema.js";
import { graphFileKeys, isGraphFile } from "../src/shape.js";

/**
 * isGraphFile is the fast path of validation: whenever it says yes, zod must say yes and
 * give back the same data, or a malformed file would get past validation unreported.
 * Checked on thousands of one-edit mutations of real graphs, each edit aimed at a random
 * place of the document.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const sample = JSON.parse(
  readFileSync(new URL("../../../release-graph.json", import.meta.url), "utf8"),
) as Json;

/** Every object and array in the document, with the path to it. */
function containers(doc: Json, path: (string | number)[] = [], out: (string | number)[][] = []) {
  if (doc !== null && typeof doc === "object") {
    out.push(path);
    if (Array.isArray(doc)) for (const [i, v] of doc.entries()) containers(v, [...path, i], out);
    else for (const [k, v] of Object.entries(doc)) containers(v, [...path, k], out);
  }
  return out;
}

function at(doc: Json, path: readonly (string | number)[]): Json {
  let cur = doc;
  for (const k of path) cur = (cur as Record<string | number, Json>)[k] as Json;
  return cur;
}

/** Values near the edges of what the schema accepts. */
const edgy = fc.oneof(
  fc.constantFrom<Json>(
    -1,
    0,
    1,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    2 ** 31 - 1,
    2 ** 31,
    -0,
    "",
    "x",
    "halt",
    "wipe",
    "bogus",
    "a".repeat(64),
    "0".repeat(64),
    true,
    false,
    null,
    [],
    {},
    [""],
    ["x"],
    { epochs: {} },
    { a: 1 },
  ),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const KEYS = [
  "version",
  "epochs",
  "golden",
  "paths",
  "wipeable",
  "onFailure",
  "baseline",
  "services",
  "id",
  "from",
  "to",
  "script",
  "sha256",
  "after",
  "ships",
  "trusts",
  "platforms",
  "notes",
  "schemaVersion",
  "components",
  "releases",
  "migrations",
  "$schema",
  "upgradeFrom",
  "keys",
  "public",
  "signedBy",
  "bogus",
  "__proto__",
];

type Edit =
  | { kind: "set"; where: number; key: number; value: Json }
  | { kind: "delete"; where: number; key: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("set" as const),
    where: fc.nat(),
    key: fc.nat(),
    value: edgy,
  }),
  fc.record({ kind: fc.constant("delete" as const), where: fc.nat(), key: fc.nat() }),
);

/** Applies the edit to a copy: one key of one container set (new or existing) or deleted. */
function mutate(doc: Json, edit: Edit): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  const places = containers(copy);
  const target = at(copy, places[edit.where % places.length] as (string | number)[]);
  if (Array.isArray(target)) {
    if (target.length === 0 && edit.kind === "set") target.push(edit.value);
    else if (target.length > 0) {
      const i = edit.key % target.length;
      if (edit.kind === "set") target[i] = edit.value;
      else target.splice(i, 1);
    }
    return copy;
  }
  const obj = target as Record<string, Json>;
  const own = Object.keys(obj);
  // Half the time an existing key, else one of the schema's keys (or an unknown one).
  const key =
    own.length > 0 && edit.key % 2 === 0
      ? (own[(edit.key >> 1) % own.length] as string)
      : (KEYS[(edit.key >> 1) % KEYS.length] as string);
  if (edit.kind === "delete") delete obj[key];
  else if (key === "__proto__")
    Object.defineProperty(obj, key, { value: edit.value, enumerable: true });
  else obj[key] = edit.value;
  // JSON.parse is what produces the documents: go through it again (own __proto__ kept).
  return JSON.parse(JSON.stringify(copy)) as Json;
}

function hasOwnProto(doc: Json): boolean {
  return containers(doc).some((p) => {
    const v = at(doc, p);
    return !Array.isArray(v) && Object.hasOwn(v as object, "__proto__");
  });
}

describe("isGraphFile", () => {
  it("accepts the bundled graph, as zod does", () => {
    expect(graphSchema.safeParse(sample).success).toBe(true);
    expect(isGraphFile(sample)).toBe(true);
  });

  it("never accepts what zod rejects, and accepts what zod accepts (one edit away)", () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(editArb, { minLength: 1, maxLength: 3 }), (edits) => {
        const doc = edits.reduce(mutate, sample);
        const zod = graphSchema.safeParse(doc);
        const fast = isGraphFile(doc);
        // The same walk counts the keys (the loader's duplicate-key check relies on it).
        expect(graphFileKeys(doc)).toBe(fast ? keysIn(doc) : -1);
        if (fast) {
          expect(zod.success).toBe(true);
          // zod's output is what validation used to see: it must be the input itself.
          expect(zod.data).toEqual(doc);
        } else if (!hasOwnProto(doc)) {
          expect(zod.success).toBe(false);
        }
        if (!zod.success) rejected++;
      }),
      { numRuns: 3000, seed: 7 },
    );
    // The edits must reach the interesting cases, not only harmless ones.
    expect(rejected).toBeGreaterThan(1000);
  });

  it("leaves an own __proto__ key to zod", () => {
    const doc = JSON.parse('{"schemaVersion":1,"components":{"__proto__":{}},"releases":[]}');
    expect(isGraphFile(doc)).toBe(false);
  });
});

/** Every object key in a JSON value, counted the plain way. */
function keysIn(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + keysIn(x), 0);
  if (v === null || typeof v !== "object") return 0;
  return Object.entries(v).reduce((n, [, x]) => n + 1 + keysIn(x), 0);
}
