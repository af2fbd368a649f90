import type { Diagnostic } from "@stepstone/errors";
import { InputError } from "@stepstone/errors";
import { nameEntries } from "./entries.js";
import { isGraphFile } from "./shape.js";
import { structuralCheck } from "./structure.js";
import { checkGraph, type ParsedGraph, type ParseOptions } from "./validate.js";

/**
 * Turns the parsed JSON of release-graph.json into the typed model, or throws one
 * InputError that lists every problem (never just the first).
 */
export function parseGraph(input: unknown, file: string, options?: ParseOptions): ParsedGraph {
  const errors: Diagnostic[] = [];
  const doc = isGraphFile(input) ? input : structuralCheck(input, file, errors);
  if (doc === null) throw InputError.fromDiagnostics(nameEntries(errors, input));
  return checkGraph(doc, input, file, errors, options);
}
