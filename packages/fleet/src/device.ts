import { InputError } from "@stepstone/errors";
import { type DeviceStatus, parseDeviceStatus } from "@stepstone/runner";

/**
 * One device of an inventory: its id and either the output of `runner status --json`
 * on it, or only its release (and platform), for a device whose data is at its release's
 * epochs (no runner, or only the version is known).
 */
export interface Device {
  readonly id: string;
  readonly release: string;
  /** null: the inventory does not say (the fleet's default platform applies). */
  readonly platform: string | null;
  readonly status: DeviceStatus | null;
}

/** A line that is not a device: what is wrong and how to fix it. */
export class BadLine extends Error {}

const SHAPE =
  'each line is {"id": ..., "status": <runner status --json>} or {"id": ..., "release": ..., "platform"?: ...}';

/** A JSON Lines inventory line, parsed. Throws BadLine. */
export function deviceFromJson(text: string): Device {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BadLine(`not JSON (${(e as Error).message}); ${SHAPE}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadLine(`expected an object; ${SHAPE}`);
  const o = v as Record<string, unknown>;
  const id = o.id;
  if (typeof id !== "string" || id === "")
    throw new BadLine(`id: expected the device's id, a non-empty string; ${SHAPE}`);
  if (o.status !== undefined) {
    let status: DeviceStatus;
    try {
      status = parseDeviceStatus(o.status, `device ${id}: status`);
    } catch (e) {
      if (e instanceof InputError) throw new BadLine(e.message);
      throw e;
    }
    return { id, release: status.release, platform: status.platform, status };
  }
  if (typeof o.release !== "string" || o.release === "")
    throw new BadLine(
      `device ${id}: expected "status" (the output of runner status --json) or "release" (a version); ${SHAPE}`,
    );
  const platform = o.platform ?? null;
  if (platform !== null && (typeof platform !== "string" || platform === ""))
    throw new BadLine(`device ${id}: platform: expected a platform name or null`);
  return { id, release: o.release, platform, status: null };
}

/** The fields of a CSV inventory line (`id,release,platform`), parsed. Throws BadLine. */
export function deviceFromCsv(fields: readonly string[]): Device {
  const [id = "", release = "", platform = ""] = fields.map((f) => f.trim());
  if (fields.length > 3)
    throw new BadLine(`expected 3 columns (id,release,platform), got ${fields.length}`);
  if (id === "") throw new BadLine("id: empty; the columns are id,release,platform");
  if (release === "")
    throw new BadLine(`device ${id}: release: empty; the columns are id,release,platform`);
  return { id, release, platform: platform === "" ? null : platform, status: null };
}

/** One CSV line split into fields (RFC 4180 quotes; a field may not span lines). */
export function csvFields(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new BadLine("a quoted field is not closed");
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(field);
      if (i >= line.length) return out;
      if (line[i] !== ",")
        throw new BadLine(`expected "," after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const c = line.indexOf(",", i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/** A CSV field as written: quoted when it must be. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
