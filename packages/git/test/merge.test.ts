import { InputError } from "@stepstone/errors";
import { parseVersion } from "@stepstone/graph";
import { parseGraph } from "@stepstone/graph/schema";
import { sha256 } from "@stepstone/graph-file/scripts";
import type { SemVer } from "semver";
import { describe, expect, it } from "vitest";
import {
  type ComponentState,
  type MergeResult,
  mergeSync,
  ordered,
  type PinnedScript,
  parseTagVersion,
  type TagState,
} from "../src/index.js";

type Json = Record<string, unknown>;

/**
 * A tag as `sync` reads it, written compactly: the epoch of each component that has a
 * folder, and its scripts as `component/from-to-slug` -> content.
 */
function tag(
  name: string,
  epochs: Record<string, number>,
  scripts: Record<string, string> = {},
): TagState {
  const version = parseTagVersion(name) as string;
  const components = new Map<string, ComponentState>();
  for (const [c, epoch] of Object.entries(epochs)) components.set(c, { epoch, scripts: [] });
  for (const [key, content] of Object.entries(scripts)) {
    const [c = "", file = ""] = key.split("/");
    const [from, to, ...slug] = file.split("-");
    const s: PinnedScript = {
      id: `${c}-${from}-${to}-${slug.join("-")}`,
      component: c,
      from: Number(from),
      to: Number(to),
      path: `migrations/${c}/${file}.sh`,
      blob: sha256(content),
      executable: true,
      sha256: sha256(content),
    };
    const prev = components.get(c) ?? { epoch: 1, scripts: [] };
    components.set(c, { epoch: prev.epoch, scripts: [...prev.scripts, s] });
  }
  return { tag: name, version, semver: parseVersion(version) as SemVer, components };
}

/** One `sync`: the old document (validated as stepstone reads it) merged with the tags. */
function sync(old: Json | null, tags: TagState[], repoTags?: string[]): MergeResult {
  return mergeSync({
    file: "release-graph.json",
    old: old && { json: old, graph: parseGraph(old, "release-graph.json").graph },
    tags,
    repoTags: new Set(repoTags ?? tags.map((t) => t.tag)),
  });
}

const rel = (doc: Json, version: string) =>
  (doc.releases as Json[]).find((r) => r.version === version) as Json;
const mig = (doc: Json, id: string) => (doc.migrations as Json[]).find((m) => m.id === id) as Json;

const A = "#!/bin/sh\nset -eu\n# a\n";
const B = "#!/bin/sh\nset -eu\n# b\n";

const history = [
  tag("v1.0", { users: 1 }),
  tag("v1.1.0", { users: 2 }, { "users/1-2-groups": A }),
  tag("1.2.0-rc1", { users: 2 }, { "users/1-2-groups": A, "users/2-1-groups": B }),
  tag("v1.2.0", { users: 2 }, { "users/1-2-groups": A, "users/2-1-groups": B }),
  tag("v1.3.0", { users: 2, network: 2 }, { "users/2-1-groups": B }),
];

describe("sync: releases and migrations from tags", () => {
  it("makes every tag a release with its epochs, scripts pinned and shipped by range", () => {
    const r = sync(null, history);
    expect(r.doc.components).toEqual({ network: { wipeable: false }, users: { wipeable: false } });
    expect(r.doc.releases).toEqual([
      { version: "1.0.0", epochs: { network: 1, users: 1 }, tag: "v1.0" },
      { version: "1.1.0", epochs: { network: 1, users: 2 }, tag: "v1.1.0" },
      { version: "1.2.0-rc1", epochs: { network: 1, users: 2 }, tag: "1.2.0-rc1" },
      { version: "1.2.0", epochs: { network: 1, users: 2 }, tag: "v1.2.0" },
      { version: "1.3.0", epochs: { network: 2, users: 2 }, tag: "v1.3.0" },
    ]);
    expect(r.doc.migrations).toEqual([
      {
        id: "users-1-2-groups",
        component: "users",
        from: 1,
        to: 2,
        script: "migrations/users/1-2-groups.sh",
        shippedIn: ">=1.1.0 <1.3.0",
        sha256: sha256(A),
      },
      {
        id: "users-2-1-groups",
        component: "users",
        from: 2,
        to: 1,
        script: "migrations/users/2-1-groups.sh",
        shippedIn: ">=1.2.0-rc1",
        sha256: sha256(B),
      },
    ]);
    expect(r.changed).toBe(true);
    expect(r.changes.releases.added).toHaveLength(5);
    expect(r.scripts.map((s) => s.path)).toEqual([
      "migrations/users/1-2-groups.sh",
      "migrations/users/2-1-groups.sh",
    ]);
  });

  it("gives the same document back when nothing changed (a re-sync writes no byte)", () => {
    const first = sync(null, history).doc;
    const again = sync(first, history);
    expect(again.changed).toBe(false);
    expect(JSON.stringify(again.doc, null, 2)).toBe(JSON.stringify(first, null, 2));
    expect(again.changes.releases).toEqual({ added: [], updated: [], unchanged: 5 });
  });

  it("keeps every field set by hand, where it was written", () => {
    const first = sync(null, history).doc;
    const edited = structuredClone(first);
    (edited.components as Json).users = {
      paths: ["etc/passwd", "etc/group"],
      onFailure: "halt",
      services: ["phosphor-user-manager.service"],
      baseline: 1,
      notes: "accounts",
    };
    Object.assign(rel(edited, "1.0.0"), { golden: true, runner: false, notes: "factory image" });
    const r12 = rel(edited, "1.2.0");
    Object.assign(r12, {
      golden: true,
      line: "1.2-lts",
      upgradeFrom: ">=1.0.0",
      signedBy: "k1",
      trusts: ["k1"],
      platforms: { qemuarm: { epochs: { users: 1 } } },
    });
    Object.assign(mig(edited, "users-2-1-groups"), { description: "drop groups", after: [] });
    edited.notes = "vendor graph";
    const r = sync(edited, [...history, tag("v1.4.0", { users: 2, network: 2 })]);
    expect((r.doc.components as Json).users).toEqual((edited.components as Json).users);
    expect(rel(r.doc, "1.0.0")).toEqual({
      version: "1.0.0",
      golden: true,
      runner: false,
      epochs: { network: 1, users: 1 },
      tag: "v1.0",
      notes: "factory image",
    });
    expect(Object.keys(rel(r.doc, "1.2.0"))).toEqual([
      "version",
      "epochs",
      "tag",
      "golden",
      "line",
      "upgradeFrom",
      "signedBy",
      "trusts",
      "platforms",
    ]);
    expect(mig(r.doc, "users-2-1-groups")).toMatchObject({
      description: "drop groups",
      shippedIn: ">=1.2.0-rc1 <1.4.0",
    });
    expect(r.doc.notes).toBe("vendor graph");
    expect(r.changes.releases).toEqual({ added: ["1.4.0"], updated: [], unchanged: 5 });
    expect(sync(r.doc, [...history, tag("v1.4.0", { users: 2, network: 2 })]).changed).toBe(false);
  });

  it("keeps a release added by hand shipping what it shipped", () => {
    const first = sync(null, history.slice(0, 4)).doc;
    // A transition build between 1.2.0 and the next tag, written by hand: it carries the
    // scripts of its line (by range) and names the down-migration explicitly.
    const hand = structuredClone(first);
    (hand.releases as Json[]).push({
      version: "1.2.1-transition.1",
      transition: true,
      epochs: { users: 2 },
      ships: ["users-2-1-groups"],
    });
    const later = [
      ...history.slice(0, 4),
      tag("v1.3.0", { users: 2 }, { "users/2-1-groups": B, "users/2-3-new": A }),
    ];
    const r = sync(hand, later);
    // users-1-2 ends before 1.3.0 (not at that tag) but still covers the transition build.
    expect(mig(r.doc, "users-1-2-groups").shippedIn).toBe(">=1.1.0 <1.3.0");
    // A script new in 1.3.0 is not in the transition build, which predates it.
    expect(mig(r.doc, "users-2-3-new").shippedIn).toBe(">=1.3.0");
    expect(rel(r.doc, "1.2.1-transition.1")).toEqual((hand.releases as Json[])[4]);
    expect(sync(r.doc, later).changed).toBe(false);

    // A script that appears in 1.2.0-rc1 and in 1.3.0: the transition build between them
    // (which never had it) must not start shipping it.
    const backport = [
      ...history.slice(0, 2),
      tag("1.2.0-rc1", { users: 2 }, { "users/1-2-groups": A, "users/5-6-fix": B }),
      history[3] as TagState,
      tag("v1.3.0", { users: 2 }, { "users/5-6-fix": B }),
    ];
    const r2 = sync(hand, backport);
    expect(mig(r2.doc, "users-5-6-fix").shippedIn).toBe("1.2.0-rc1 || >=1.3.0");
    expect(sync(r2.doc, backport).changed).toBe(false);
  });

  it("gives a release added by hand the epoch of a new component as the release below it", () => {
    const hand = structuredClone(sync(null, history.slice(0, 4)).doc);
    (hand.releases as Json[]).push({ version: "1.2.1-transition.1", epochs: { users: 2 } });
    const r = sync(hand, [...history.slice(0, 3), tag("v1.2.0", { users: 2, sensors: 3 })]);
    expect(rel(r.doc, "1.2.1-transition.1").epochs).toEqual({ users: 2, sensors: 3 });
    expect(r.warnings).toContain(
      "release 1.2.1-transition.1 is not read from a tag: new component sensors given epoch 3 (as in 1.2.0); check it",
    );
  });

  it("writes ships entries where more than two ranges would be needed", () => {
    const on = (name: string) => tag(name, { users: 2 }, { "users/2-1-groups": B });
    const off = (name: string) => tag(name, { users: 2 });
    const tags = [
      on("v1.0.0"),
      off("v1.1.0"),
      on("v1.2.0"),
      off("v1.3.0"),
      on("v1.4.0"),
      on("v1.5.0"),
    ];
    const r = sync(null, tags);
    expect(mig(r.doc, "users-2-1-groups").shippedIn).toBe(">=1.4.0");
    expect(rel(r.doc, "1.0.0").ships).toEqual(["users-2-1-groups"]);
    expect(rel(r.doc, "1.2.0").ships).toEqual(["users-2-1-groups"]);
    expect(rel(r.doc, "1.1.0").ships).toBeUndefined();
    const g = parseGraph(r.doc, "g").graph;
    expect(
      g.releases.map(
        (x) => x.ships.length > 0 || (g.migrations[0]?.shippedIn?.test(x.semver) ?? false),
      ),
    ).toEqual([true, false, true, false, true, true]);
    expect(sync(r.doc, tags).changed).toBe(false);
  });

  it("reports a released script whose content changed, and pins the newest content", () => {
    const r = sync(null, [
      tag("v1.0.0", { users: 2 }, { "users/1-2-groups": A }),
      tag("v1.1.0", { users: 2 }, { "users/1-2-groups": B }),
    ]);
    expect(mig(r.doc, "users-1-2-groups").sha256).toBe(sha256(B));
    expect(r.warnings).toEqual([
      `migration users-1-2-groups: migrations/users/1-2-groups.sh changed between tags v1.0.0 and v1.1.0 (sha256 ${sha256(A).slice(0, 12)} -> ${sha256(B).slice(0, 12)}): a released migration must not change; the graph pins its content at v1.1.0`,
    ]);
  });

  it("stops shipping from tagged releases what no tag holds, and says so", () => {
    const first = structuredClone(sync(null, history).doc);
    (first.migrations as Json[]).push({
      id: "users-2-0-reset",
      component: "users",
      from: 2,
      to: 0,
      script: "extra/reset.sh",
      shippedIn: ">=1.2.0",
    });
    rel(first, "1.3.0").ships = ["users-2-0-reset"];
    const r = sync(first, history);
    expect(mig(r.doc, "users-2-0-reset")).toEqual({
      id: "users-2-0-reset",
      component: "users",
      from: 2,
      to: 0,
      script: "extra/reset.sh",
    });
    expect(rel(r.doc, "1.3.0").ships).toBeUndefined();
    expect(r.warnings).toEqual([
      "migration users-2-0-reset is in none of the tags read: the releases read from tags no longer ship it",
      'release 1.3.0 named users-2-0-reset in "ships", but tag v1.3.0 does not hold it: removed (a release ships exactly the scripts of its tag)',
    ]);
  });

  it("keeps a release whose tag is gone, and says so", () => {
    const first = sync(null, history).doc;
    const r = sync(
      first,
      history.slice(0, 4),
      history.slice(0, 4).map((t) => t.tag),
    );
    expect(rel(r.doc, "1.3.0")).toEqual(rel(first, "1.3.0"));
    expect(r.warnings).toContain(
      "release 1.3.0 records tag v1.3.0, which the repository does not have: kept as it is",
    );
    // Filtered out (--tags) rather than deleted: kept without a word.
    expect(
      sync(
        first,
        history.slice(0, 4),
        history.map((t) => t.tag),
      ).warnings,
    ).toEqual([]);
  });

  it("says when a component without a folder at a tag loses the epoch the graph gave it", () => {
    const first = structuredClone(sync(null, history).doc);
    (rel(first, "1.0.0").epochs as Json).network = 2;
    expect(sync(first, history).warnings).toEqual([
      "release 1.0.0: component network has no folder at tag v1.0, so its epoch there is 1 (the graph said 2)",
    ]);
  });

  it("writes nothing it could not read back", () => {
    // The layout never yields such a name; the guard is for whatever else could go wrong.
    const bad = tag("v2.0.0", { users: 2 });
    (bad.components as Map<string, ComponentState>).set("Bad Name", { epoch: 1, scripts: [] });
    expect(() => sync(sync(null, history).doc, [...history, bad])).toThrow(
      /sync would make release-graph.json invalid, so it writes nothing:\nrelease-graph.json: components\["Bad Name"\]: component name must match/,
    );
    expect(() => sync(null, [bad])).toThrow(InputError);
  });
});

describe("ordered: new keys where DESIGN.md puts them, old keys where they were", () => {
  const order = ["version", "golden", "epochs", "ships", "tag", "notes"];
  it("keeps the old order and slots new keys in", () => {
    const out = ordered(
      { notes: "n", version: "1", epochs: {} },
      { version: "1", epochs: {}, notes: "n", ships: ["a"], golden: true },
      order,
    );
    expect(Object.keys(out)).toEqual(["notes", "version", "golden", "epochs", "ships"]);
  });
  it("drops undefined keys and sorts a new object by the order", () => {
    expect(Object.keys(ordered(null, { tag: "t", ships: undefined, version: "1" }, order))).toEqual(
      ["version", "tag"],
    );
  });
});

describe("sync and a graph written before the naming convention", () => {
  it("refuses to let a repository script overwrite another migration's file", () => {
    const old = {
      schemaVersion: 1,
      components: { users: {} },
      releases: [{ version: "1.0.0", epochs: { users: 1 } }],
      migrations: [
        {
          id: "users-1-2",
          component: "users",
          from: 1,
          to: 2,
          script: "migrations/users/1-2-groups.sh",
        },
      ],
    };
    expect(() => sync(old, history)).toThrow(
      "release-graph.json: migrations from the repository would overwrite the script of another migration: users-1-2 and users-1-2-groups (migrations/users/1-2-groups.sh). Give the graph's migration the repository's id (<component>-<from>-<to>-<slug>) so they are one, or move its script; nothing written",
    );
    old.migrations[0] = {
      ...(old.migrations[0] as (typeof old.migrations)[0]),
      id: "users-1-2-groups",
    };
    expect(mig(sync(old, history).doc, "users-1-2-groups").shippedIn).toBe(">=1.1.0 <1.3.0");
  });
});
