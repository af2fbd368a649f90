/**
 * The `stepstone` executable. It loads the CLI (cli.js, one CommonJS bundle) through V8's
 * code cache (cli.js.cache, written at build time by running the main commands once):
 * a `plan` runs once, mostly in functions V8 would otherwise parse and compile on their
 * first call, and reading their bytecode from the cache takes about 10 ms off a plan on
 * a vendor-sized graph (of ~190). A missing or stale cache (another Node, another
 * build) is rejected by V8 and the CLI compiles as usual.
 *
 * Node 20 has no compile cache for ES modules, hence one CommonJS file; and a script
 * compiled from a cache loses its dynamic-import hook, so the bundle has no import() of
 * its own (build.mjs checks).
 */
import fs = require("node:fs");
import nodeModule = require("node:module");
import path = require("node:path");
import vm = require("node:vm");

interface Cli {
  run(argv: readonly string[]): void;
  main(argv: readonly string[]): Promise<number>;
}

const file = path.join(__dirname, "cli.js");
const cacheFile = `${file}.cache`;
let cachedData: Buffer | undefined;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // No cache: compile as usual.
}
// The CommonJS module wrapper, written out: the script is the bundle as Node would run it.
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, "utf8")}\n})`,
  { filename: file, ...(cachedData !== undefined && { cachedData }) },
);
const mod = { exports: {} as Cli };
script
  .runInThisContext()
  .call(mod.exports, mod.exports, nodeModule.createRequire(file), mod, file, __dirname);

const training = process.env.STEPSTONE_CODE_CACHE_TRAIN;
if (training === undefined) mod.exports.run(process.argv);
else {
  // Build time: run each command line (a JSON list of argument lists), then save the
  // bytecode of everything they compiled.
  // A command that throws is reported and the others still run: the cache holds what ran.
  void (async () => {
    let failed = false;
    for (const args of JSON.parse(training) as string[][]) {
      try {
        await mod.exports.main([process.argv[0] as string, file, ...args]);
      } catch (e) {
        failed = true;
        process.stderr.write(`stepstone ${args.join(" ")}: ${String(e)}\n`);
      }
    }
    fs.writeFileSync(cacheFile, script.createCachedData());
    if (failed) process.exitCode = 1;
  })();
}
