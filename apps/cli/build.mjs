// Bundles the CLI into dist/bundle/:
//
//   bin.js        the executable: loads cli.js through V8's code cache (src/launcher.cts)
//   cli.js        the CLI and every stepstone package, one CommonJS file; each command's
//                 code runs only when that command does
//   cli.js.cache  V8's code cache for cli.js, made here by running the main commands
//   lib/          what few commands need: the schema library, tar, simple-git and
//                 graphviz (*.cjs, each loaded on first use), the report page's script
//
// Node resolves and compiles a module graph of hundreds of small files (zod, semver,
// commander) in tens of milliseconds, and compiles the functions a plan runs on their
// first call: both would dominate a `stepstone plan` that itself takes a few. Node 20 has
// no code cache for ES modules, hence CommonJS.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const out = "dist/bundle";
// Start clean so stale files never pile up.
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "lib"), { recursive: true });
// The folder's .js files are CommonJS (the package itself is "type": "module").
writeFileSync(join(out, "package.json"), '{ "type": "commonjs" }\n');

/** What every file of the bundle is built with: CommonJS for Node 20. */
const forNode = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
};

// Large libraries, each its own file, resolved from the package that uses it.
const here = dirname(fileURLToPath(import.meta.url));
const packageDir = (name) => join(here, "../../packages", name);
const libs = {
  zod: { file: "zod", from: packageDir("graph") },
  tar: { file: "tar", from: packageDir("bundle") },
  "simple-git": { file: "simple-git", from: packageDir("git") },
  "@viz-js/viz": { file: "viz", from: packageDir("pictures") },
};
for (const [name, { file, from }] of Object.entries(libs)) {
  await build({
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: from },
    outfile: join(out, "lib", `${file}.cjs`),
    ...forNode,
  });
}

/** Imports of the large libraries become a require() of their file, on first use. */
const lazyLibraries = {
  name: "lazy-libraries",
  setup(b) {
    const filter = new RegExp(
      `^(${Object.keys(libs)
        .map((n) => n.replace("/", "\\/"))
        .join("|")})$`,
    );
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "lib" }));
    b.onLoad({ filter: /.*/, namespace: "lib" }, (args) => ({
      contents: `module.exports = require("./lib/${libs[args.path].file}.cjs");`,
      loader: "js",
    }));
    // Only the stubs above import ./lib/ (commander has a ./lib/ of its own).
    b.onResolve({ filter: /^\.\/lib\//, namespace: "lib" }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

/**
 * The report page's script, built by @stepstone/pictures (dist/report-page.js), half a
 * megabyte that only `report` reads: copied to lib/, and the package's reader swapped for
 * one that reads it there (cli.js has no import.meta.url to find the package's file by).
 */
const picturesDist = dirname(fileURLToPath(import.meta.resolve("@stepstone/pictures")));
copyFileSync(join(picturesDist, "report-page.js"), join(out, "lib", "report-page.js"));
const pageFromLib = {
  name: "page-from-lib",
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/]pictures[\\/]dist[\\/]page-script\.js$/ }, () => ({
      contents:
        'export function reportPageScript() { return require("node:fs").readFileSync(require("node:path").join(__dirname, "lib/report-page.js"), "utf8"); }',
      loader: "js",
    }));
  },
};

await build({
  ...forNode,
  entryPoints: { cli: "src/bin.ts" },
  outdir: out,
  sourcemap: true,
  // jsonc-parser's "main" is a UMD build that requires its own files at run time.
  mainFields: ["module", "main"],
  plugins: [lazyLibraries, pageFromLib],
});
const code = readFileSync(join(out, "cli.js"), "utf8");
// A script compiled from a code cache has no dynamic-import hook in Node 20 (the import
// would throw at run time): every import must have become a require.
for (const bad of [/\bimport\(/, /\bimport\.meta\b/]) {
  const at = code.search(bad);
  if (at >= 0) throw new Error(`${out}/cli.js: ${bad} at ${at}: "${code.slice(at - 80, at + 80)}"`);
}

await build({
  ...forNode,
  entryPoints: { bin: "src/launcher.cts" },
  outdir: out,
  banner: { js: "#!/usr/bin/env node" },
});

chmodSync(join(out, "bin.js"), 0o755);

// The code cache: the main commands, run once on the bundled graph, compile what a plan,
// a matrix, the gaps and a validation run; V8 keeps their bytecode in the cache.
const graphFile = join(here, "../../release-graph.json");
const releases = JSON.parse(readFileSync(graphFile, "utf8")).releases.map((r) => r.version);
const first = releases[0];
const last = releases[releases.length - 1];
const train = [
  ["validate", "--graph", graphFile],
  ["plan", "--from", first, "--to", last, "--graph", graphFile, "--format", "json"],
  ["plan", "--from", last, "--to", first, "--graph", graphFile],
  ["matrix", "--graph", graphFile, "--format", "json"],
  ["gaps", "--suggest", "--graph", graphFile, "--format", "json"],
];
const trained = spawnSync(process.execPath, [join(out, "bin.js")], {
  env: { ...process.env, STEPSTONE_CODE_CACHE_TRAIN: JSON.stringify(train), NO_COLOR: "1" },
  stdio: ["ignore", "ignore", "pipe"],
  encoding: "utf8",
});
// Without a cache the CLI works, only starts slower: a failing command (a machine that
// cannot run one, a broken sample graph) must not fail the install.
if (trained.status !== 0) {
  process.stderr.write(
    `apps/cli/build.mjs: warning: making the code cache failed (exit ${trained.status ?? trained.signal}); the CLI works without it, only starts slower:\n${trained.stderr}`,
  );
}
