export {
  type EntryOf,
  type Field,
  type FieldType,
  FORMAT,
  fieldNames,
  type GraphFile,
  inFileOrder,
  type Kind,
} from "./format.js";
export * from "./model.js";
export { COMPONENT_NAME, KEY_ID, MIGRATION_ID } from "./names.js";
export { parseGraphAsync } from "./parse-async.js";
export { type Interval, rangeIntervals } from "./ranges.js";
export {
  type Bound,
  checkedVersion,
  compareVersions,
  parseLenientVersion,
  parseRange,
  parseVersion,
  releaseByVersion,
  satisfies,
  VersionRange,
  versionKey,
} from "./semver.js";
export { graphFileKeys, isGraphFile } from "./shape.js";
export {
  type Run,
  runRange,
  type ShippingText,
  shippingRuns,
  shippingText,
  toRuns,
} from "./shipped-in.js";
export { ShippingIndex, shippingIndex } from "./shipping.js";
export {
  checkGraph,
  jsonPath,
  type ParsedGraph,
  type ParseOptions,
  suggest,
} from "./validate.js";
