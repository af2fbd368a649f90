export { parseJsonStrict } from "./json.js";
export {
  displayPath,
  GRAPH_FILE,
  hasSetE,
  type LoadedGraph,
  type LoadOptions,
  loadGraph,
  readScript,
  resolveGraphPath,
  sha256,
} from "./load.js";
