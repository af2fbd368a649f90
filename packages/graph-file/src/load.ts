import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { InputError, systemReason } from "@stepstone/errors";
import { graphFileKeys, type ParsedGraph, parseGraphAsync } from "@stepstone/graph";
import { checkDuplicateKeys, parseJson } from "./json.js";

export const GRAPH_FILE = "release-graph.json";

export interface LoadedGraph extends ParsedGraph {
  /** Absolute path of the graph file. */
  file: string;
  /** Folder scripts are relative to. */
  root: string;
  /** The file's parsed JSON, untouched (for tools that rewrite it). */
  json: unknown;
}

/** `--graph FILE`, or the nearest release-graph.json from `cwd` upward. */
export function resolveGraphPath(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit !== undefined) return resolve(cwd, explicit);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, GRAPH_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new InputError(
        `no ${GRAPH_FILE} in ${resolve(cwd)} or any folder above it; pass --graph FILE`,
      );
    }
    dir = parent;
  }
}

/** The graph a command that writes one (sync) writes: `--graph`, else the nearest one upward, else a new one in `cwd`. */
export function graphPathToWrite(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit !== undefined) return resolve(cwd, explicit);
  try {
    return resolveGraphPath(undefined, cwd);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return resolve(cwd, GRAPH_FILE);
  }
}

/** How messages name a file: relative to the current folder when inside it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

export interface LoadOptions {
  /**
   * Read every file the graph names: scripts (existence, sha256 pins, `set -e`) and the
   * public keys of `keys` (existence, ed25519 public key in PEM).
   */
  checkScripts?: boolean;
  /**
   * The whole-graph analysis behind some warnings (see ParseOptions). Commands that do
   * not show warnings turn it off. Default true.
   */
  deepWarnings?: boolean;
}

/**
 * Reads, parses and validates a graph file; throws one InputError listing every problem.
 * Async only because the schema library is loaded on demand, for a malformed file.
 */
export async function loadGraph(path: string, options: LoadOptions = {}): Promise<LoadedGraph> {
  const file = resolve(path);
  path = displayPath(file);
  let text: string;
  try {
    if (statSync(file).isDirectory())
      throw new InputError(`${path}: is a folder; pass the graph file itself`);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read: ${systemReason(e)}`);
  }
  const json = parseJson(text, path);
  // One walk checks the shape and counts the keys for the duplicate-key check.
  const keys = graphFileKeys(json);
  checkDuplicateKeys(text, json, path, keys >= 0 ? keys : undefined);
  const root = dirname(file);
  let parsed: ParsedGraph;
  try {
    parsed = await parseGraphAsync(json, path, {
      deepWarnings: options.deepWarnings !== false,
      shapeChecked: keys >= 0,
    });
  } catch (e) {
    // Every problem at once: the scripts of a file with other errors are checked too.
    if (!options.checkScripts || !(e instanceof InputError) || e.diagnostics.length === 0) throw e;
    const { checkScripts, scriptRefs } = await import("./scripts.js");
    const broken = new Set(e.diagnostics.map((d) => d.where));
    const { errors } = checkScripts(scriptRefs(json, broken), root, path);
    if (errors.length === 0) throw e;
    throw InputError.fromDiagnostics([...e.diagnostics, ...errors]);
  }
  if (options.checkScripts) {
    // Its own module: hashing loads node:crypto, which a plan never needs.
    const { checkScripts } = await import("./scripts.js");
    const { errors, warnings } = checkScripts(parsed.graph.migrations, root, path);
    if (parsed.graph.keys !== null) {
      const { checkKeyFiles } = await import("./keys.js");
      errors.push(...checkKeyFiles(parsed.graph, root, path));
    }
    if (errors.length > 0) throw InputError.fromDiagnostics(errors);
    parsed.warnings.push(...warnings);
  }
  return { ...parsed, file, root, json };
}
