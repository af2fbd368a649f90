import { FILE, type GraphJson, graphJson } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import type { ParsedGraph } from "../src/index.js";
import { parseGraph } from "../src/schema-entry.js";

/**
 * DESIGN.md "release-graph.json": what parseGraph refuses (every error at once, as
 * `FILE: JSON.path: message`, exit 2) and what it only warns about. The planner relies on
 * these guarantees instead of re-checking them.
 */

const base = {
  schemaVersion: 1,
  components: { users: { paths: ["etc/passwd"] } },
  releases: [
    { version: "1.0.0", epochs: { users: 1 } },
    { version: "2.0.0", epochs: { users: 2 } },
  ],
  migrations: [
    {
      id: "users-1-2",
      component: "users",
      from: 1,
      to: 2,
      script: "migrations/users/1-2.sh",
      shippedIn: ">=2.0.0",
    },
  ],
};

/** The base graph with some releases or migrations replaced. */
function withChanges(change: {
  releases?: unknown[];
  migrations?: unknown[];
  components?: unknown;
}) {
  return { ...base, ...change };
}

describe("errors", () => {
  it("a valid graph parses, with releases sorted by precedence", () => {
    const { graph, warnings } = parseGraph(
      { ...base, releases: [...base.releases].reverse(), $schema: "./schema.json" },
      FILE,
    );
    expect(graph.releases.map((r) => r.version)).toEqual(["1.0.0", "2.0.0"]);
    expect(warnings).toEqual([]);
  });

  it("are all reported at once, one `FILE: path: message` line each, as an exit-2 InputError", () => {
    const lines = errorsOf(
      withChanges({
        releases: [
          { version: "1.0.0", epochs: { users: 1 }, upgradeFrom: "not a range" },
          { version: "2.0.0", epochs: { users: 2, usres: 2 } },
          { version: "2.0.0+build.7", epochs: { users: 2 } },
        ],
        migrations: [
          { id: "users-1-2", component: "users", from: 1, to: 2, script: "../outside.sh" },
          {
            id: "users-1-2",
            component: "user",
            from: 2,
            to: 2,
            script: "m.sh",
            shippedIn: ">=2.x.y",
          },
        ],
      }),
    );
    expect(lines).toEqual([
      'release-graph.json: migrations[0].script: migration "users-1-2": "../outside.sh" must be a relative path inside the graph\'s folder (no "..", not absolute)',
      'release-graph.json: migrations[1].id: duplicate id "users-1-2" (first at migrations[0])',
      'release-graph.json: migrations[1].component: migration "users-1-2": unknown component "user" (did you mean "users"?)',
      'release-graph.json: migrations[1].to: migration "users-1-2": from and to are both 2: a migration must change the epoch',
      'release-graph.json: migrations[1].shippedIn: migration "users-1-2": ">=2.x.y" is not a semver range (e.g. ">=2.10.0 <2.12.0")',
      'release-graph.json: releases[0].upgradeFrom: "not a range" is not a semver range (e.g. ">=2.9.0")',
      'release-graph.json: releases[1].epochs.usres: unknown component "usres" (did you mean "users"?)',
      "release-graph.json: releases[2].version: duplicate release 2.0.0 (first at releases[1]; versions equal but for +build are the same release)",
    ]);
  });

  it("an unknown key is an error with the key it probably meant: goldne -> golden", () => {
    const lines = errorsOf(
      withChanges({ releases: [{ version: "1.0.0", goldne: true, epochs: { users: 1 } }] }),
    );
    expect(lines).toEqual([
      'release-graph.json: releases[0]: unknown key "goldne" (did you mean "golden"?) (free text goes in "notes")',
    ]);
  });

  it("reports structural and semantic errors in one run (DESIGN: all of them, not just the first)", () => {
    const releases = [
      { version: "1.0.0", goldne: true, epochs: { users: 1 } },
      { version: "2.0.0", epochs: { users: 2 }, upgradeFrom: ">=1.0.0.0" },
    ];
    expect(errorsOf(withChanges({ releases }))).toEqual([
      'release-graph.json: releases[0]: unknown key "goldne" (did you mean "golden"?) (free text goes in "notes")',
      'release-graph.json: releases[1].upgradeFrom: ">=1.0.0.0" is not a semver range (e.g. ">=2.9.0")',
    ]);
  });

  it("unknown keys are found everywhere: top level, components, migrations, platforms", () => {
    const lines = errorsOf({
      ...base,
      note: "x",
      components: { users: { paths: ["etc/passwd"], wipable: false } },
      releases: [
        { version: "1.0.0", epochs: { users: 1 }, platforms: { qemuarm: { epoch: { users: 2 } } } },
      ],
      migrations: [{ ...base.migrations[0], shipedIn: "*" }],
    });
    expect(lines).toEqual([
      'release-graph.json: components.users: unknown key "wipable" (did you mean "wipeable"?) (free text goes in "notes")',
      "release-graph.json: releases[0].platforms.qemuarm.epochs: required (record)",
      'release-graph.json: releases[0].platforms.qemuarm: unknown key "epoch" (did you mean "epochs"?) (free text goes in "notes")',
      'release-graph.json: migrations[0]: migration "users-1-2": unknown key "shipedIn" (did you mean "shippedIn"?) (free text goes in "notes")',
      'release-graph.json: $: unknown key "note" (did you mean "notes"?) (free text goes in "notes")',
    ]);
  });

  it("notes are allowed on the graph, components, releases and migrations", () => {
    const g = {
      ...base,
      notes: "n",
      components: { users: { paths: ["etc/passwd"], notes: "n" } },
      releases: base.releases.map((r) => ({ ...r, notes: "n" })),
      migrations: base.migrations.map((m) => ({ ...m, notes: "n" })),
    };
    expect(() => parseGraph(g, FILE)).not.toThrow();
  });

  it("a version that is not semver", () => {
    expect(
      errorsOf(withChanges({ releases: [{ version: "v2.10", epochs: { users: 1 } }] })),
    ).toEqual([
      'release-graph.json: releases[0].version: "v2.10" is not a semver version (e.g. "2.10.0" or "2.10.1-transition.1")',
    ]);
  });

  it("missing epochs, and epochs that are not integers >= 0", () => {
    expect(
      errorsOf(
        withChanges({
          components: { users: {}, network: {} },
          releases: [{ version: "1.0.0", epochs: { users: 1 } }],
          migrations: [],
        }),
      ),
    ).toEqual(['release-graph.json: releases[0].epochs: missing the epoch of component "network"']);
    expect(
      errorsOf(
        withChanges({
          releases: [
            { version: "1.0.0", epochs: { users: -1 } },
            { version: "2.0.0", epochs: { users: 1.5 } },
            { version: "3.0.0", epochs: { users: 2 ** 31 } },
          ],
        }),
      ),
    ).toEqual([
      "release-graph.json: releases[0].epochs.users: must be >= 0",
      "release-graph.json: releases[1].epochs.users: expected int, got number 1.5",
      "release-graph.json: releases[2].epochs.users: must be <= 2147483647",
    ]);
  });

  it("unknown components in platform overrides", () => {
    const lines = errorsOf(
      withChanges({
        releases: [
          {
            version: "1.0.0",
            epochs: { users: 1 },
            platforms: { qemuarm: { epochs: { network: 2 } } },
          },
        ],
      }),
    );
    expect(lines).toEqual([
      'release-graph.json: releases[0].platforms.qemuarm.epochs.network: unknown component "network"',
    ]);
  });

  it("ships naming an unknown migration", () => {
    expect(
      errorsOf(
        withChanges({
          releases: [{ version: "1.0.0", epochs: { users: 1 }, ships: ["users-1-3"] }],
        }),
      ),
    ).toEqual([
      'release-graph.json: releases[0].ships[0]: unknown migration "users-1-3" (did you mean "users-1-2"?)',
    ]);
  });

  it.each([
    ["/etc/passwd.sh"],
    ["../escape.sh"],
    ["migrations/../../escape.sh"],
    ["migrations\\users\\1-2.sh"],
  ])("a script must stay inside the graph's folder: %s", (script) => {
    const lines = errorsOf(withChanges({ migrations: [{ ...base.migrations[0], script }] }));
    expect(lines).toEqual([
      `release-graph.json: migrations[0].script: migration "users-1-2": "${script}" must be a relative path inside the graph's folder (no "..", not absolute)`,
    ]);
  });

  it("bad names and ids", () => {
    const lines = errorsOf(
      withChanges({
        components: { Users: {} },
        releases: [{ version: "1.0.0", epochs: { Users: 1 } }],
        migrations: [{ id: "Users_1_2", component: "Users", from: 1, to: 2, script: "m.sh" }],
      }),
    );
    expect(lines).toEqual([
      "release-graph.json: components.Users: component name must match ^[a-z][a-z0-9_-]*$",
      'release-graph.json: migrations[0].id: "Users_1_2" must match ^[a-z0-9][a-z0-9._-]*$',
    ]);
  });

  describe("after", () => {
    const m = (id: string, component: string, after: string[]) => ({
      id,
      component,
      from: 1,
      to: 2,
      script: `${id}.sh`,
      after,
    });
    const two = { users: {}, ownership: {} };
    const rel = [{ version: "1.0.0", epochs: { users: 1, ownership: 1 } }];

    it("names only existing migrations, never itself", () => {
      expect(
        errorsOf(
          withChanges({
            components: two,
            releases: rel,
            migrations: [m("a", "users", ["a", "b"])],
          }),
        ),
      ).toEqual([
        "release-graph.json: migrations[0].after[0]: a migration cannot run after itself",
        'release-graph.json: migrations[0].after[1]: unknown migration "b" (did you mean "a"?)',
      ]);
    });

    it("a cycle across components is an error (the components could not be ordered)", () => {
      const lines = errorsOf(
        withChanges({
          components: two,
          releases: rel,
          migrations: [m("users-a", "users", ["own-a"]), m("own-a", "ownership", ["users-a"])],
        }),
      );
      expect(lines).toEqual([
        'release-graph.json: migrations: the "after" links order components in a cycle: users -> ownership -> users',
      ]);
    });

    it("a cycle between migrations of one component is an error too", () => {
      const lines = errorsOf(
        withChanges({
          components: two,
          releases: rel,
          migrations: [
            m("users-a", "users", ["users-b"]),
            { ...m("users-b", "users", ["users-a"]), from: 2, to: 3 },
          ],
        }),
      );
      expect(lines).toEqual([
        'release-graph.json: migrations[0].after: the "after" links form a cycle: users-a -> users-b -> users-a',
      ]);
    });

    it("orders components: a component whose migrations run after another's comes later", () => {
      const { graph } = parseGraph(
        withChanges({
          components: two,
          releases: rel,
          migrations: [m("users-a", "users", ["own-a"]), m("own-a", "ownership", [])],
        }),
        FILE,
      );
      expect(graph.components.map((c) => c.name)).toEqual(["ownership", "users"]);
    });
  });

  it("a file that is not a graph at all", () => {
    expect(errorsOf({ schemaVersion: 2, releases: {} })).toEqual([
      "release-graph.json: schemaVersion: must be one of 1",
      "release-graph.json: components: required (record)",
      "release-graph.json: releases: expected array, got an object",
    ]);
  });
});

describe("the wipe failure policy", () => {
  it("needs a wipeable component with paths (else it would record an epoch over unconverted data)", () => {
    expect(
      errorsOf({
        schemaVersion: 1,
        components: {
          users: { onFailure: "wipe" },
          network: { onFailure: "wipe", wipeable: false, paths: ["etc/systemd/network"] },
          logs: { onFailure: "wipe", paths: ["var/log/sel"] },
        },
        releases: [{ version: "1.0.0", epochs: { users: 1, network: 1, logs: 1 } }],
      }),
    ).toEqual([
      'release-graph.json: components.users.onFailure: is "wipe" but the component has no paths: the runner could not reset its data (it would stop as "halt"); add its "paths" or use "halt" or "isolate"',
      'release-graph.json: components.network.onFailure: is "wipe" but the component is not wipeable: a failed script would wipe data no plan may wipe; use "halt" or "isolate", or make it wipeable',
    ]);
  });
});

describe("warnings (exit 0)", () => {
  it("a wipeable component without paths: a wipe could not reset it", () => {
    const { warnings } = parse({
      components: { users: {}, network: { wipeable: false } },
      releases: [{ version: "1.0.0", epochs: { users: 1, network: 1 } }],
    });
    expect(warnings).toEqual([
      {
        file: FILE,
        where: "components.users",
        message:
          "wipeable but has no paths: a wipe cannot reset it, and fresh data cannot be told from old data",
      },
    ]);
  });

  it("a release shipping a down-migration without the matching up-migration", () => {
    const g = {
      components: { users: { paths: ["etc/passwd"] } },
      releases: [
        { version: "2.0.0", epochs: { users: 2 } },
        { version: "2.1.0", epochs: { users: 2 } },
        { version: "2.2.0", epochs: { users: 2 }, runner: false },
      ],
      migrations: [
        { id: "users-2-1", component: "users", from: 2, to: 1, shippedIn: ">=2.0.0" },
        { id: "users-1-2", component: "users", from: 1, to: 2, shippedIn: ">=2.1.0" },
      ],
    };
    // 2.0.0 could not recover from a failed flash after pre-flash; 2.1.0 can; 2.2.0 runs nothing.
    expect(parse(g).warnings).toEqual([
      {
        file: FILE,
        where: "releases[0]",
        message: expect.stringMatching(
          /^2\.0\.0 ships down-migration "users-2-1" \(users 2 -> 1\) without an up-migration 1 -> 2/,
        ),
      },
    ]);
  });

  it("do not stop parsing", () => {
    const { graph } = parseGraph(
      graphJson({
        components: { users: {} },
        releases: [{ version: "1.0.0", epochs: { users: 1 } }],
      }),
      FILE,
    );
    expect(graph.releases).toHaveLength(1);
  });
});

function parse(g: GraphJson): ParsedGraph {
  return parseGraph(graphJson(g), FILE);
}

/** The problems parseGraph reports, one line each, asserting they come as one exit-2 error. */
export function errorsOf(g: Record<string, unknown>): string[] {
  try {
    parseGraph(g, FILE);
  } catch (e) {
    const err = e as Error & { exitCode?: number; diagnostics?: unknown[] };
    if (err.name !== "InputError" || err.exitCode !== 2) throw e;
    const lines = err.message.split("\n");
    if (err.diagnostics?.length !== lines.length) throw new Error("one diagnostic per line");
    return lines;
  }
  throw new Error("expected parseGraph to fail");
}
