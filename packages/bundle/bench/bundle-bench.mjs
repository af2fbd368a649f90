#!/usr/bin/env node
// Bundle benchmark: `stepstone bundle` of a release shipping 5,000 scripts of about 2 KiB,
// against `tar czf` + `sha256sum` of the same files (the floor: what any packager does).
// Prints one JSON line. Goal: at most 1x.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../..", import.meta.url).pathname;
const bin = join(root, "apps/cli/dist/bundle/bin.js");
const N = Number(process.env.BUNDLE_BENCH_SCRIPTS ?? 5000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

const dir = mkdtempSync(join(tmpdir(), "stepstone-bundle-bench-"));
try {
  mkdirSync(join(dir, "m"));
  const migrations = [];
  // ~2 KiB of shell each, different per script (so gzip works as on real scripts).
  for (let i = 0; i < N; i++) {
    const id = `c${i % 40}-${i}`;
    const body = [
      `#!/bin/sh`,
      `# ${id}`,
      "set -eu",
      ...Array.from({ length: 40 }, (_, k) => `printf '%s\\n' "step ${k} of ${id}" >/dev/null`),
    ].join("\n");
    writeFileSync(join(dir, "m", `${id}.sh`), `${body}\n`);
    migrations.push({
      id,
      component: `c${i % 40}`,
      from: 1 + Math.floor(i / 40),
      to: 2 + Math.floor(i / 40),
      script: `m/${id}.sh`,
      shippedIn: ">=1.0.0",
    });
  }
  const components = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`c${i}`, { paths: [`var/lib/c${i}`] }]),
  );
  const epochs = Object.fromEntries(Object.keys(components).map((c) => [c, 1]));
  writeFileSync(
    join(dir, "release-graph.json"),
    JSON.stringify({
      schemaVersion: 1,
      components,
      releases: [{ version: "1.0.0", epochs }],
      migrations,
    }),
  );

  const time = (cmd, args) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    return performance.now() - t;
  };
  const floor = [];
  const ours = [];
  for (let i = 0; i < rounds; i++) {
    floor.push(time("sh", ["-c", "tar czf floor.tar.gz m && sha256sum m/*.sh > floor.sums"]));
    ours.push(time(process.execPath, [bin, "bundle", "--release", "1.0.0", "--out", "out"]));
    process.stderr.write(`\rbundle: round ${i + 1}/${rounds}`);
  }
  process.stderr.write("\n");
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ms = median(ours);
  const floorMs = median(floor);
  const bundle = readFileSync(join(dir, "out", "migration-1.0.0.tar.gz"));
  console.log(
    JSON.stringify({
      bench: "bundle.5000",
      ms: +ms.toFixed(1),
      floorMs: +floorMs.toFixed(1),
      ratio: +(ms / floorMs).toFixed(2),
      goal: "<= 1x tar czf + sha256sum",
      scripts: N,
      bytes: bundle.length,
      // The bundle's bytes do not depend on the run: compare across changes.
      sha256: createHash("sha256").update(bundle).digest("hex"),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
