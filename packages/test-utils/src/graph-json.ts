/** The file name the tests' graphs are reported under. */
export const FILE = "release-graph.json";

type Json = Record<string, unknown>;

/**
 * A graph as a test writes it: the JSON a user writes, minus the boilerplate
 * (`schemaVersion`, and each migration's `script`, which planning ignores).
 */
export interface GraphJson {
  components?: Record<string, Json>;
  releases: Json[];
  migrations?: Json[];
}

/** The complete file: `schemaVersion` added, each migration given a script path. */
export function graphJson(g: GraphJson): Json {
  return {
    schemaVersion: 1,
    components: g.components ?? {},
    releases: g.releases,
    migrations: (g.migrations ?? []).map((m) => ({ script: `migrations/${m.id}.sh`, ...m })),
  };
}

/** A release-graph.json text from a partial graph, with defaults for the boring parts. */
export function graphText(g: Record<string, unknown>): string {
  return JSON.stringify(
    { schemaVersion: 1, components: {}, releases: [], migrations: [], ...g },
    null,
    2,
  );
}
