// Writes schema/release-graph.schema.json from the zod schema in @stepstone/graph, so
// the published JSON Schema never drifts from what validation accepts (a test checks).
import { writeFileSync } from "node:fs";
import { graphJsonSchema } from "@stepstone/graph/schema";

const out = new URL("../schema/release-graph.schema.json", import.meta.url);
writeFileSync(out, `${JSON.stringify(graphJsonSchema(), null, 2)}\n`);
