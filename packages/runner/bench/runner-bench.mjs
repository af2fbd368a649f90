#!/usr/bin/env node
/**
 * Runner benchmark: 200 no-op scripts under dash, run by the emitted runner, against the
 * naive durable loop `for f in ...; do sh -e "$f" && sync; done` over the same files, in the
 * same run and environment (LC_ALL=C for both: the runner sets it itself, and the naive
 * loop must not pay for locale loading the runner avoids). Also: a boot where all 200 are
 * already applied, and the same comparison under busybox ash for information.
 *
 * Prints one JSON line. Goal (DESIGN): ratio <= 1.5 and an all-applied boot < 50 ms.
 * Usage: node packages/runner/bench/runner-bench.mjs [--reps N]   (needs `pnpm build`)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitRunner, writeTree } from "../dist/index.js";

const SCRIPTS = 200;
const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5;
const ENV = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };

const work = mkdtempSync(join(tmpdir(), "stepstone-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function bundle(dir) {
  mkdirSync(dir, { recursive: true });
  const lines = ["release\t1.0.0", "platform\t-", `component\tbench\t${SCRIPTS + 1}\t1\thalt\t-`];
  for (let i = 1; i <= SCRIPTS; i++) {
    const file = `${String(i).padStart(4, "0")}-bench-${i}-${i + 1}.sh`;
    const content = "#!/bin/sh\nset -e\n:\n";
    writeFileSync(join(dir, file), content, { mode: 0o755 });
    const sha = createHash("sha256").update(content).digest("hex");
    lines.push(`script\t${i}\tbench-${i}-${i + 1}\t${sha}\tbench\t${i}\t${i + 1}\t${file}`);
  }
  writeFileSync(join(dir, "manifest.tsv"), `${lines.join("\n")}\n`);
}

async function root(name, recordMode) {
  const r = join(work, name);
  await writeTree(r, emitRunner({ recordMode }));
  bundle(join(r, "usr/share/migration.d"));
  mkdirSync(join(r, "run"), { recursive: true });
  return r;
}

function time(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: ENV, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function compare(shell, roots) {
  const naive = [];
  const runner = Object.fromEntries(Object.keys(roots).map((k) => [k, []]));
  const scripts = join(roots.companion, "usr/share/migration.d");
  for (let i = 0; i < REPS; i++) {
    // Interleaved, so drifts of the machine hit every variant alike.
    naive.push(
      time([...shell, "-c", 'for f in "$1"/*.sh; do sh -e "$f" && sync; done', "naive", scripts]),
    );
    for (const [mode, r] of Object.entries(roots)) {
      rmSync(join(r, "var"), { recursive: true, force: true });
      runner[mode].push(
        time([...shell, join(r, "usr/libexec/migration/runner"), "--root", r, "boot"]),
      );
    }
  }
  const n = median(naive);
  const out = { naiveMs: round(n) };
  for (const [mode, xs] of Object.entries(runner)) {
    out[`${mode}Ms`] = round(median(xs));
    out[`${mode}Ratio`] = round(median(xs) / n, 2);
  }
  // All 200 applied: nothing to run.
  const r = roots.companion;
  const applied = [];
  for (let i = 0; i < Math.max(REPS, 9); i++) {
    applied.push(time([...shell, join(r, "usr/libexec/migration/runner"), "--root", r, "boot"]));
  }
  out.appliedBootMs = round(median(applied));
  return out;
}

const roots = {
  companion: await root("companion", "companion"),
  rename: await root("rename", "rename"),
};
const dash = compare(["dash"], roots);
const busybox = compare(["busybox", "ash"], roots);
const result = {
  bench: "runner",
  scripts: SCRIPTS,
  reps: REPS,
  dash,
  busybox,
  goal: { ratio: 1.5, appliedBootMs: 50 },
  pass: {
    ratio: dash.companionRatio <= 1.5,
    appliedBootMs: dash.appliedBootMs < 50,
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
