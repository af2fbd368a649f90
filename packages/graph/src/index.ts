export * from "./model.js";
export { type Interval, rangeIntervals } from "./ranges.js";
export { COMPONENT_NAME, graphJsonSchema, MIGRATION_ID } from "./schema.js";
export { compareVersions, parseRange, parseVersion, satisfies, versionKey } from "./semver.js";
export { ShippingIndex, shippingIndex } from "./shipping.js";
export { jsonPath, type ParsedGraph, parseGraph, suggest } from "./validate.js";
