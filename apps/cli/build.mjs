// Bundles the CLI into a few files: Node resolves and compiles one module graph of
// hundreds of small files (zod, semver, commander) in tens of milliseconds, which would
// dominate a `stepstone plan` that itself takes a few. Commands stay separate chunks,
// loaded only when they run, so `--help` stays instant.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// Chunk names are content hashes: start clean so stale chunks never pile up.
rmSync("dist/bundle", { recursive: true, force: true });

// The report page plans in the browser with stepstone's own planner: the page's script
// (@stepstone/pictures' page/main.js with the graph parser and the planner) is bundled for
// the browser here and inlined into the CLI as a string, which `stepstone report` writes
// into the page.
const page = await build({
  entryPoints: [fileURLToPath(new URL("page/main.js", import.meta.resolve("@stepstone/pictures")))],
  bundle: true,
  write: false,
  format: "iife",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});

await build({
  entryPoints: ["src/bin.ts"],
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  legalComments: "none",
  // CommonJS dependencies (semver, commander) call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
  },
  // jsonc-parser's "main" is a UMD build that requires its own files at run time.
  mainFields: ["module", "main"],
  // The runner package reads its sh source beside its own files at run time.
  external: ["@stepstone/runner"],
  define: { STEPSTONE_REPORT_PAGE: JSON.stringify(page.outputFiles[0].text) },
  logLevel: "warning",
});
