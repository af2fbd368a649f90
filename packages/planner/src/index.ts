export { PlanContext } from "./context.js";
export {
  type ComponentData,
  type DeviceData,
  type DevicePlanning,
  deviceEpochs,
  devicePlanning,
  failedMigrations,
  withoutMigrations,
} from "./device.js";
export {
  DevicePlanner,
  type DeviceStart,
  type DeviceStartResult,
  type StopReasons,
  type Toward,
} from "./devices.js";
export {
  type Blocker,
  type BlockerCode,
  type HopDetail,
  hop,
  hopBlockers,
  type WipeAllowance,
} from "./hop.js";
export { gapsJson, matrixJson, planJson, reachJson, reasonJson } from "./json.js";
export {
  BLOCKER_PRIORITY,
  type Gap,
  type GapReason,
  gaps,
  type Matrix,
  type MatrixCell,
  matrix,
  type ReleaseSelection,
  selectReleases,
} from "./matrix.js";
export {
  type Plan,
  type PlanRequest,
  type PlanResult,
  type PlanStep,
  plan,
  routes,
} from "./plan.js";
export {
  type ReachEntry,
  type ReachRequest,
  reach,
  reachTargets,
} from "./reach.js";
export {
  capRange,
  type LongerPlan,
  type OpenedGap,
  type RetireEntry,
  type RetireResult,
  retire,
  type Verdict,
} from "./retire.js";
export {
  type Connection,
  type MigrationUse,
  type MigrationView,
  type PlatformEpochs,
  type ReleaseView,
  showMigration,
  showMigrationJson,
  showRelease,
  showReleaseJson,
} from "./show.js";
export { planWhy, type StopReason, stopsWhy } from "./stops.js";
export {
  type MissingMigration,
  type ReleaseEntry,
  SUGGESTED_NOTES,
  type Suggestion,
  type SuggestResult,
  suggest,
  withReleases,
} from "./suggest.js";
export type { Route } from "./toward.js";
export { type ClosedGap, type TransitionUse, transitionUse } from "./use.js";
