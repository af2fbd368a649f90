import { InputError } from "@stepstone/errors";
import type { Epoch, Release } from "@stepstone/graph";
import type { PlanContext } from "./context.js";

/**
 * What a device's status means for planning (`plan --device`): the data epochs a plan
 * starts from, by component index. The status is the runner's (`runner status --json`,
 * typed by @stepstone/runner's DeviceStatus); only the fields planning reads are named here,
 * so the planner needs nothing of the runner. `file` names the status in messages.
 */
export interface DeviceData {
  readonly release: string;
  readonly components: readonly {
    readonly name: string;
    readonly epoch: number | null;
    readonly interrupted?: string | null;
  }[];
}

/**
 * The device's data epochs by component name (plan's `device`), on a device running
 * release `from`: a pre-flash script a power loss cut counts as done.
 */
export function deviceEpochs(
  ctx: PlanContext,
  device: DeviceData,
  file: string,
  from: Release,
): Record<string, Epoch> {
  const r = ctx.releaseIndex(from);
  const epochs: Record<string, Epoch> = {};
  for (const c of device.components) {
    const ci = ctx.componentIndex(c.name);
    if (ci < 0) throw new InputError(`${file}: component "${c.name}" is not in the graph`);
    if (c.epoch === null) {
      throw new InputError(
        `${file}: the epoch of ${c.name} is unknown on the device; run "runner status" there and fix its failure first`,
      );
    }
    epochs[c.name] = c.epoch;
    if (typeof c.interrupted === "string") {
      // A pre-flash script cut by a power loss: the device's next run (boot or pre-flash)
      // finishes it before anything else, so the plan starts where it leads.
      const m = ctx.graph.migrations.find((x) => x.id === c.interrupted);
      if (m === undefined || m.component !== c.name || m.from !== c.epoch) {
        throw new InputError(
          `${file}: ${c.name} has an interrupted pre-flash script "${c.interrupted}" that the graph does not have from epoch ${c.epoch}; boot the device once (it finishes the script or reports why not) and read its status again`,
        );
      }
      if (!ctx.shipping.ships(r, m)) {
        throw new InputError(
          `${file}: ${c.name} has an interrupted pre-flash script "${c.interrupted}" that ${device.release} does not ship, so the device cannot finish it: its data is between epochs ${m.from} and ${m.to}; flash a release that ships ${m.id} and boot it, or wipe ${c.name}`,
        );
      }
      epochs[c.name] = m.to;
    }
  }
  return epochs;
}
