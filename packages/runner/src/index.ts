/**
 * The device side of stepstone: the migration runner (one POSIX sh program, src/runner.sh)
 * and its systemd units, as rootfs-relative files. `emitRunner` is pure: the same options
 * give the same files; `writeTree` puts them on disk.
 */
export {
  type EmittedFile,
  emitRunner,
  RUNNER_DEFAULTS,
  type RunnerComponent,
  type RunnerOptions,
} from "./emit.js";
/** The runner program itself, before emitRunner fills in its paths (from src/runner.sh). */
export { RUNNER_SOURCE } from "./generated/runner-source.js";
export {
  type ComponentStatus,
  type DeviceStatus,
  type Failure,
  type FailureStatus,
  failedComponent,
  parseDeviceStatus,
  statusFailures,
} from "./status.js";
export { type Layout, parseLayout, RUNNER_PATH, UNIT_DIR } from "./units.js";
export { writeTree } from "./write-tree.js";
