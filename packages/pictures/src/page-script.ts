import { readFileSync } from "node:fs";

let script: string | undefined;

/**
 * The report page's script (the page's code with the graph parser and the planner, for
 * the browser), as this package's build made it (dist/report-page.js, build-page.mjs).
 */
export function reportPageScript(): string {
  script ??= readFileSync(new URL("./report-page.js", import.meta.url), "utf8");
  return script;
}
