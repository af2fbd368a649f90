import { readFileSync } from "node:fs";
import { join } from "node:path";
import { graphJsonSchema } from "@stepstone/graph/schema";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/cli.js";

describe("the published JSON Schema", () => {
  const file = join(REPO, "schema/release-graph.schema.json");

  it("is what the validator's own schema generates (run scripts/gen-schema.mjs after a change)", () => {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(graphJsonSchema());
  });

  it("is the one the bundled graph points editors at, and names every top-level key", () => {
    const sample = JSON.parse(readFileSync(join(REPO, "release-graph.json"), "utf8"));
    expect(sample.$schema).toBe("./schema/release-graph.schema.json");
    const schema = JSON.parse(readFileSync(file, "utf8"));
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["$schema", "components", "keys", "migrations", "notes", "releases", "schemaVersion"].sort(),
    );
    // Key ids become file names on the device (keys/<id>.pem): the pattern is published.
    expect(schema.properties.keys.propertyNames.pattern).toBe("^[A-Za-z0-9][A-Za-z0-9._-]*$");
    expect(schema.properties.keys.additionalProperties.required).toEqual(["public"]);
    expect(schema.required).toEqual(
      expect.arrayContaining(["schemaVersion", "components", "releases"]),
    );
  });
});
