/**
 * release-graph.json's fields, written once: each kind of object, its fields in the order
 * DESIGN.md's tables give them (the order sync writes them in), with their type, whether
 * they are required, their default and the sentence editors show. The zod schema and the
 * JSON Schema (schema.ts), the fast shape check (shape.ts), sync's key order
 * (@stepstone/git's merge) and the entries `gaps --suggest` writes follow it: adding a
 * field is one edit here (and its meaning in validate.ts).
 */

/** The kinds of object the file holds. */
export type Kind = "root" | "component" | "platform" | "release" | "migration" | "key";

export type FieldType =
  | "string"
  /** A string of at least one character. */
  | "nonEmpty"
  | "boolean"
  /** A data format version: an integer in [0, 2^31). */
  | "epoch"
  /** Component name -> epoch. */
  | "epochs"
  | "strings"
  | "nonEmptyStrings"
  | "sha256"
  /** Free text for people. */
  | "notes"
  | { readonly oneOf: readonly [string, ...string[]] }
  | { readonly literal: 1 }
  /** Name -> an object of that kind. */
  | { readonly recordOf: Kind }
  | { readonly arrayOf: Kind };

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly required?: true;
  /** The value an absent optional field means (for people and for validate.ts). */
  readonly default?: unknown;
  readonly description?: string;
}

export const FORMAT = {
  root: [
    { name: "$schema", type: "string" },
    { name: "schemaVersion", type: { literal: 1 }, required: true },
    { name: "notes", type: "notes" },
    {
      name: "keys",
      type: { recordOf: "key" },
      description:
        "Signing keys by id: with it, every signedBy and trusts entry must name one, and bundles carry the trusted public keys.",
    },
    { name: "components", type: { recordOf: "component" }, required: true },
    { name: "releases", type: { arrayOf: "release" }, required: true },
    { name: "migrations", type: { arrayOf: "migration" } },
  ],
  component: [
    {
      name: "wipeable",
      type: "boolean",
      default: true,
      description: "May a plan reset it to factory state? Default true.",
    },
    {
      name: "paths",
      type: "nonEmptyStrings",
      description: "Its data, relative to the persistent root (e.g. etc/passwd).",
    },
    {
      name: "onFailure",
      type: { oneOf: ["halt", "isolate", "wipe"] },
      default: "halt",
      description: "The runner's policy when one of its scripts fails. Default halt.",
    },
    {
      name: "services",
      type: "nonEmptyStrings",
      description: "systemd units that must not start before its migrations ran.",
    },
    {
      name: "baseline",
      type: "epoch",
      default: 1,
      description: "Epoch of data written before the runner. Default 1.",
    },
    { name: "notes", type: "notes" },
  ],
  platform: [
    {
      name: "epochs",
      type: "epochs",
      required: true,
      description: "Overrides of some components' epochs on this platform.",
    },
  ],
  release: [
    {
      name: "version",
      type: "string",
      required: true,
      description: "Semver; prereleases allowed.",
    },
    { name: "line", type: "nonEmpty", description: "Release line; default major.minor." },
    {
      name: "golden",
      type: "boolean",
      default: false,
      description: "Locked at manufacturing: must stay reachable.",
    },
    {
      name: "transition",
      type: "boolean",
      default: false,
      description: "A transition firmware, built to connect others.",
    },
    {
      name: "withdrawn",
      type: "boolean",
      default: false,
      description: "Never a stop or a target; may be a source.",
    },
    {
      name: "runner",
      type: "boolean",
      default: true,
      description: "Does the image carry the runner? Default true.",
    },
    {
      name: "epochs",
      type: "epochs",
      required: true,
      description: "The data epoch of every component.",
    },
    { name: "ships", type: "strings", description: "Ids of extra migrations this image carries." },
    {
      name: "upgradeFrom",
      type: "string",
      description: "Semver range a lower source must satisfy.",
    },
    { name: "signedBy", type: "nonEmpty", description: "The key this image is signed with." },
    { name: "trusts", type: "nonEmptyStrings", description: "Keys whose images it accepts." },
    { name: "platforms", type: { recordOf: "platform" } },
    { name: "tag", type: "string", description: "The git tag it was read from." },
    { name: "notes", type: "notes" },
  ],
  migration: [
    {
      name: "id",
      type: "string",
      required: true,
      description: "Unique id, ^[a-z0-9][a-z0-9._-]*$.",
    },
    { name: "component", type: "string", required: true },
    { name: "from", type: "epoch", required: true },
    { name: "to", type: "epoch", required: true },
    {
      name: "script",
      type: "nonEmpty",
      required: true,
      description: "Path relative to the graph file, inside its folder.",
    },
    {
      name: "shippedIn",
      type: "string",
      description: "Semver range of releases whose image carries it.",
    },
    { name: "after", type: "strings", description: "Ids it must run after." },
    { name: "sha256", type: "sha256", description: "Pin of the script's content." },
    { name: "description", type: "string" },
    { name: "notes", type: "notes" },
  ],
  key: [
    {
      name: "public",
      type: "nonEmpty",
      required: true,
      description:
        "The ed25519 public key in PEM, relative to the graph file, inside its folder (e.g. keys/vendor-2025.pub.pem).",
    },
    { name: "notes", type: "notes" },
  ],
} as const satisfies Readonly<Record<Kind, readonly Field[]>>;

/** The TypeScript type of a field's value. */
export type ValueOf<T extends FieldType> = T extends "string" | "nonEmpty" | "notes" | "sha256"
  ? string
  : T extends "boolean"
    ? boolean
    : T extends "epoch"
      ? number
      : T extends "epochs"
        ? Record<string, number>
        : T extends "strings" | "nonEmptyStrings"
          ? string[]
          : T extends { readonly oneOf: readonly (infer U)[] }
            ? U
            : T extends { readonly literal: infer L }
              ? L
              : T extends { readonly recordOf: infer K extends Kind }
                ? Record<string, EntryOf<K>>
                : T extends { readonly arrayOf: infer K extends Kind }
                  ? EntryOf<K>[]
                  : never;

type FieldsOf<K extends Kind> = (typeof FORMAT)[K][number];

/** An object of a kind as the file holds it (what the schema accepts). */
export type EntryOf<K extends Kind> = {
  -readonly [F in FieldsOf<K> as F extends { readonly required: true }
    ? F["name"]
    : never]: ValueOf<F["type"]>;
} & {
  -readonly [F in FieldsOf<K> as F extends { readonly required: true }
    ? never
    : F["name"]]?: ValueOf<F["type"]>;
};

/** The whole file. */
export type GraphFile = EntryOf<"root">;

/** An optional field's default (its `default` above), typed as the field's value. */
export function defaultOf<K extends Kind, N extends FieldsOf<K>["name"]>(
  kind: K,
  name: N,
): ValueOf<Extract<FieldsOf<K>, { readonly name: N }>["type"]> {
  const field = (FORMAT[kind] as readonly Field[]).find((f) => f.name === name);
  if (field?.default === undefined) throw new Error(`${kind}.${name} has no default`);
  return field.default as ValueOf<Extract<FieldsOf<K>, { readonly name: N }>["type"]>;
}

/** The field names of a kind, in the file's order. */
export function fieldNames(kind: Kind): string[] {
  return (FORMAT[kind] as readonly Field[]).map((f) => f.name);
}

/** The planner and the runner keep epochs as 32-bit integers. */
export const MAX_EPOCH = 2_147_483_647;
export const SHA256 = /^[0-9a-f]{64}$/;

/** `entry` with its keys in the file's order for its kind (unknown keys last, as they came). */
export function inFileOrder<T extends object>(kind: Kind, entry: T): T {
  const out: Record<string, unknown> = {};
  const e = entry as Record<string, unknown>;
  for (const f of FORMAT[kind] as readonly Field[])
    if (Object.hasOwn(e, f.name)) out[f.name] = e[f.name];
  for (const k of Object.keys(e)) if (!Object.hasOwn(out, k)) out[k] = e[k];
  return out as T;
}

/** The file's shape with holes where an entry is broken (indices kept for messages). */
export type Salvaged = {
  components: Record<string, EntryOf<"component"> | null>;
  releases: (EntryOf<"release"> | null)[];
  migrations?: (EntryOf<"migration"> | null)[];
  keys?: Record<string, EntryOf<"key"> | null>;
};
