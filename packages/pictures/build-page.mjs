// The report page's script: src/page/main.ts (the page's code, with the graph parser and
// the planner it plans with in the browser), bundled for the browser into
// dist/report-page.js, which reportPageScript() reads and reportHtml() writes into the page.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("dist/page/main.js", import.meta.url).pathname],
  outfile: new URL("dist/report-page.js", import.meta.url).pathname,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
