import type { PlanContext } from "./context.js";

/** What planning needs of a device's status (`runner status --json`, see @stepstone/runner). */
export interface DeviceData {
  readonly components: readonly {
    readonly name: string;
    readonly epoch: number | null;
    readonly interrupted?: string | null;
  }[];
}

/** The data epochs a device's plan starts from, or why none can be planned. */
export type DeviceEpochs =
  | { readonly ok: true; readonly epochs: Int32Array }
  | { readonly ok: false; readonly problem: string };

/**
 * What a device's status means for planning from release `from` (a `PlanRequest`'s
 * `deviceEpochs`): each component's data epoch, components the status does not list at the
 * release's own. A pre-flash script cut by a power loss counts as done, since the device's
 * next run finishes it before anything else. `problem` says what the user must fix first.
 */
export function deviceEpochs(ctx: PlanContext, from: number, device: DeviceData): DeviceEpochs {
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
