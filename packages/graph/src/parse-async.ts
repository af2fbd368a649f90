import type { Diagnostic } from "@stepstone/errors";
import { InputError } from "@stepstone/errors";
import { nameEntries } from "./entries.js";
import type { GraphFile } from "./schema.js";
import { isGraphFile } from "./shape.js";
import { checkGraph, type ParsedGraph, type ParseOptions } from "./validate.js";

/**
 * parseGraph, loading the zod schema only when the file is malformed: a command that
 * plans on a well-formed graph never pays for loading zod (about as long as node's own
 * start). Same result and same diagnostics as parseGraph.
 */
export async function parseGraphAsync(
  input: unknown,
  file: string,
  options?: ParseOptions,
): Promise<ParsedGraph> {
  const errors: Diagnostic[] = [];
  const doc =
    options?.shapeChecked === true || isGraphFile(input)
      ? (input as GraphFile)
      : (await import("./structure.js")).structuralCheck(input, file, errors);
  if (doc === null) throw InputError.fromDiagnostics(nameEntries(errors, input));
  return checkGraph(doc, input, file, errors, options);
}
