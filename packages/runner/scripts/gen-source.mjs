// src/runner.sh as a module, src/generated/runner-source.ts (made by `pnpm build`, not
// committed): the package exports the runner's source like any other value, so a bundler
// inlines it and no consumer reads a file beside the package's own.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const sh = readFileSync(new URL("../src/runner.sh", import.meta.url), "utf8");
const out = new URL("../src/generated/runner-source.ts", import.meta.url);
const text = `// Generated from src/runner.sh by scripts/gen-source.mjs (pnpm build): do not edit.\nexport const RUNNER_SOURCE: string = ${JSON.stringify(sh)};\n`;
// Rewritten only when it changed, so tsc -b sees nothing new on a rebuild.
if (!existsSync(out) || readFileSync(out, "utf8") !== text) {
  mkdirSync(new URL(".", out), { recursive: true });
  writeFileSync(out, text);
}
