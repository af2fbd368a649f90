/**
 * The runner and its units for an image, as rootfs-relative files: pure, the same options
 * give the same files.
 */
import { InputError } from "@stepstone/errors";
import { RUNNER_SOURCE } from "./generated/runner-source.js";
import {
  type Layout,
  migrationFailedTarget,
  migrationService,
  migrationTemplate,
  parseLayout,
  RUNNER_PATH,
  serviceDropIn,
  UNIT_DIR,
} from "./units.js";

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

export interface RunnerOptions {
  /** Where the image's bundle is installed (its keys/ is the trust store). Default /usr/share/migration.d. */
  scriptsDir?: string;
  /** Persistent state: epochs, applied/failed records, journal. Default /var/lib/migration. */
  stateDir?: string;
  /** The persistent layer itself (e.g. an overlay's upper dir), where wipes delete. Default /. */
  upper?: string;
  /** The lock folder, on a tmpfs (the run's private copies live in it). Default /run/migration.lock. */
  lockDir?: string;
  /** How the persistent layer is mounted: decides the units' ordering. Default fstab. */
  layout?: Layout;
  /** Seconds one script may run; past it its process group is killed. Default 600. */
  scriptTimeout?: number;
  /** Seconds the whole boot run may take (the units' TimeoutStartSec). Default 1800. */
  runTimeout?: number;
  /** From the graph; drop-ins are written only for these. */
  components?: readonly RunnerComponent[];
}

const DEFAULT_LAYOUT: Layout = "fstab";

export const RUNNER_DEFAULTS = {
  scriptsDir: "/usr/share/migration.d",
  stateDir: "/var/lib/migration",
  upper: "/",
  lockDir: "/run/migration.lock",
  layout: DEFAULT_LAYOUT,
  scriptTimeout: 600,
  runTimeout: 1800,
};

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

/** Every service a component's drop-in makes wait for its migrations. */
function componentServices(components: readonly RunnerComponent[]): string[] {
  return components.flatMap((c) => c.services);
}

function checkSeconds(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 86_400 * 7) {
    throw new InputError(
      `runner: ${what} must be a whole number of seconds between 1 and 604800, got ${JSON.stringify(value)}`,
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
  const upper = checkDir("upper", options.upper ?? RUNNER_DEFAULTS.upper, true);
  const lockDir = checkDir("lockDir", options.lockDir ?? RUNNER_DEFAULTS.lockDir, false);
  // Checked again for callers from JavaScript, whose layout no type checked.
  const layout = parseLayout(options.layout ?? RUNNER_DEFAULTS.layout);
  const scriptTimeout = checkSeconds(
    "the script timeout",
    options.scriptTimeout ?? RUNNER_DEFAULTS.scriptTimeout,
  );
  const runTimeout = checkSeconds(
    "the run timeout",
    options.runTimeout ?? Math.max(RUNNER_DEFAULTS.runTimeout, scriptTimeout + 60),
  );
  if (runTimeout < scriptTimeout + 60) {
    throw new InputError(
      `runner: the run timeout (${runTimeout}s) must leave a script its full ${scriptTimeout}s and a minute more: raise it to at least ${scriptTimeout + 60}`,
    );
  }

  const values: Record<string, string> = {
    SCRIPTS_DIR: scriptsDir,
    STATE_DIR: stateDir,
    UPPER_DIR: upper,
    LOCK_DIR: lockDir,
    SCRIPT_TIMEOUT: String(scriptTimeout),
  };
  // The mounts the run needs: its state and the persistent layer (when it is not /).
  const mounts = [stateDir, ...(upper === "/" ? [] : [upper])];
  const unit = { scriptsDir, layout, mounts, runTimeout };
  const runner = RUNNER_SOURCE.replace(/'@([A-Z_]+)@'/g, (whole, key: string) => {
    const v = values[key];
    return v === undefined ? whole : `'${v}'`;
  });

  const files: EmittedFile[] = [
    { path: RUNNER_PATH, mode: 0o755, content: runner },
    { path: `${UNIT_DIR}/migration.service`, mode: 0o644, content: migrationService(unit) },
    {
      path: `${UNIT_DIR}/migration@.service`,
      mode: 0o644,
      content: migrationTemplate(unit),
    },
    {
      path: `${UNIT_DIR}/migration-failed.target`,
      mode: 0o644,
      content: migrationFailedTarget(componentServices(options.components ?? [])),
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
