export { parseJsonStrict } from "./json.js";
export {
  displayPath,
  GRAPH_FILE,
  graphPathToWrite,
  type LoadedGraph,
  type LoadOptions,
  loadGraph,
  resolveGraphPath,
} from "./load.js";
export { readScript } from "./read-script.js";
export {
  type NewReleaseEntry,
  withReleaseEntries,
  writeGraphFile,
  writeReleaseEntries,
} from "./write.js";
