import type { GraphFile } from "./schema.js";

/**
 * Does the parsed JSON have exactly the shape `graphSchema` (schema.ts) accepts? The
 * same rules written out by hand, so that a well-formed file, which is nearly every
 * file, is checked in a few milliseconds without loading zod at all (loading it and
 * running it over a vendor-sized graph costs a `stepstone plan` about as much as node's
 * own start). When this says no, the caller runs zod for the exact diagnostics.
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

function isGraphFileShape(input: unknown): input is GraphFile {
  if (!isObject(input)) return false;
  for (const k in input) {
    keys++;
    const v = input[k];
    switch (k) {
      case "$schema":
      case "notes":
        if (typeof v !== "string") return false;
        break;
      case "schemaVersion":
        if (v !== 1) return false;
        break;
      case "components":
        if (!isObject(v)) return false;
        for (const name in v) {
          keys++;
          if (!isComponent(v[name])) return false;
        }
        break;
      case "releases":
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!isRelease(v[i])) return false;
        break;
      case "migrations":
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!isMigration(v[i])) return false;
        break;
      case "keys":
        if (!isObject(v)) return false;
        for (const id in v) {
          keys++;
          if (!isKey(v[id])) return false;
        }
        break;
      default:
        return false;
    }
  }
  return (
    input.schemaVersion === 1 && input.components !== undefined && input.releases !== undefined
  );
}

function isComponent(c: unknown): boolean {
  if (!isObject(c)) return false;
  for (const k in c) {
    keys++;
    const v = c[k];
    switch (k) {
      case "wipeable":
        if (typeof v !== "boolean") return false;
        break;
      case "paths":
      case "services":
        if (!isArrayOf(v, isNonEmptyString)) return false;
        break;
      case "onFailure":
        if (v !== "halt" && v !== "isolate" && v !== "wipe") return false;
        break;
      case "baseline":
        if (!isEpoch(v)) return false;
        break;
      case "notes":
        if (typeof v !== "string") return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isRelease(r: unknown): boolean {
  if (!isObject(r)) return false;
  for (const k in r) {
    keys++;
    const v = r[k];
    switch (k) {
      case "version":
      case "upgradeFrom":
      case "tag":
      case "notes":
        if (typeof v !== "string") return false;
        break;
      case "line":
      case "signedBy":
        if (!isNonEmptyString(v)) return false;
        break;
      case "golden":
      case "transition":
      case "withdrawn":
      case "runner":
        if (typeof v !== "boolean") return false;
        break;
      case "epochs":
        if (!isEpochs(v)) return false;
        break;
      case "ships":
        if (!isArrayOf(v, isString)) return false;
        break;
      case "trusts":
        if (!isArrayOf(v, isNonEmptyString)) return false;
        break;
      case "platforms":
        if (!isObject(v)) return false;
        for (const p in v) {
          keys++;
          if (!isPlatform(v[p])) return false;
        }
        break;
      default:
        return false;
    }
  }
  return r.version !== undefined && r.epochs !== undefined;
}

function isPlatform(p: unknown): boolean {
  if (!isObject(p)) return false;
  for (const k in p) {
    keys++;
    if (k !== "epochs") return false;
  }
  return isEpochs(p.epochs);
}

function isKey(k: unknown): boolean {
  if (!isObject(k)) return false;
  for (const f in k) {
    keys++;
    const v = k[f];
    if (f === "public") {
      if (!isNonEmptyString(v)) return false;
    } else if (f === "notes") {
      if (typeof v !== "string") return false;
    } else return false;
  }
  return k.public !== undefined;
}

const SHA256 = /^[0-9a-f]{64}$/;

function isMigration(m: unknown): boolean {
  if (!isObject(m)) return false;
  for (const k in m) {
    keys++;
    const v = m[k];
    switch (k) {
      case "id":
      case "component":
      case "shippedIn":
      case "description":
      case "notes":
        if (typeof v !== "string") return false;
        break;
      case "from":
      case "to":
        if (!isEpoch(v)) return false;
        break;
      case "script":
        if (!isNonEmptyString(v)) return false;
        break;
      case "after":
        if (!isArrayOf(v, isString)) return false;
        break;
      case "sha256":
        if (typeof v !== "string" || !SHA256.test(v)) return false;
        break;
      default:
        return false;
    }
  }
  return (
    m.id !== undefined &&
    m.component !== undefined &&
    m.from !== undefined &&
    m.to !== undefined &&
    m.script !== undefined
  );
}

function isEpochs(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) {
    keys++;
    if (!isEpoch(v[k])) return false;
  }
  return true;
}

/** The schema's epoch: an integer in [0, 2^31). */
function isEpoch(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 2_147_483_647;
}

const isString = (v: unknown): boolean => typeof v === "string";
const isNonEmptyString = (v: unknown): boolean => typeof v === "string" && v.length > 0;

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
