import { InputError } from "@stepstone/errors";
import type { Epoch, Migration, Release, ReleaseGraph } from "@stepstone/graph";
import { PlanContext } from "./context.js";

// What a device's data means for planning (`plan --device`, `fleet`). The planner names only
// what it reads of a device, in its own terms: the status file that reports it (`runner
// status --json`) is @stepstone/runner's format, parsed there; its DeviceStatus is one
// DeviceData, by shape, with no import between the two packages.

/** One component's data on a device, as planning reads it. */
export interface ComponentData {
  readonly name: string;
  /** The data's epoch; null when the device cannot tell. */
  readonly epoch: Epoch | null;
  /** A pre-flash script cut by a power loss, which the device's next run finishes first. */
  readonly interrupted?: string | null;
}

/** What a device holds that planning depends on: its data's epochs, and what failed on it. */
export interface DeviceData {
  readonly components: readonly ComponentData[];
  /** The failure records: a migration's id, or `@<component>` for one not tied to a script. */
  readonly failures: readonly { readonly id: string }[];
}

/**
 * The migrations of the graph that failed on the device (its `failed/<id>` records), which a
 * plan for that device must not count on: the same script on the same data fails again
 * until someone changes one of them. Records not tied to a script (`@<component>`) and ids
 * the graph does not have name no migration.
 */
export function failedMigrations(graph: ReleaseGraph, device: DeviceData): Migration[] {
  const ids = new Set(device.failures.map((f) => f.id));
  return graph.migrations.filter((m) => ids.has(m.id));
}

/**
 * The graph as planning sees it for a device on which these migrations failed: without
 * them, so no hop counts on them (a release's `ships` naming one ships nothing instead).
 */
export function withoutMigrations(
  graph: ReleaseGraph,
  excluded: readonly Migration[],
): ReleaseGraph {
  if (excluded.length === 0) return graph;
  const out = new Set(excluded);
  return { ...graph, migrations: graph.migrations.filter((m) => !out.has(m)) };
}

/** The data epochs a device's plan starts from (by component index), or why none can be planned. */
export type DeviceEpochs =
  | { readonly ok: true; readonly epochs: Int32Array }
  | { readonly ok: false; readonly problem: string };

/**
 * The device's data epochs on release index `from`, components the status does not list at
 * the release's own. A pre-flash script cut by a power loss counts as done, since the
 * device's next run finishes it before anything else. `problem` says what the user must fix
 * first. The fleet's form: one call per class of devices, no exception per bad status.
 */
export function deviceEpochIndex(ctx: PlanContext, from: number, device: DeviceData): DeviceEpochs {
  const epochs = Int32Array.from(ctx.releaseEpochs(from));
  const release = ctx.releases[from]?.version;
  for (const c of device.components) {
    const ci = ctx.componentIndex(c.name);
    if (ci < 0) return { ok: false, problem: `component "${c.name}" is not in the graph` };
    if (c.epoch === null) {
      return {
        ok: false,
        problem: `the epoch of ${c.name} is unknown on the device; run "runner status" there and fix its failure first`,
      };
    }
    epochs[ci] = c.epoch;
    if (typeof c.interrupted === "string") {
      const m = ctx.graph.migrations.find((x) => x.id === c.interrupted);
      if (m === undefined || m.component !== c.name || m.from !== c.epoch) {
        return {
          ok: false,
          problem: `${c.name} has an interrupted pre-flash script "${c.interrupted}" that the graph does not have from epoch ${c.epoch}; boot the device once (it finishes the script or reports why not) and read its status again`,
        };
      }
      if (!ctx.shipping.ships(from, m)) {
        return {
          ok: false,
          problem: `${c.name} has an interrupted pre-flash script "${c.interrupted}" that ${release} does not ship, so the device cannot finish it: its data is between epochs ${m.from} and ${m.to}; flash a release that ships ${m.id} and boot it, or wipe ${c.name}`,
        };
      }
      epochs[ci] = m.to;
    }
  }
  return { ok: true, epochs };
}

/**
 * The device's data epochs by component name (plan's `device`), on a device running
 * release `from`; data that cannot be planned is an InputError naming `file` (where it was read).
 */
export function deviceEpochs(
  ctx: PlanContext,
  device: DeviceData,
  file: string,
  from: Release,
): Record<string, Epoch> {
  const res = deviceEpochIndex(ctx, ctx.releaseIndex(from), device);
  if (!res.ok) throw new InputError(`${file}: ${res.problem}`);
  const epochs: Record<string, Epoch> = {};
  for (const c of device.components) {
    const ci = ctx.componentIndex(c.name);
    epochs[c.name] = res.epochs[ci] as Epoch;
  }
  return epochs;
}

/** How one device is planned (`plan --device`): where it starts, and what a plan may run. */
export interface DevicePlanning {
  /** The context to plan in: the graph without the migrations the plan leaves out. */
  readonly ctx: PlanContext;
  /** The device's data epochs by component name (plan's `device`). */
  readonly epochs: Record<string, Epoch>;
  /** The graph's migrations that failed on the device. */
  readonly failed: readonly Migration[];
  /** Those the plan does not count on: all of `failed`, none with `retryFailed`. */
  readonly excluded: readonly Migration[];
}

/**
 * Planning for a device running `from` with this data: a script that failed on the device
 * would fail there again on the same data, so plans leave it out (as if no release shipped
 * it) unless the user says its cause is fixed (`retryFailed`). Data that cannot be planned
 * is an InputError naming `file`.
 */
export function devicePlanning(
  ctx: PlanContext,
  device: DeviceData,
  from: Release,
  opts: { readonly file: string; readonly retryFailed?: boolean },
): DevicePlanning {
  const epochs = deviceEpochs(ctx, device, opts.file, from);
  const failed = failedMigrations(ctx.graph, device);
  const excluded = opts.retryFailed ? [] : failed;
  const planIn =
    excluded.length === 0
      ? ctx
      : new PlanContext(withoutMigrations(ctx.graph, excluded), ctx.platform);
  return { ctx: planIn, epochs, failed, excluded };
}
