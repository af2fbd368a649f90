import { InputError } from "@stepstone/errors";

/** What `runner status --json` prints on a device: its release and each component's data. */
export interface DeviceStatus {
  readonly release: string;
  readonly platform: string | null;
  readonly components: readonly ComponentStatus[];
}

export interface ComponentStatus {
  readonly name: string;
  /** The data's epoch, or null when the runner cannot tell (a failure to fix first). */
  readonly epoch: number | null;
  /** A pre-flash script a power loss cut, which the device's next run finishes first. */
  readonly interrupted?: string | null;
}

/**
 * The output of `runner status --json` (already parsed as JSON), checked and typed; `file`
 * names it in messages.
 */
export function parseDeviceStatus(value: unknown, file: string): DeviceStatus {
  const v = value as Partial<DeviceStatus>;
  const bad = (where: string, what: string) =>
    new InputError(`${file}: ${where}: ${what} (expected the output of "runner status --json")`);
  if (typeof v !== "object" || v === null) throw bad("$", "expected an object");
  if (typeof v.release !== "string") throw bad("release", "expected the running release's version");
  if (v.platform !== undefined && v.platform !== null && typeof v.platform !== "string")
    throw bad("platform", "expected a string or null");
  if (!Array.isArray(v.components)) throw bad("components", "expected an array");
  v.components.forEach((c, i) => {
    if (typeof c?.name !== "string") throw bad(`components[${i}].name`, "expected a string");
    if (c.epoch !== null && !(Number.isInteger(c.epoch) && (c.epoch as number) >= 0)) {
      throw bad(`components[${i}].epoch`, "expected an integer >= 0 or null");
    }
    if (c.interrupted !== undefined && c.interrupted !== null && typeof c.interrupted !== "string")
      throw bad(`components[${i}].interrupted`, "expected a migration id or null");
  });
  return { release: v.release, platform: v.platform ?? null, components: v.components };
}
