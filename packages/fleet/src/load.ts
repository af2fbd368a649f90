import { closeSync, openSync, writeSync } from "node:fs";
import { InputError } from "@stepstone/errors";
import type { ReleaseGraph } from "@stepstone/graph";
import { Fleet, type FleetClass, type FleetOptions } from "./classes.js";
import { csvField, type Device } from "./device.js";
import { readInventory } from "./inventory.js";
import type { BadLines } from "./json.js";

export interface LoadFleetOptions extends FleetOptions {
  /** The inventory file, or "-" for stdin. */
  readonly inventory: string;
  /** The first bad line is an InputError instead of being counted. */
  readonly strict?: boolean;
  /** How many bad lines are kept with their message (all are counted). */
  readonly keepBad: number;
  /** Each device as it is read, with its class. */
  readonly device?: (d: Device, cls: FleetClass, fleet: Fleet) => void;
  /** Each bad line that is kept, as it is read. */
  readonly bad?: (where: string, line: number, message: string) => void;
  /** When the inventory has been read (before an empty one is an error). */
  readonly read?: (bad: BadLines, where: string) => void;
}

export interface LoadedFleet {
  readonly fleet: Fleet;
  readonly bad: BadLines;
  /** The inventory as messages name it ("stdin" for "-"). */
  readonly where: string;
}

/**
 * Reads an inventory into a fleet: bad lines counted (the first `keepBad` kept), or the
 * first one an InputError with `strict`. An inventory without devices is an InputError.
 */
export async function loadFleet(graph: ReleaseGraph, opts: LoadFleetOptions): Promise<LoadedFleet> {
  const fleet = new Fleet(graph, {
    to: opts.to,
    platformDefault: opts.platformDefault,
    allowWipe: opts.allowWipe,
  });
  const where = opts.inventory === "-" ? "stdin" : opts.inventory;
  let count = 0;
  const first: { line: number; message: string }[] = [];
  await readInventory(opts.inventory, {
    device(d) {
      const cls = fleet.add(d);
      opts.device?.(d, cls, fleet);
    },
    bad(message, line) {
      if (opts.strict)
        throw new InputError(`${where}:${line}: ${message} (--strict stops at the first bad line)`);
      count++;
      if (first.length < opts.keepBad) {
        first.push({ line, message });
        opts.bad?.(where, line, message);
      }
    },
  });
  const bad: BadLines = { count, first };
  opts.read?.(bad, where);
  if (fleet.devices === 0) {
    const lines = count === 1 ? "1 bad line" : `${count} bad lines`;
    throw new InputError(
      `${where}: no devices${count > 0 ? ` (every line is bad: ${lines})` : ""}; an inventory is JSON Lines ({"id","status"} or {"id","release","platform"?}) or CSV (id,release,platform)`,
    );
  }
  return { fleet, bad, where };
}

/**
 * The `--devices` file: one CSV row per device (`id,class,first-stop`), written in large
 * pieces (a million rows one write each would be slow).
 */
export function deviceRows(path: string): {
  add(d: Device, cls: FleetClass): void;
  close(): void;
} {
  const fd = openSync(path, "w");
  let buf = "id,class,first-stop\n";
  const flush = () => {
    writeSync(fd, buf);
    buf = "";
  };
  return {
    add(d, cls) {
      buf += `${csvField(d.id)},${csvField(cls.id)},${cls.firstStop}\n`;
      if (buf.length > 1 << 16) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}
