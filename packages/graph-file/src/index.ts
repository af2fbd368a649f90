export { parseJsonStrict } from "./json.js";
export {
  displayPath,
  GRAPH_FILE,
  type LoadedGraph,
  type LoadOptions,
  loadGraph,
  readScript,
  resolveGraphPath,
} from "./load.js";
