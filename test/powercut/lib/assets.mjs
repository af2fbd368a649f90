// What the harness needs from the machine and from Debian's archive, fetched at run time:
// host tools (installed with apt-get when missing and running as root), the Debian cloud
// kernel and busybox-static (downloaded with apt-get download into the cache folder and
// unpacked with dpkg-deb -x: never installed, since installing a kernel package pulls in
// initramfs-tools, which replaces busybox-static). Anything missing fails the run loudly.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Host command -> the Debian package that has it. */
export const HOST_TOOLS = {
  "qemu-system-x86_64": "qemu-system-x86",
  mke2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  cpio: "cpio",
  "dpkg-deb": "dpkg",
  "apt-get": "apt",
};

/** Virtio disk modules of the cloud kernel, in load order (ext4 is built in). */
export const MODULES = [
  "drivers/virtio/virtio_ring",
  "drivers/virtio/virtio",
  "drivers/virtio/virtio_pci_legacy_dev",
  "drivers/virtio/virtio_pci_modern_dev",
  "drivers/virtio/virtio_pci",
  "drivers/block/virtio_blk",
];

export class HarnessError extends Error {}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new HarnessError(`${cmd}: ${r.error.message}`);
  return r;
}

export function must(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new HarnessError(
      `${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim()}`,
    );
  }
  return r.stdout;
}

export function which(cmd) {
  const r = run("sh", ["-c", 'command -v "$1"', "sh", cmd]);
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith("/") ? p : undefined;
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

let updated = false;
/** apt-get update, once a run (a fresh machine may have no package lists). */
function aptUpdate(log) {
  if (updated) return;
  log("apt-get update");
  must("apt-get", ["update", "-qq"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  updated = true;
}

/**
 * Runs an apt command and hands its stdout to PICK; when the command fails or PICK finds
 * nothing, runs apt-get update once and tries again. Returns what PICK returned.
 */
function apt(log, args, pick = (out) => out, opts = {}) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const r = run(args[0], args.slice(1), { env, ...opts });
  const got = r.status === 0 ? pick(r.stdout) : undefined;
  if (got !== undefined) return got;
  aptUpdate(log);
  const again = pick(must(args[0], args.slice(1), { env, ...opts }));
  if (again === undefined) {
    throw new HarnessError(`${args.join(" ")}: nothing usable even after apt-get update`);
  }
  return again;
}

/**
 * Makes sure every host tool of TOOLS (command -> Debian package) is there, installing the
 * missing packages when root.
 */
export function ensureTools(log, tools = HOST_TOOLS, who = "the power-cut harness") {
  const missing = Object.entries(tools).filter(([cmd]) => !which(cmd));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, p]) => p))].sort();
  if (!isRoot() || !which("apt-get")) {
    throw new HarnessError(
      `${who} needs ${missing.map(([c]) => c).join(", ")}: apt-get install ${pkgs.join(" ")}`,
    );
  }
  log(`installing ${pkgs.join(" ")}`);
  apt(log, ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...pkgs]);
  const still = missing.filter(([cmd]) => !which(cmd));
  if (still.length > 0) {
    throw new HarnessError(
      `still missing after apt-get install: ${still.map(([c]) => c).join(", ")}`,
    );
  }
}

/**
 * Downloads PACKAGE (the candidate version) into CACHE and unpacks it there, once:
 * returns the folder it was unpacked into.
 */
export function fetchDeb(log, cache, pkg) {
  const version = apt(log, ["apt-cache", "policy", pkg], (out) => {
    const v = /Candidate:\s*(\S+)/.exec(out)?.[1];
    return v && v !== "(none)" ? v : undefined;
  });
  const dir = join(cache, `${pkg}_${version.replace(/[^A-Za-z0-9.+~-]/g, "_")}`);
  if (existsSync(join(dir, ".done"))) return dir;
  const dl = join(cache, `download-${process.pid}`);
  rmSync(dl, { recursive: true, force: true });
  mkdirSync(dl, { recursive: true });
  log(`apt-get download ${pkg}=${version}`);
  apt(
    log,
    ["apt-get", "download", "-o", "APT::Sandbox::User=root", `${pkg}=${version}`],
    undefined,
    {
      cwd: dl,
    },
  );
  const deb = readdirSync(dl).find((f) => f.endsWith(".deb"));
  if (!deb) throw new HarnessError(`apt-get download ${pkg} wrote no .deb`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  must("dpkg-deb", ["-x", join(dl, deb), tmp]);
  writeFileSync(join(tmp, ".done"), `${pkg} ${version}\n`);
  rmSync(dl, { recursive: true, force: true });
  // Another run may have unpacked the same package meanwhile: keep whichever is complete.
  if (!existsSync(join(dir, ".done"))) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(join(dir, ".done"))) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The Debian cloud kernel (the package linux-image-cloud-amd64 depends on) and the virtio
 * modules, and busybox-static: { kernel, modules: [paths], busybox, kernelPackage }.
 */
export function ensureGuestParts(log, cache) {
  mkdirSync(cache, { recursive: true });
  const kpkg = apt(
    log,
    ["apt-cache", "depends", "linux-image-cloud-amd64"],
    (out) => /Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)\b/.exec(out)?.[1],
  );
  const kdir = fetchDeb(log, cache, kpkg);
  const kver = kpkg.replace(/^linux-image-/, "");
  const kernel = join(kdir, "boot", `vmlinuz-${kver}`);
  const modules = MODULES.map((m) => join(kdir, "lib/modules", kver, "kernel", `${m}.ko`));
  for (const f of [kernel, ...modules]) {
    if (!existsSync(f)) throw new HarnessError(`${kpkg} has no ${f}`);
  }
  const bdir = fetchDeb(log, cache, "busybox-static");
  const busybox = join(bdir, "bin/busybox");
  if (!existsSync(busybox)) throw new HarnessError(`busybox-static has no ${busybox}`);
  return { kernel, modules, busybox, kernelPackage: kpkg, kernelDir: kdir, kernelVersion: kver };
}
