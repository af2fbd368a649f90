// Builds what the guest boots: the runner emitted by the real CLI (or a deliberately broken
// variant of it), the fixture's bundles made by `stepstone bundle`, and the device's disk:
// busybox as /bin, each image's /usr under /slots/<release>, the target bundle of a
// downgrade under /update, and the persistent data at epoch 1.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { HarnessError } from "./assets.mjs";
import { COMPONENTS, writeData } from "./model.mjs";
import { buildInitramfs, installApplets } from "./vm.mjs";

export const HERE = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const REPO = join(HERE, "../..");
export const CLI = join(REPO, "apps/cli/dist/bundle/bin.js");
export const GRAPH = join(HERE, "fixture/release-graph.json");

/** The fixture's releases: root-only golden, non-root, and the transition back. */
export const OLD = "1.0.0";
export const NEXT = "2.0.0";
export const TRANSITION = "2.0.1-transition.1";

/** Runner variants: the emitted runner, and broken ones that the harness must catch. */
export const VARIANTS = {
  correct: (src) => src,
  // Barrier 1 gone: the epoch record can become durable before the script's effects.
  "no-sync-after-script": (src) => {
    const re = /^(\s*)sync \|\| storage_fail "sync failed after \$2/m;
    if (!re.test(src)) {
      throw new HarnessError(
        'no-sync-after-script: the runner no longer has the line `sync || storage_fail "sync failed after $2...` to remove; update VARIANTS in test/powercut/lib/fixture.mjs',
      );
    }
    return src.replace(re, (_, indent) => `${indent}: || storage_fail "sync failed after $2`);
  },
};

export function cli(args, env = {}) {
  if (!existsSync(CLI)) {
    throw new HarnessError(
      `${CLI} is missing: build first (pnpm exec turbo run build --output-logs=errors-only)`,
    );
  }
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) {
    throw new HarnessError(`stepstone ${args.join(" ")} failed (exit ${r.status}): ${r.stderr}`);
  }
  return r.stdout;
}

export function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new HarnessError(`${cmd} ${args.join(" ")}: ${r.error?.message ?? r.stderr}`);
  }
  return r.stdout;
}

/** Component order of a bundle (manifest.tsv), which the checker's order check relies on. */
function manifestOrder(dir) {
  return readFileSync(join(dir, "manifest.tsv"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("component\t"))
    .map((l) => l.split("\t")[1]);
}

/**
 * Everything for the guest, under WORK: { disk (epoch-1 image), initrd, runner (its text) }.
 */
export function buildFixture({ work, variant, parts, log }) {
  const transform = VARIANTS[variant];
  if (!transform) {
    throw new HarnessError(
      `unknown runner variant ${variant} (${Object.keys(VARIANTS).join(", ")})`,
    );
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new HarnessError(
      "the power-cut harness runs as root (the disk image must hold root- and daemon-owned files, and debugfs restores owners only for root)",
    );
  }
  mkdirSync(work, { recursive: true });
  log(`building the runner (${variant}) and the bundles with ${CLI}`);
  const tree = join(work, "runner-tree");
  rmSync(tree, { recursive: true, force: true });
  cli(["runner", "--out", tree, "--format", "json"]);
  const runnerPath = join(tree, "usr/libexec/migration/runner");
  const runner = transform(readFileSync(runnerPath, "utf8"));
  writeFileSync(runnerPath, runner);
  chmodSync(runnerPath, 0o755);

  const bundles = join(work, "bundles");
  rmSync(bundles, { recursive: true, force: true });
  for (const v of [OLD, NEXT, TRANSITION]) {
    cli(["bundle", "--graph", GRAPH, "--release", v, "--out", bundles, "--format", "json"], {
      SOURCE_DATE_EPOCH: "1700000000",
    });
  }

  const root = join(work, "root");
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  installApplets(parts.busybox, join(root, "bin"));
  symlinkSync("bin", join(root, "sbin"));
  for (const d of ["usr", "run", "proc", "dev", "tmp", "update", "var/log"]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const v of [OLD, NEXT, TRANSITION]) {
    const slot = join(root, "slots", v);
    mkdirSync(slot, { recursive: true });
    cpSync(join(tree, "usr"), join(slot, "usr"), { recursive: true });
    sh("tar", ["-xzf", join(bundles, `migration-${v}.tar.gz`), "-C", slot]);
    const order = manifestOrder(join(slot, "usr/share/migration.d"));
    if (order.join(" ") !== COMPONENTS.join(" ")) {
      throw new HarnessError(
        `${v}: component order ${order.join(" ")}, expected ${COMPONENTS.join(" ")}`,
      );
    }
  }
  copyFileSync(
    join(bundles, `migration-${OLD}.tar.gz`),
    join(root, "update", `migration-${OLD}.tar.gz`),
  );
  writeData(root);

  const disk = join(work, "epoch1.img");
  rmSync(disk, { force: true });
  sh("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-L", "bmc-data", "-d", root, disk, "48M"]);

  const initrd = join(work, "initrd.cpio");
  buildInitramfs({
    busybox: parts.busybox,
    modules: parts.modules,
    init: join(HERE, "guest/init"),
    out: initrd,
    work,
  });
  return { disk, initrd, runner };
}
