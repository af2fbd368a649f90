import { z } from "zod";
import {
  type EntryOf,
  type Field,
  type FieldType,
  FORMAT,
  fieldNames,
  type Kind,
  MAX_EPOCH,
  SHA256,
} from "./format.js";
import { COMPONENT_NAME, KEY_ID, MIGRATION_ID } from "./names.js";

/**
 * The shape of release-graph.json as a zod schema (and the JSON Schema published for
 * editors), made from the table of fields in format.ts. Structural checks live here;
 * cross-references and semver live in validate.ts.
 */

export { type GraphFile, MAX_EPOCH } from "./format.js";
export { COMPONENT_NAME, KEY_ID, MIGRATION_ID } from "./names.js";

const epoch = z
  .int()
  .min(0)
  .max(MAX_EPOCH)
  .describe("A data format version: an integer >= 0 (and below 2^31).");
const notes = z.string().describe("Free text for people; ignored by tools.");
const epochs = z.record(z.string(), epoch);

const made = new Map<Kind, z.ZodObject>();

function typeSchema(t: FieldType): z.ZodType {
  switch (t) {
    case "string":
      return z.string();
    case "nonEmpty":
      return z.string().min(1);
    case "boolean":
      return z.boolean();
    case "epoch":
      return epoch;
    case "epochs":
      return epochs;
    case "strings":
      return z.array(z.string());
    case "nonEmptyStrings":
      return z.array(z.string().min(1));
    case "sha256":
      return z.string().regex(SHA256, "expected 64 lowercase hex digits");
    case "notes":
      return notes;
  }
  if ("oneOf" in t) return z.enum(t.oneOf);
  if ("literal" in t) return z.literal(t.literal);
  if ("recordOf" in t) return z.record(z.string(), objectSchema(t.recordOf));
  return z.array(objectSchema(t.arrayOf));
}

function fieldSchema(f: Field): z.ZodType {
  let s = typeSchema(f.type);
  if (f.required !== true) s = s.optional();
  return f.description === undefined ? s : s.describe(f.description);
}

function objectSchema(kind: Kind): z.ZodObject {
  let s = made.get(kind);
  if (s === undefined) {
    const fields = FORMAT[kind] as readonly Field[];
    s = z.strictObject(Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f)])));
    made.set(kind, s);
  }
  return s;
}

/** The schema of one kind of object, typed as the file holds it. */
type SchemaOf<K extends Kind> = z.ZodObject & z.ZodType<EntryOf<K>>;
const schemaOf = <K extends Kind>(kind: K) => objectSchema(kind) as SchemaOf<K>;

export const componentSchema = schemaOf("component");
export const platformSchema = schemaOf("platform");
export const releaseSchema = schemaOf("release");
export const migrationSchema = schemaOf("migration");
export const keySchema = schemaOf("key");
export const graphSchema = schemaOf("root");

/** The keys each kind of object allows, to suggest the one a typo meant. */
export const KNOWN_KEYS = Object.fromEntries(
  (Object.keys(FORMAT) as Kind[]).map((k) => [k, fieldNames(k)]),
) as unknown as Readonly<Record<Kind, readonly string[]>>;

/** JSON Schema (draft 2020-12) of release-graph.json, published for editors. */
export function graphJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(graphSchema, { target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  // Name patterns are checked in validate.ts (with friendlier messages); publish them too.
  const props = schema.properties as Record<string, Record<string, unknown>>;
  (props.components as Record<string, unknown>).propertyNames = {
    type: "string",
    pattern: COMPONENT_NAME.source,
  };
  const migration = (
    props.migrations as { items: { properties: Record<string, Record<string, unknown>> } }
  ).items;
  (migration.properties.id as Record<string, unknown>).pattern = MIGRATION_ID.source;
  (props.keys as Record<string, unknown>).propertyNames = {
    type: "string",
    pattern: KEY_ID.source,
  };
  return {
    title: "stepstone release graph",
    description:
      "Releases, the data epochs of their components, and the migrations between epochs.",
    ...schema,
  };
}
