/**
 * What stepstone's tests share, imported by name (`@stepstone/test-utils`): temporary
 * folders, real git repositories with dated, tagged histories, graphs written as a user
 * writes them, fast-check arbitraries of small graphs and the reference planner they are
 * checked against.
 */
export * from "./arbitrary.js";
export * from "./git-repo.js";
export * from "./graph-json.js";
export * from "./reference.js";
export * from "./temp.js";
