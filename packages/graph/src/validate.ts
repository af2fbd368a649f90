import { type Diagnostic, InputError } from "@stepstone/errors";
import { isInsideRelative, suggest } from "./checks.js";
import { nameEntries } from "./entries.js";
import { defaultOf, type EntryOf, type Salvaged } from "./format.js";
import { afterCycles, componentOrder } from "./migration-order.js";
import type { Component, Migration, PlatformOverride, Release, ReleaseGraph } from "./model.js";
import { COMPONENT_NAME, MIGRATION_ID } from "./names.js";
import { parseRange, parseVersion, versionKey } from "./semver.js";
import { shippingIndex } from "./shipping.js";
import { checkKeys, checkReleaseKeys, warnKeys } from "./validate-keys.js";

export { suggest } from "./checks.js";
export type { Salvaged } from "./format.js";

// What an absent optional field means (format.ts).
const WIPEABLE = defaultOf("component", "wipeable");
const ON_FAILURE = defaultOf("component", "onFailure");
const BASELINE = defaultOf("component", "baseline");
const RUNNER = defaultOf("release", "runner");
const GOLDEN = defaultOf("release", "golden");
const TRANSITION = defaultOf("release", "transition");
const WITHDRAWN = defaultOf("release", "withdrawn");

/** The `after` of the many migrations that have none: one shared empty list. */
const NO_IDS: readonly string[] = Object.freeze([]);

export interface ParsedGraph {
  graph: ReleaseGraph;
  /** Problems that do not stop anything (exit 0), e.g. a wipeable component without paths. */
  warnings: Diagnostic[];
}

/** `["releases", 2, "epochs", "users"]` -> `releases[2].epochs.users` */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else {
      const k = String(key);
      out += /^[A-Za-z_$][\w$-]*$/.test(k) ? (out === "" ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    }
  }
  return out === "" ? "$" : out;
}

export interface ParseOptions {
  /**
   * Also look for releases that could not recover from a failed flash (every release
   * against every down-migration it ships). Only `validate` shows warnings, so commands
   * that plan skip this pass. Default true.
   */
  deepWarnings?: boolean;
  /**
   * The caller has run isGraphFile (or graphFileKeys) on this very input, and it passed:
   * parseGraphAsync need not walk it again.
   */
  shapeChecked?: boolean;
}

/**
 * The semantic checks (references, ids, versions, ranges, cycles) over a structurally
 * checked document, then the typed model; throws one InputError listing every problem,
 * the structural ones already in `errors` included (never just the first).
 */
export function checkGraph(
  doc: Salvaged,
  input: unknown,
  file: string,
  errors: Diagnostic[],
  options: ParseOptions = {},
): ParsedGraph {
  const warnings: Diagnostic[] = [];
  const err = (path: readonly PropertyKey[], message: string) =>
    errors.push({ file, where: jsonPath(path), message });
  const warn = (path: readonly PropertyKey[], message: string) =>
    warnings.push({ file, where: jsonPath(path), message });

  // Ids present in the file, parsed or not: a broken entry must not make every reference
  // to it an "unknown" error too. A file that passed the structural check as it is has
  // no broken entry: its ids are the parsed ones (byId, below), no second set needed.
  let knownIds: { has(id: string): boolean; keys(): IterableIterator<string> } | null = null;
  if (doc !== input) {
    const ids = new Set<string>();
    const listed = (input as { migrations?: unknown }).migrations;
    if (Array.isArray(listed)) {
      for (let i = 0; i < listed.length; i++) {
        const id = (listed[i] as { id?: unknown } | null)?.id;
        if (typeof id === "string") ids.add(id);
      }
    }
    knownIds = ids;
  }

  // Components.
  const componentNames = Object.keys(doc.components);
  const isComponent = new Set(componentNames);
  const components = new Map<string, Component>();
  for (const name of componentNames) {
    const c = doc.components[name];
    if (c === undefined || c === null) continue;
    if (!COMPONENT_NAME.test(name)) {
      err(["components", name], `component name must match ${COMPONENT_NAME.source}`);
    }
    const wipeable = c.wipeable ?? WIPEABLE;
    const paths = c.paths ?? [];
    for (const [i, p] of paths.entries()) {
      if (!isInsideRelative(p)) {
        err(
          ["components", name, "paths", i],
          `"${p}" must be relative to the persistent root, without ".." (e.g. "etc/passwd")`,
        );
      }
    }
    // The runner's wipe policy resets the component's paths: without paths it would record
    // the image's epoch over data no script converted, and a component the plans may not
    // wipe must not be wiped by its failure policy either.
    if (c.onFailure === "wipe" && !wipeable) {
      err(
        ["components", name, "onFailure"],
        'is "wipe" but the component is not wipeable: a failed script would wipe data no plan may wipe; use "halt" or "isolate", or make it wipeable',
      );
    } else if (c.onFailure === "wipe" && paths.length === 0) {
      err(
        ["components", name, "onFailure"],
        'is "wipe" but the component has no paths: the runner could not reset its data (it would stop as "halt"); add its "paths" or use "halt" or "isolate"',
      );
    }
    if (wipeable && paths.length === 0) {
      warn(
        ["components", name],
        "wipeable but has no paths: a wipe cannot reset it, and fresh data cannot be told from old data",
      );
    }
    components.set(name, {
      name,
      wipeable,
      paths,
      onFailure: c.onFailure ?? ON_FAILURE,
      services: c.services ?? [],
      baseline: c.baseline ?? BASELINE,
      ...(c.notes !== undefined && { notes: c.notes }),
    });
  }

  // Migrations. `migrations[k]` came from migrations[fileIndex[k]] of the file.
  const migrations: Migration[] = [];
  const fileIndex: number[] = [];
  const byId = new Map<string, number>();
  // Index loops, not entries(): these run once per migration of a vendor-sized graph in
  // a command that runs once, before the JIT has warmed up.
  const docMigrations = doc.migrations ?? [];
  for (let i = 0; i < docMigrations.length; i++) {
    const m = docMigrations[i];
    if (m === undefined || m === null) continue;
    if (!MIGRATION_ID.test(m.id))
      err(["migrations", i, "id"], `"${m.id}" must match ${MIGRATION_ID.source}`);
    const first = byId.get(m.id);
    if (first !== undefined)
      err(
        ["migrations", i, "id"],
        `duplicate id "${m.id}" (first at migrations[${fileIndex[first]}])`,
      );
    else byId.set(m.id, migrations.length);
    fileIndex.push(i);
    migrations.push(checkMigration(m, i, isComponent, componentNames, err));
  }
  const known = knownIds ?? byId;
  for (let k = 0; k < migrations.length; k++) {
    const m = migrations[k] as Migration;
    const i = fileIndex[k] as number;
    for (const [j, dep] of m.after.entries()) {
      if (dep === m.id) err(["migrations", i, "after", j], "a migration cannot run after itself");
      else if (!known.has(dep))
        err(
          ["migrations", i, "after", j],
          `unknown migration "${dep}"${suggest(dep, [...known.keys()])}`,
        );
    }
  }
  // `after` is rare: without it there is no cycle and no order to derive.
  const anyAfter = migrations.some((m) => m.after.length > 0);
  if (anyAfter)
    afterCycles(migrations, byId, (k, msg) =>
      err(["migrations", fileIndex[k] as number, "after"], msg),
    );

  const keys = checkKeys(doc, err);

  // Releases.
  const releases: { release: Release; index: number }[] = [];
  const seenVersions = new Map<string, number>();
  const platforms = new Set<string>();
  for (let i = 0; i < doc.releases.length; i++) {
    const r = doc.releases[i];
    if (r === undefined || r === null) continue;
    const sv = parseVersion(r.version);
    if (sv === null) {
      err(
        ["releases", i, "version"],
        `"${r.version}" is not a semver version (e.g. "2.10.0" or "2.10.1-transition.1")`,
      );
      continue;
    }
    const key = versionKey(sv);
    const first = seenVersions.get(key);
    if (first !== undefined) {
      err(
        ["releases", i, "version"],
        `duplicate release ${key} (first at releases[${first}]; versions equal but for +build are the same release)`,
      );
    } else seenVersions.set(key, i);
    // Keys are unique: when every key names a component and there are as many keys as
    // components, none is missing (no lookup per component).
    const named = Object.keys(r.epochs);
    let unknown = 0;
    for (const name of named) if (!isComponent.has(name)) unknown++;
    if (named.length - unknown < componentNames.length) {
      for (const name of componentNames) {
        if (r.epochs[name] === undefined)
          err(["releases", i, "epochs"], `missing the epoch of component "${name}"`);
      }
    }
    if (unknown > 0)
      for (const name of named) {
        if (!isComponent.has(name))
          err(
            ["releases", i, "epochs", name],
            `unknown component "${name}"${suggest(name, componentNames)}`,
          );
      }
    const overrides: Record<string, PlatformOverride> = {};
    for (const [p, o] of r.platforms === undefined ? [] : Object.entries(r.platforms)) {
      platforms.add(p);
      for (const name of Object.keys(o.epochs)) {
        if (!isComponent.has(name)) {
          err(
            ["releases", i, "platforms", p, "epochs", name],
            `unknown component "${name}"${suggest(name, componentNames)}`,
          );
        }
      }
      overrides[p] = { epochs: o.epochs };
    }
    let upgradeFrom = null;
    if (r.upgradeFrom !== undefined) {
      upgradeFrom = parseRange(r.upgradeFrom);
      if (upgradeFrom === null)
        err(
          ["releases", i, "upgradeFrom"],
          `"${r.upgradeFrom}" is not a semver range (e.g. ">=2.9.0")`,
        );
    }
    const runner = r.runner ?? RUNNER;
    if (keys !== null) checkReleaseKeys(r, i, runner, keys, err);
    const ships = r.ships ?? [];
    for (const [j, id] of ships.entries()) {
      if (!known.has(id))
        err(
          ["releases", i, "ships", j],
          `unknown migration "${id}"${suggest(id, [...known.keys()])}`,
        );
    }
    if (!runner && ships.length > 0) {
      warn(
        ["releases", i, "ships"],
        "this release has no runner (runner: false), so it runs none of the migrations it ships",
      );
    }
    releases.push({
      index: i,
      release: {
        version: r.version,
        semver: sv,
        line: r.line ?? `${sv.major}.${sv.minor}`,
        golden: r.golden ?? GOLDEN,
        transition: r.transition ?? TRANSITION,
        withdrawn: r.withdrawn ?? WITHDRAWN,
        runner,
        epochs: r.epochs,
        ships,
        upgradeFrom,
        signedBy: r.signedBy ?? null,
        trusts: r.trusts ?? null,
        platforms: overrides,
        ...(r.tag !== undefined && { tag: r.tag }),
        ...(r.notes !== undefined && { notes: r.notes }),
      },
    });
  }

  const order = anyAfter
    ? componentOrder(componentNames, migrations, byId, (msg) => err(["migrations"], msg))
    : componentNames;
  if (errors.length > 0) throw InputError.fromDiagnostics(nameEntries(errors, input));

  releases.sort((a, b) => a.release.semver.compare(b.release.semver));
  const graph: ReleaseGraph = {
    components: order.map((n) => components.get(n) as Component),
    releases: releases.map((r) => r.release),
    migrations,
    platforms: [...platforms].sort(),
    keys: keys?.model ?? null,
  };
  const fileIndexOf = new Map(releases.map((r) => [r.release, r.index]));
  warnKeys(graph, fileIndexOf, warn, (message) => warnings.push({ file, where: "", message }));
  if (options.deepWarnings !== false) warnUnrecoverableDowngrades(graph, fileIndexOf, warn);
  return { graph, warnings };
}

type DocMigration = EntryOf<"migration">;

function checkMigration(
  m: DocMigration,
  i: number,
  isComponent: ReadonlySet<string>,
  componentNames: readonly string[],
  err: (path: readonly PropertyKey[], message: string) => void,
): Migration {
  if (!isComponent.has(m.component)) {
    err(
      ["migrations", i, "component"],
      `unknown component "${m.component}"${suggest(m.component, componentNames)}`,
    );
  }
  if (m.from === m.to)
    err(
      ["migrations", i, "to"],
      `from and to are both ${m.from}: a migration must change the epoch`,
    );
  if (!isInsideRelative(m.script)) {
    err(
      ["migrations", i, "script"],
      `"${m.script}" must be a relative path inside the graph's folder (no "..", not absolute)`,
    );
  }
  let shippedIn = null;
  if (m.shippedIn !== undefined) {
    shippedIn = parseRange(m.shippedIn);
    if (shippedIn === null)
      err(
        ["migrations", i, "shippedIn"],
        `"${m.shippedIn}" is not a semver range (e.g. ">=2.10.0 <2.12.0")`,
      );
  }
  const migration: {
    -readonly [K in keyof Migration]: Migration[K];
  } = {
    id: m.id,
    component: m.component,
    from: m.from,
    to: m.to,
    script: m.script,
    shippedIn,
    after: m.after ?? NO_IDS,
  };
  if (m.sha256 !== undefined) migration.sha256 = m.sha256;
  if (m.description !== undefined) migration.description = m.description;
  if (m.notes !== undefined) migration.notes = m.notes;
  return migration;
}

/**
 * A release that ships a down-migration c: x -> y but not c: y -> x could not recover if
 * the flash fails after pre-flash ran: the device would reboot into it with data at y.
 */
function warnUnrecoverableDowngrades(
  graph: ReleaseGraph,
  fileIndex: ReadonlyMap<Release, number>,
  warn: (path: readonly PropertyKey[], message: string) => void,
): void {
  const index = shippingIndex(graph);
  const ups = new Map<string, Migration[]>();
  for (const m of graph.migrations) {
    const k = `${m.component}\0${m.from}\0${m.to}`;
    const list = ups.get(k);
    if (list) list.push(m);
    else ups.set(k, [m]);
  }
  const found: { r: number; m: Migration }[] = [];
  for (const m of graph.migrations) {
    if (m.to >= m.from) continue;
    const back = ups.get(`${m.component}\0${m.to}\0${m.from}`) ?? [];
    for (const r of index.releasesShipping(m)) {
      if (!back.some((u) => index.ships(r, u))) found.push({ r, m });
    }
  }
  found.sort((x, y) => x.r - y.r);
  for (const { r: ri, m } of found) {
    const r = graph.releases[ri] as Release;
    warn(
      ["releases", fileIndex.get(r) ?? 0],
      `${r.version} ships down-migration "${m.id}" (${m.component} ${m.from} -> ${m.to}) without an up-migration ${m.to} -> ${m.from}: if flashing fails after pre-flash, the device reboots into ${r.version} with data it cannot read`,
    );
  }
}
