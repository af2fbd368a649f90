export { parseJsonStrict } from "./json.js";
export {
  displayPath,
  GRAPH_FILE,
  type LoadedGraph,
  type LoadOptions,
  loadGraph,
  resolveGraphPath,
} from "./load.js";
export { readScript } from "./read-script.js";
export { withReleaseEntries, writeGraphFile } from "./write.js";
