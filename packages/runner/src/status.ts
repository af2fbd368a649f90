import { InputError } from "@stepstone/errors";

/** One component in the output of `runner status --json`. */
export interface ComponentStatus {
  readonly name: string;
  /** The data's epoch; null when the runner cannot tell (a corrupt epoch record). */
  readonly epoch: number | null;
  /** A pre-flash script cut by a power loss, which the device's next run finishes first. */
  readonly interrupted?: string | null;
  /** Does a failure record (failed/<id> or failed/@<component>) name this component? */
  readonly failed?: boolean;
}

/** A failure record on the device: a script's id, or `@<component>`. */
export interface FailureStatus {
  readonly id: string;
  readonly component: string | null;
  /** Where a script failed, its epochs, its exit status (null: killed at its time limit). */
  readonly phase?: "boot" | "pre-flash" | null;
  readonly from?: number | null;
  readonly to?: number | null;
  readonly status?: number | null;
  /** Why, when there is no exit status ("timeout after 600s", "no chain ..."). */
  readonly reason?: string | null;
  /** The journal's last lines of the failed run (its output included). */
  readonly journal?: readonly string[];
}

/** The output of `runner status --json` on a device: what `plan --device` and `fleet` read. */
export interface DeviceStatus {
  readonly release: string;
  readonly platform: string | null;
  readonly components: readonly ComponentStatus[];
  readonly failures: readonly FailureStatus[];
}

/**
 * Checks a parsed `runner status --json` value. `where` names the input in messages (a
 * file, or `FILE:LINE: status` for an inventory's line); throws InputError saying which
 * field is wrong.
 */
export function parseDeviceStatus(value: unknown, where: string): DeviceStatus {
  const v = value as Partial<Record<keyof DeviceStatus, unknown>> | null;
  const bad = (field: string, what: string) =>
    new InputError(`${where}: ${field}: ${what} (expected the output of "runner status --json")`);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad("$", "expected an object");
  if (typeof v.release !== "string") throw bad("release", "expected the running release's version");
  if (v.platform !== undefined && v.platform !== null && typeof v.platform !== "string")
    throw bad("platform", "expected a string or null");
  if (!Array.isArray(v.components)) throw bad("components", "expected an array");
  const components = v.components as Partial<Record<keyof ComponentStatus, unknown>>[];
  components.forEach((c, i) => {
    if (typeof c?.name !== "string") throw bad(`components[${i}].name`, "expected a string");
    if (c.epoch !== null && !(Number.isInteger(c.epoch) && (c.epoch as number) >= 0)) {
      throw bad(`components[${i}].epoch`, "expected an integer >= 0 or null");
    }
    if (c.interrupted !== undefined && c.interrupted !== null && typeof c.interrupted !== "string")
      throw bad(`components[${i}].interrupted`, "expected a migration id or null");
    if (c.failed !== undefined && typeof c.failed !== "boolean")
      throw bad(`components[${i}].failed`, "expected true or false");
  });
  const failures = v.failures ?? [];
  if (!Array.isArray(failures)) throw bad("failures", "expected an array");
  (failures as Partial<Record<keyof FailureStatus, unknown>>[]).forEach((f, i) => {
    if (typeof f?.id !== "string") throw bad(`failures[${i}].id`, "expected a string");
    if (f.component !== undefined && f.component !== null && typeof f.component !== "string")
      throw bad(`failures[${i}].component`, "expected a component name or null");
  });
  return {
    release: v.release,
    platform: (v.platform as string | null | undefined) ?? null,
    components: components as ComponentStatus[],
    failures: failures as FailureStatus[],
  };
}
