#!/usr/bin/env node
// `stepstone sync` on a firmware repository at the scale of a vendor's history: 1,000
// tags (lightweight and annotated, `v1.2.3` and `1.2.3`, plus tags that are not versions)
// and 15,000 migration scripts over 20 components, each kept for a window of 200 releases
// and then deleted. The repository is written with one `git fast-import`.
//
// Prints one JSON line: {"bench":"git.sync","ms":...,"resyncMs":...,"tags":1000,"files":15000,...}
//   ms       = first sync (reads every tag, writes the graph and mirrors 15,000 scripts)
//   resyncMs = sync again with nothing changed (the file is left byte-identical)
//   floorMs  = node writing the same 15,000 files and nothing else: the disk's share of
//              `ms`, measured in the same run (these machines are noisy); ratio = ms / floorMs
// Goal: seconds.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "apps/cli/dist/bundle/bin.js");
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const TAGS = 1000;
const COMPONENTS = 20;
const WINDOW = 200; // releases a script stays in the tree

/** The fast-import stream: one commit and one tag per release. */
function history() {
  const out = [];
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const epochs = new Array(COMPONENTS).fill(1);
  const added = []; // per release: the paths it added
  let files = 0;
  const comp = (c) => `c${String(c).padStart(2, "0")}`;
  for (let i = 0; i < TAGS; i++) {
    const when = 1_500_000_000 + i * 86_400;
    const paths = [];
    const ops = [];
    const put = (path, content, mode = "100755") => {
      ops.push(`M ${mode} inline ${path}\n${data(content)}`);
    };
    // 7 components move one epoch up, each with its up- and down-migration, plus one
    // shortcut over two epochs: 15 new scripts per release.
    for (let k = 0; k < 7; k++) {
      const c = (i * 7 + k) % COMPONENTS;
      const e = epochs[c];
      const dir = `migrations/${comp(c)}`;
      const up = `${dir}/${e}-${e + 1}-r${i}.sh`;
      const down = `${dir}/${e + 1}-${e}-r${i}.sh`;
      put(up, `#!/bin/sh\nset -eu\n# ${comp(c)} ${e} -> ${e + 1}, release ${i}\n`);
      put(down, `#!/bin/sh\nset -eu\n# ${comp(c)} ${e + 1} -> ${e}, release ${i}\n`);
      paths.push(up, down);
      if (k === 0) {
        const skip = `${dir}/${e - 1}-${e + 1}-skip${i}.sh`;
        put(skip, `#!/bin/sh\nset -eu\n# ${comp(c)} ${e - 1} -> ${e + 1}, release ${i}\n`);
        paths.push(skip);
      }
      epochs[c] = e + 1;
      put(`${dir}/EPOCH`, `${e + 1}\n`, "100644");
    }
    files += paths.length;
    added.push(paths);
    if (i >= WINDOW) for (const p of added[i - WINDOW]) ops.push(`D ${p}\n`);
    put(`src/module-${i % 50}.c`, `/* release ${i} */\nint version = ${i};\n`, "100644");
    out.push(
      `commit refs/heads/main\nmark :${i + 1}\n`,
      `author Bench <bench@example.com> ${when} +0000\ncommitter Bench <bench@example.com> ${when} +0000\n`,
      data(`release ${i}`),
      i > 0 ? `from :${i}\n` : "",
      ...ops,
      "\n",
    );
    const version = `${1 + Math.floor(i / 200)}.${Math.floor(i / 20) % 10}.${i % 20}`;
    const name = i % 2 === 0 ? `v${version}` : version;
    if (i % 4 < 2) out.push(`reset refs/tags/${name}\nfrom :${i + 1}\n\n`);
    else {
      out.push(
        `tag ${name}\nfrom :${i + 1}\ntagger Bench <bench@example.com> ${when} +0000\n`,
        data(`Release ${version}`),
      );
    }
    // Tags that are not versions, as real repositories have them.
    if (i % 100 === 0) out.push(`reset refs/tags/build-${i}\nfrom :${i + 1}\n\n`);
  }
  return { stream: out.join(""), files };
}

function run(args, cwd) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`stepstone ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), "stepstone-git-bench-"));
try {
  const repo = join(dir, "firmware");
  const t0 = performance.now();
  spawnSync("git", ["init", "--quiet", repo], { stdio: "inherit" });
  const { stream, files } = history();
  const fi = spawnSync("git", ["fast-import", "--quiet"], {
    cwd: repo,
    input: stream,
    maxBuffer: 1 << 26,
  });
  if (fi.status !== 0) throw new Error(`git fast-import failed: ${fi.stderr}`);
  process.stderr.write(
    `git.sync: repository with ${TAGS} tags and ${files} scripts written in ${Math.round(performance.now() - t0)} ms\n`,
  );

  /** Writing the mirrored scripts alone, as sync writes them (16 at a time). */
  const writeFloor = async (out) => {
    const g = JSON.parse(readFileSync(join(out, "release-graph.json"), "utf8"));
    const floor = join(dir, "floor");
    const files = g.migrations.map((m) => [
      join(floor, m.script),
      readFileSync(join(out, m.script)),
    ]);
    const t = performance.now();
    const made = new Set();
    for (const [file] of files) {
      const folder = file.slice(0, file.lastIndexOf("/"));
      if (!made.has(folder)) mkdirSync(folder, { recursive: true });
      made.add(folder);
    }
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const [file, data] = files[next++];
        await writeFile(file, data, { mode: 0o755 });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const ms = performance.now() - t;
    rmSync(floor, { recursive: true, force: true });
    return ms;
  };

  const first = [];
  const again = [];
  const floors = [];
  let summary = null;
  for (let i = 0; i < rounds; i++) {
    const out = join(dir, `graph-${i}`);
    mkdirSync(out);
    const graph = join(out, "release-graph.json");
    const a = run(["sync", "--repo", repo, "--graph", graph, "--format", "json"], dir);
    first.push(a.ms);
    const b = run(["sync", "--repo", repo, "--graph", graph, "--format", "json"], dir);
    again.push(b.ms);
    if (JSON.parse(b.stdout).written)
      throw new Error("a re-sync of an unchanged repository rewrote the graph");
    summary = JSON.parse(readFileSync(graph, "utf8"));
    floors.push(await writeFloor(out));
    rmSync(out, { recursive: true, force: true });
    process.stderr.write(`\rgit.sync: round ${i + 1}/${rounds}`);
  }
  process.stderr.write("\n");
  console.log(
    JSON.stringify({
      bench: "git.sync",
      ms: +median(first).toFixed(1),
      floorMs: +median(floors).toFixed(1),
      ratio: +(median(first) / median(floors)).toFixed(2),
      resyncMs: +median(again).toFixed(1),
      tags: TAGS,
      files,
      releases: summary.releases.length,
      migrations: summary.migrations.length,
      components: Object.keys(summary.components).length,
      goal: "seconds",
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
