/**
 * The device side of stepstone: the migration runner (one POSIX sh program, src/runner.sh)
 * and its systemd units, as rootfs-relative files. `emitRunner` is pure: the same options
 * give the same files; `writeTree` puts them on disk.
 */
import { readFileSync } from "node:fs";
import { InputError } from "@stepstone/errors";
import {
  migrationFailedTarget,
  migrationService,
  migrationTemplate,
  RUNNER_PATH,
  serviceDropIn,
  UNIT_DIR,
} from "./units.js";

export { RUNNER_PATH, UNIT_DIR } from "./units.js";
export { writeTree } from "./write-tree.js";

/** A file of the image's root file system. */
export interface EmittedFile {
  /** Relative to the root file system, `/`-separated, no leading slash. */
  path: string;
  mode: number;
  content: string;
}

export interface RunnerComponent {
  name: string;
  /** systemd units that must not start before this component's migrations ran. */
  services: readonly string[];
}

/**
 * How a script's epoch record is made durable.
 * - `companion` (default): records written by shell redirection, with a companion copy
 *   that recovery trusts when the main record is torn (see runner.sh, "Commit protocol").
 * - `rename`: the literal "temp file + mv + sync" scheme; one more process per script.
 *   Kept for the benchmark's comparison.
 */
export type RecordMode = "companion" | "rename";

export interface RunnerOptions {
  /** Where the image's bundle is installed. Default /usr/share/migration.d. */
  scriptsDir?: string;
  /** Persistent state: epochs, applied/failed records, journal. Default /var/lib/migration. */
  stateDir?: string;
  /** Public keys (*.pem) that must verify manifest.tsv.sig. Default <scriptsDir>/keys. */
  keysDir?: string;
  /** The persistent layer itself (e.g. an overlay's upper dir), where wipes delete. Default /. */
  upper?: string;
  /** The lock directory, on a tmpfs. Default /run/migration.lock. */
  lockDir?: string;
  /** From the graph; drop-ins are written only for these. */
  components?: readonly RunnerComponent[];
  recordMode?: RecordMode;
}

export const RUNNER_DEFAULTS = {
  scriptsDir: "/usr/share/migration.d",
  stateDir: "/var/lib/migration",
  upper: "/",
  lockDir: "/run/migration.lock",
  recordMode: "companion" as RecordMode,
};

let runnerSource: string | undefined;
function source(): string {
  runnerSource ??= readFileSync(new URL("../src/runner.sh", import.meta.url), "utf8");
  return runnerSource;
}

const COMPONENT_NAME = /^[a-z][a-z0-9_-]*$/;
// A unit name systemd accepts for a service (templates and instances included).
const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|mount|path|timer)$/;
// Paths go into single-quoted shell strings and unit files: a conservative set.
const SAFE_PATH = /^\/([A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*)?$/;

function checkDir(option: string, raw: string, allowRoot: boolean): string {
  // "/persist/upper/" means "/persist/upper"; "/" stays "/".
  const value = raw.length > 1 ? raw.replace(/\/+$/, "") || "/" : raw;
  const ok =
    SAFE_PATH.test(value) &&
    (allowRoot || value !== "/") &&
    !value.split("/").some((s) => s === "." || s === "..");
  if (!ok) {
    throw new InputError(
      `runner: ${option} must be an absolute, normalized path of [A-Za-z0-9._@+-] segments${
        allowRoot ? "" : " (not /)"
      }, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** The runner and its units for an image, as rootfs-relative files. */
export function emitRunner(options: RunnerOptions = {}): EmittedFile[] {
  const scriptsDir = checkDir(
    "scriptsDir",
    options.scriptsDir ?? RUNNER_DEFAULTS.scriptsDir,
    false,
  );
  const stateDir = checkDir("stateDir", options.stateDir ?? RUNNER_DEFAULTS.stateDir, false);
  const keysDir = checkDir("keysDir", options.keysDir ?? `${scriptsDir}/keys`, false);
  const upper = checkDir("upper", options.upper ?? RUNNER_DEFAULTS.upper, true);
  const lockDir = checkDir("lockDir", options.lockDir ?? RUNNER_DEFAULTS.lockDir, false);
  const recordMode = options.recordMode ?? RUNNER_DEFAULTS.recordMode;
  if (recordMode !== "companion" && recordMode !== "rename") {
    throw new InputError(`runner: unknown recordMode ${JSON.stringify(recordMode)}`);
  }

  const values: Record<string, string> = {
    SCRIPTS_DIR: scriptsDir,
    STATE_DIR: stateDir,
    KEYS_DIR: keysDir,
    UPPER_DIR: upper,
    LOCK_DIR: lockDir,
    RECORD_MODE: recordMode,
  };
  const runner = source().replace(/'@([A-Z_]+)@'/g, (whole, key: string) => {
    const v = values[key];
    return v === undefined ? whole : `'${v}'`;
  });

  const files: EmittedFile[] = [
    { path: RUNNER_PATH, mode: 0o755, content: runner },
    { path: `${UNIT_DIR}/migration.service`, mode: 0o644, content: migrationService(scriptsDir) },
    {
      path: `${UNIT_DIR}/migration@.service`,
      mode: 0o644,
      content: migrationTemplate(scriptsDir),
    },
    {
      path: `${UNIT_DIR}/migration-failed.target`,
      mode: 0o644,
      content: migrationFailedTarget(),
    },
  ];

  // One drop-in per service, naming every component it depends on (in graph order).
  const byService = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const c of options.components ?? []) {
    if (!COMPONENT_NAME.test(c.name)) {
      throw new InputError(`runner: bad component name ${JSON.stringify(c.name)}`);
    }
    if (seen.has(c.name)) throw new InputError(`runner: component ${c.name} given twice`);
    seen.add(c.name);
    for (const service of c.services) {
      if (!UNIT_NAME.test(service) || service.startsWith("migration")) {
        throw new InputError(
          `runner: component ${c.name}: ${JSON.stringify(service)} is not a unit name stepstone can add a drop-in to`,
        );
      }
      const list = byService.get(service) ?? [];
      if (!list.includes(c.name)) list.push(c.name);
      byService.set(service, list);
    }
  }
  for (const service of [...byService.keys()].sort()) {
    files.push({
      path: `${UNIT_DIR}/${service}.d/10-migration.conf`,
      mode: 0o644,
      content: serviceDropIn(byService.get(service) ?? []),
    });
  }
  return files;
}
