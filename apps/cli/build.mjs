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
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const out = "dist/bundle";
// Start clean so stale files never pile up.
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "lib"), { recursive: true });
// The folder's .js files are CommonJS (the package itself is "type": "module").
writeFileSync(join(out, "package.json"), '{ "type": "commonjs" }\n');

// The report page plans in the browser with stepstone's own planner: the page's script
// (@stepstone/pictures' page/main.js with the graph parser and the planner) is bundled for
// the browser here and written to lib/report-page.js, which `stepstone report` reads and
// writes into the page.
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
 * The runner package reads its sh source beside its own files (import.meta.url); in the
 * bundle the source is inlined instead, so `runner` needs no file of that package.
 */
const inlineRunner = {
  name: "inline-runner",
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/]runner[\\/]dist[\\/]emit\.js$/ }, (args) => {
      const code = readFileSync(args.path, "utf8");
      const read = 'readFileSync(new URL("../src/runner.sh", import.meta.url), "utf8")';
      if (code.split(read).length !== 2)
        throw new Error(`${args.path}: expected one ${read} to inline`);
      const sh = readFileSync(new URL("../src/runner.sh", `file://${args.path}`), "utf8");
      // A function, not a string: the sh source is full of $ that replace() would expand.
      return { contents: code.replace(read, () => JSON.stringify(sh)), loader: "js" };
    });
  },
};

writeFileSync(join(out, "lib", "report-page.js"), page.outputFiles[0].text);

await build({
  ...forNode,
  entryPoints: { cli: "src/bin.ts" },
  outdir: out,
  sourcemap: true,
  // jsonc-parser's "main" is a UMD build that requires its own files at run time.
  mainFields: ["module", "main"],
  plugins: [lazyLibraries, inlineRunner],
  // The report page's script (half a megabyte) stays out of the file every command
  // reads: lib/report-page.js, read when the report asks for it.
  define: { STEPSTONE_REPORT_PAGE: "__stepstoneReportPage" },
  banner: {
    js: `Object.defineProperty(globalThis, "__stepstoneReportPage", { configurable: true, get: () => require("node:fs").readFileSync(require("node:path").join(__dirname, "lib/report-page.js"), "utf8") });`,
  },
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
if (trained.status !== 0) throw new Error(`making the code cache failed: ${trained.stderr}`);
