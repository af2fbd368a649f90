import {
  type Field,
  type FieldType,
  FORMAT,
  type GraphFile,
  type Kind,
  MAX_EPOCH,
  SHA256,
} from "./format.js";

/**
 * Does the parsed JSON have exactly the shape `graphSchema` (schema.ts) accepts? The
 * same rules, made from the same table of fields (format.ts) without zod, so that a
 * well-formed file, which is nearly every file, is checked in a few milliseconds without
 * loading zod at all (loading it and running it over a vendor-sized graph costs a
 * `stepstone plan` about as much as node's own start). When this says no, the caller runs zod for the exact diagnostics.
 *
 * It must never say yes to a file zod rejects: test/shape.test.ts checks both against
 * each other on thousands of mutated graphs. It may say no to a file zod accepts (an
 * own `__proto__` key, which zod silently drops from records), which only costs time.
 */
export function isGraphFile(input: unknown): input is GraphFile {
  return graphFileKeys(input) >= 0;
}

/** Keys seen by the walk in progress (graphFileKeys). */
let keys = 0;

/**
 * isGraphFile and, in the same walk, the number of object keys in the parsed file (the
 * loader compares it with the keys in the text: JSON.parse silently keeps the last of
 * duplicate keys). -1 when the shape is not the schema's.
 */
export function graphFileKeys(input: unknown): number {
  keys = 0;
  return isGraphFileShape(input) ? keys : -1;
}

type Check = (v: unknown) => boolean;

const checks = new Map<Kind, Check>();

/** The check of one kind of object, made from its fields (format.ts) once. */
function objectCheck(kind: Kind): Check {
  let check = checks.get(kind);
  if (check !== undefined) return check;
  const fields = FORMAT[kind] as readonly Field[];
  // A Map, not an object: a key such as "constructor" must not find Object.prototype's.
  const byName = new Map<string, Check>(fields.map((f) => [f.name, typeCheck(f.type)]));
  const required = fields.filter((f) => f.required === true).map((f) => f.name);
  check = (o) => {
    if (!isObject(o)) return false;
    for (const k in o) {
      keys++;
      const c = byName.get(k);
      if (c === undefined || !c(o[k])) return false;
    }
    for (let i = 0; i < required.length; i++)
      if (o[required[i] as string] === undefined) return false;
    return true;
  };
  checks.set(kind, check);
  return check;
}

function typeCheck(t: FieldType): Check {
  switch (t) {
    case "string":
    case "notes":
      return isString;
    case "nonEmpty":
      return isNonEmptyString;
    case "boolean":
      return isBoolean;
    case "epoch":
      return isEpoch;
    case "epochs":
      return isEpochs;
    case "strings":
      return (v) => isArrayOf(v, isString);
    case "nonEmptyStrings":
      return (v) => isArrayOf(v, isNonEmptyString);
    case "sha256":
      return (v) => typeof v === "string" && SHA256.test(v);
  }
  if ("oneOf" in t) {
    const values: readonly unknown[] = t.oneOf;
    return (v) => values.includes(v);
  }
  if ("literal" in t) {
    const value = t.literal;
    return (v) => v === value;
  }
  if ("recordOf" in t) {
    const item = objectCheck(t.recordOf);
    return (v) => isRecordOf(v, item);
  }
  const item = objectCheck(t.arrayOf);
  return (v) => isArrayOf(v, item);
}

const isGraphFileShape = objectCheck("root") as (input: unknown) => input is GraphFile;

function isRecordOf(v: unknown, item: Check): boolean {
  if (!isObject(v)) return false;
  for (const k in v) {
    keys++;
    if (!item(v[k])) return false;
  }
  return true;
}

function isEpochs(v: unknown): boolean {
  return isRecordOf(v, isEpoch);
}

/** The schema's epoch: an integer in [0, 2^31). */
function isEpoch(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_EPOCH;
}

function isString(v: unknown): boolean {
  return typeof v === "string";
}

function isBoolean(v: unknown): boolean {
  return typeof v === "boolean";
}

function isNonEmptyString(v: unknown): boolean {
  return typeof v === "string" && v.length > 0;
}

function isArrayOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

/**
 * A plain JSON object. Objects with an own `__proto__` key (JSON.parse makes one from
 * `"__proto__": ...`) are left to zod, which has its own rules for them.
 */
function isObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  // Plain objects only (JSON.parse makes nothing else; zod's records refuse a Map or a Date).
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return !Object.hasOwn(v, "__proto__");
}
