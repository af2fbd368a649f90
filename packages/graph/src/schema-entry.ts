// `@stepstone/graph/schema`: what needs zod. Kept out of the package's main entry so that
// commands that only read a well-formed graph never load zod (see parse-async.ts).
export { parseGraph } from "./parse.js";
export { graphJsonSchema } from "./schema.js";
export { structuralCheck } from "./structure.js";
