import type { Diagnostic } from "@stepstone/errors";
import { z } from "zod";
import { suggest } from "./checks.js";
import type { Salvaged } from "./format.js";
import {
  componentSchema,
  graphSchema,
  KNOWN_KEYS,
  keySchema,
  migrationSchema,
  platformSchema,
  releaseSchema,
} from "./schema.js";
import { jsonPath } from "./validate.js";

/**
 * The structural check with zod, for a file that shape.ts found malformed: one
 * diagnostic per problem (appended to `errors`), and what can still be checked
 * semantically (null when the top level is not even a graph). Kept in its own module so
 * that commands load zod only for a broken file.
 */
export function structuralCheck(
  input: unknown,
  file: string,
  errors: Diagnostic[],
): Salvaged | null {
  const shape = graphSchema.safeParse(input);
  if (shape.success) return shape.data;
  for (const issue of shape.error.issues)
    errors.push({ file, where: jsonPath(issue.path), message: describeIssue(issue, input) });
  // Keep checking what did parse, so one run lists every problem of the file.
  return salvage(input);
}

/**
 * After structural errors: every entry that parses once unknown keys are ignored (the
 * unknown keys themselves are already reported), null for the others; null when the
 * file's top level is not even a graph.
 */
function salvage(input: unknown): Salvaged | null {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return null;
  const o = input as Record<string, unknown>;
  const lenient = <T extends z.ZodObject>(schema: T, v: unknown): z.infer<T> | null => {
    const r = z.object(schema.shape).safeParse(v);
    return r.success ? (r.data as z.infer<T>) : null;
  };
  const comps = o.components;
  const components: Salvaged["components"] = {};
  if (comps !== null && typeof comps === "object" && !Array.isArray(comps)) {
    for (const [k, v] of Object.entries(comps)) components[k] = lenient(componentSchema, v);
  }
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  let keys: Salvaged["keys"];
  const ks = o.keys;
  if (ks !== null && typeof ks === "object" && !Array.isArray(ks)) {
    keys = {};
    for (const [k, v] of Object.entries(ks)) keys[k] = lenient(keySchema, v);
  }
  return {
    ...(keys !== undefined && { keys }),
    components,
    releases: list(o.releases).map((r) => {
      const rel = lenient(releaseSchema, r);
      if (rel?.platforms) {
        for (const [p, over] of Object.entries(rel.platforms)) {
          if (!lenient(platformSchema, over)) delete rel.platforms[p];
        }
      }
      return rel;
    }),
    migrations: list(o.migrations).map((m) => lenient(migrationSchema, m)),
  };
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case "unrecognized_keys": {
      const kind = objectKind(issue.path);
      const known = KNOWN_KEYS[kind];
      return issue.keys
        .map((k) => `unknown key "${k}"${suggest(k, known)} (free text goes in "notes")`)
        .join("; ");
    }
    case "invalid_type": {
      const value = valueAt(input, issue.path);
      if (value === undefined) return `required (${issue.expected})`;
      return `expected ${issue.expected}, got ${typeName(value)}`;
    }
    case "too_big":
      return `must be <= ${String(issue.maximum)}`;
    case "too_small":
      return issue.origin === "string"
        ? "must not be empty"
        : `must be >= ${String(issue.minimum)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

function objectKind(path: readonly PropertyKey[]): keyof typeof KNOWN_KEYS {
  if (path.length === 0) return "root";
  if (path[0] === "components") return "component";
  if (path[0] === "migrations") return "migration";
  if (path[0] === "keys" && path.length > 1) return "key";
  if (path[0] === "releases") return path.includes("platforms") ? "platform" : "release";
  return "root";
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}
