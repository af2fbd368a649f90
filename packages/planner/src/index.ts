export { bestChain, type Chain, compareIdSequences } from "./chain.js";
export { PlanContext } from "./context.js";
export { type DeviceData, type DeviceEpochs, deviceEpochs } from "./device.js";
export {
  type Blocker,
  type BlockerCode,
  type HopDetail,
  hopBlockers,
  hopCost,
  hopDetail,
  type Origin,
} from "./hop.js";
export { gapsJson, matrixJson, planJson } from "./json.js";
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
  allowMask,
  type PathTree,
  type Plan,
  type PlanRequest,
  type PlanResult,
  type PlanStep,
  pathTree,
  plan,
  planFromTree,
  releaseOrigin,
} from "./plan.js";
export { type StopReason, stopReasons } from "./stops.js";
export {
  type MissingMigration,
  type ReleaseEntry,
  type Suggestion,
  type SuggestResult,
  suggest,
  withReleases,
} from "./suggest.js";
export {
  type PlansToward,
  plansToward,
  type Route,
  reachWithoutWipes,
  type TowardRequest,
} from "./toward.js";
