// Bundles the CLI into a few files: Node resolves and compiles one module graph of
// hundreds of small files (zod, semver, commander) in tens of milliseconds, which would
// dominate a `stepstone plan` that itself takes a few. Commands stay separate chunks,
// loaded only when they run, so `--help` stays instant.
import { build } from "esbuild";

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
  logLevel: "warning",
});
