export * from "./model.js";
export { type Interval, rangeIntervals } from "./ranges.js";
export { COMPONENT_NAME, graphJsonSchema, MIGRATION_ID } from "./schema.js";
export {
  type Bound,
  compareVersions,
  parseRange,
  parseVersion,
  satisfies,
  VersionRange,
  versionKey,
} from "./semver.js";
export { ShippingIndex, shippingIndex } from "./shipping.js";
export { jsonPath, type ParsedGraph, parseGraph, suggest } from "./validate.js";
