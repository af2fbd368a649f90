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

/** The component a failure record names: its own field, or the `<component>` of `@<component>`. */
export function failedComponent(f: FailureStatus): string | null {
  return f.component ?? (f.id.startsWith("@") ? f.id.slice(1) : null);
}

/** A failure a status reports, every optional field filled in (null: not recorded). */
export interface Failure {
  readonly id: string;
  readonly component: string | null;
  readonly phase: "boot" | "pre-flash" | null;
  readonly from: number | null;
  readonly to: number | null;
  readonly status: number | null;
  readonly reason: string | null;
}

/**
 * Every failure a status reports: its records, then one `@<component>` for each component
 * marked failed that no record names (nothing else is known of it).
 */
export function statusFailures(device: DeviceStatus): Failure[] {
  const out: Failure[] = device.failures.map((f) => ({
    id: f.id,
    component: failedComponent(f),
    phase: f.phase ?? null,
    from: f.from ?? null,
    to: f.to ?? null,
    status: f.status ?? null,
    reason: f.reason ?? null,
  }));
  for (const c of device.components) {
    if (c.failed === true && !out.some((f) => f.component === c.name)) {
      out.push({
        id: `@${c.name}`,
        component: c.name,
        phase: null,
        from: null,
        to: null,
        status: null,
        reason: "marked failed, without a failure record",
      });
    }
  }
  return out;
}

type Fields = Readonly<Record<string, unknown>>;
type Bad = (field: string, what: string) => InputError;

const isFields = (v: unknown): v is Fields =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks a parsed `runner status --json` value. `where` names the input in messages (a
 * file, or `FILE:LINE: status` for an inventory's line); throws InputError saying which
 * field is wrong. The objects checked are returned as they are (fields this type does not
 * name included).
 */
export function parseDeviceStatus(value: unknown, where: string): DeviceStatus {
  const bad: Bad = (field, what) =>
    new InputError(`${where}: ${field}: ${what} (expected the output of "runner status --json")`);
  if (!isFields(value)) throw bad("$", "expected an object");
  const { release, platform = null, components: listed, failures: reported = [] } = value;
  if (typeof release !== "string") throw bad("release", "expected the running release's version");
  if (platform !== null && typeof platform !== "string")
    throw bad("platform", "expected a string or null");
  if (!Array.isArray(listed)) throw bad("components", "expected an array");
  const components: ComponentStatus[] = [];
  for (const [i, c] of listed.entries()) {
    checkComponent(c, `components[${i}]`, bad);
    components.push(c);
  }
  if (!Array.isArray(reported)) throw bad("failures", "expected an array");
  const failures: FailureStatus[] = [];
  for (const [i, f] of reported.entries()) {
    checkFailure(f, `failures[${i}]`, bad);
    failures.push(f);
  }
  return { release, platform, components, failures };
}

function checkComponent(c: unknown, at: string, bad: Bad): asserts c is ComponentStatus {
  if (!isFields(c) || typeof c.name !== "string") throw bad(`${at}.name`, "expected a string");
  const { epoch, interrupted, failed } = c;
  if (epoch !== null && !(typeof epoch === "number" && Number.isInteger(epoch) && epoch >= 0))
    throw bad(`${at}.epoch`, "expected an integer >= 0 or null");
  if (interrupted !== undefined && interrupted !== null && typeof interrupted !== "string")
    throw bad(`${at}.interrupted`, "expected a migration id or null");
  if (failed !== undefined && typeof failed !== "boolean")
    throw bad(`${at}.failed`, "expected true or false");
}

function checkFailure(f: unknown, at: string, bad: Bad): asserts f is FailureStatus {
  if (!isFields(f) || typeof f.id !== "string") throw bad(`${at}.id`, "expected a string");
  const { component } = f;
  if (component !== undefined && component !== null && typeof component !== "string")
    throw bad(`${at}.component`, "expected a component name or null");
}
