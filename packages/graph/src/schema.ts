import { z } from "zod";
import { COMPONENT_NAME, KEY_ID, MIGRATION_ID } from "./names.js";

/**
 * The shape of release-graph.json. Structural checks live here (and are published as a
 * JSON Schema for editors); cross-references and semver live in validate.ts.
 */

export { COMPONENT_NAME, KEY_ID, MIGRATION_ID } from "./names.js";

// The planner and the runner keep epochs as 32-bit integers.
export const MAX_EPOCH = 2_147_483_647;
const epoch = z
  .int()
  .min(0)
  .max(MAX_EPOCH)
  .describe("A data format version: an integer >= 0 (and below 2^31).");
const notes = z.string().describe("Free text for people; ignored by tools.");
const epochs = z.record(z.string(), epoch);

export const componentSchema = z.strictObject({
  wipeable: z.boolean().optional().describe("May a plan reset it to factory state? Default true."),
  paths: z
    .array(z.string().min(1))
    .optional()
    .describe("Its data, relative to the persistent root (e.g. etc/passwd)."),
  onFailure: z
    .enum(["halt", "isolate", "wipe"])
    .optional()
    .describe("The runner's policy when one of its scripts fails. Default halt."),
  services: z
    .array(z.string().min(1))
    .optional()
    .describe("systemd units that must not start before its migrations ran."),
  baseline: epoch.optional().describe("Epoch of data written before the runner. Default 1."),
  notes: notes.optional(),
});

export const platformSchema = z.strictObject({
  epochs: epochs.describe("Overrides of some components' epochs on this platform."),
});

export const releaseSchema = z.strictObject({
  version: z.string().describe("Semver; prereleases allowed."),
  line: z.string().min(1).optional().describe("Release line; default major.minor."),
  golden: z.boolean().optional().describe("Locked at manufacturing: must stay reachable."),
  transition: z.boolean().optional().describe("A transition firmware, built to connect others."),
  withdrawn: z.boolean().optional().describe("Never a stop or a target; may be a source."),
  runner: z.boolean().optional().describe("Does the image carry the runner? Default true."),
  epochs: epochs.describe("The data epoch of every component."),
  ships: z.array(z.string()).optional().describe("Ids of extra migrations this image carries."),
  upgradeFrom: z.string().optional().describe("Semver range a lower source must satisfy."),
  signedBy: z.string().min(1).optional().describe("The key this image is signed with."),
  trusts: z.array(z.string().min(1)).optional().describe("Keys whose images it accepts."),
  platforms: z.record(z.string(), platformSchema).optional(),
  tag: z.string().optional().describe("The git tag it was read from."),
  notes: notes.optional(),
});

export const migrationSchema = z.strictObject({
  id: z.string().describe("Unique id, ^[a-z0-9][a-z0-9._-]*$."),
  component: z.string(),
  from: epoch,
  to: epoch,
  script: z.string().min(1).describe("Path relative to the graph file, inside its folder."),
  shippedIn: z.string().optional().describe("Semver range of releases whose image carries it."),
  after: z.array(z.string()).optional().describe("Ids it must run after."),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits")
    .optional()
    .describe("Pin of the script's content."),
  description: z.string().optional(),
  notes: notes.optional(),
});

export const keySchema = z.strictObject({
  public: z
    .string()
    .min(1)
    .describe(
      "The ed25519 public key in PEM, relative to the graph file, inside its folder (e.g. keys/vendor-2025.pub.pem).",
    ),
  notes: notes.optional(),
});

export const graphSchema = z.strictObject({
  $schema: z.string().optional(),
  schemaVersion: z.literal(1),
  components: z.record(z.string(), componentSchema),
  releases: z.array(releaseSchema),
  migrations: z.array(migrationSchema).optional(),
  keys: z
    .record(z.string(), keySchema)
    .optional()
    .describe(
      "Signing keys by id: with it, every signedBy and trusts entry must name one, and bundles carry the trusted public keys.",
    ),
  notes: notes.optional(),
});

export type GraphFile = z.infer<typeof graphSchema>;

/** The keys each kind of object allows, to suggest the one a typo meant. */
export const KNOWN_KEYS = {
  root: Object.keys(graphSchema.shape),
  component: Object.keys(componentSchema.shape),
  release: Object.keys(releaseSchema.shape),
  migration: Object.keys(migrationSchema.shape),
  platform: Object.keys(platformSchema.shape),
  key: Object.keys(keySchema.shape),
} as const;

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
