/**
 * Fleet planning: an inventory of devices grouped into classes (same release, platform,
 * data epochs and failures), each class planned once toward a target, and the roll-out in
 * waves. The core (classes, summary, waves, distribution) is pure; `readInventory` and
 * `loadFleet` are the thin shell that streams an inventory file, `deviceRows` writes the
 * per-device file.
 */
export {
  type ClassBlocker,
  type ClassPlan,
  Fleet,
  type FleetClass,
  type FleetOptions,
} from "./classes.js";
export {
  BadLine,
  csvField,
  csvFields,
  type Device,
  deviceFromCsv,
  deviceFromJson,
} from "./device.js";
export { type InventoryRead, type InventorySink, readInventory } from "./inventory.js";
export {
  type BadLines,
  classJson,
  distributionJson,
  fleetJson,
  reportJson,
} from "./json.js";
export { deviceRows, type LoadedFleet, type LoadFleetOptions, loadFleet } from "./load.js";
export {
  type Distribution,
  distribution,
  type StopLine,
  type Summary,
  stopLines,
  summarize,
  type Wave,
  waves,
} from "./report.js";
