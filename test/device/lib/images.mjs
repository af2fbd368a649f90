// A release's image: the shared base plus that release's files, installed as the Yocto
// layer would (integrations/yocto: the runner tree of `stepstone runner`, the bundle of
// `stepstone bundle` in /usr/share/migration.d with the public keys of the release's
// `trusts`, migration.service enabled), RAUC with stepstone's pre-install handler
// (integrations/rauc), the image's own account files at its epochs, the stage's
// reporting service and stand-ins for the components' daemons. Each image is an ext4 file
// made with `mke2fs -d` from an overlay mount of the base (no copy of the base), and is
// packed into a RAUC bundle (with the release's migration bundle beside it, which the
// pre-install handler hands to `runner pre-flash --target`) on an "update disk".
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { HarnessError, must } from "../../powercut/lib/assets.mjs";
import { cli } from "../../powercut/lib/fixture.mjs";
import { ensureKey } from "./keys.mjs";

export const HERE = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const REPO = join(HERE, "../..");
const RAUC = join(REPO, "integrations/rauc");
export const UPPER = "/persist/upper";
const UNIT_DIR = "usr/lib/systemd/system";
/** Units whose states every report records (plus the components' services). */
export const WATCHED = [
  "migration.service",
  "migration-failed.target",
  "systemd-sysusers.service",
  "systemd-tmpfiles-setup.service",
  "systemd-tmpfiles-setup-dev.service",
  "systemd-remount-fs.service",
  "local-fs.target",
  "sysinit.target",
  "multi-user.target",
  "systemd-networkd.service",
  "sshd.service",
  "persist.mount",
  "etc.mount",
  "var.mount",
];

/** A graph the stage walks: its file, parsed, and a copy folder for derived bundles. */
export function loadGraph(name, file) {
  const json = JSON.parse(readFileSync(file, "utf8"));
  const releases = new Map(json.releases.map((r) => [r.version, r]));
  return { name, file, dir: dirname(file), json, releases };
}

/** Services of the graph's components (they get stand-ins and drop-ins). */
export function componentServices(graph) {
  return Object.values(graph.json.components).flatMap((c) => c.services ?? []);
}

function sha(...parts) {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? p : JSON.stringify(p)).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** Lists every file under DIR (relative), for the inputs' hash. */
function treeDigest(dir) {
  const h = createHash("sha256");
  const walk = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else
        h.update(r)
          .update("\0")
          .update(readFileSync(join(dir, r)))
          .update("\0");
    }
  };
  walk("");
  return h.digest("hex");
}

/**
 * The runner tree for a graph and layout, emitted by the real CLI: its folder. LAYOUT is
 * passed as --layout when the CLI knows the option (the lead's emitter); today's CLI has
 * one set of units, whatever the layout.
 */
export function emitRunner(ctx, graph, layout) {
  const out = join(ctx.work, `runner-${graph.name}-${layout}`);
  if (existsSync(out)) return out;
  const args = ["runner", "--out", out, "--graph", graph.file, "--upper", UPPER];
  if (ctx.cliHasLayout) args.push("--layout", layout);
  cli([...args, "--format", "json"]);
  return out;
}

/** Does the built CLI's `runner` take --layout? (the lead's new emitter) */
export function cliHasLayout() {
  return /--layout/.test(cli(["runner", "--help"]));
}

/**
 * The release's stepstone bundle (signed with its signedBy key when it has one): the file.
 * A release without the runner has no bundle (`stepstone bundle` refuses it); its update
 * still needs one for the runner's pre-flash on the other side (the target's epochs), so
 * the stage makes it from a copy of the graph where that release has the runner and
 * ships nothing of its own (its "epoch card"; see the README's findings).
 */
export function releaseBundle(ctx, graph, version) {
  const r = graph.releases.get(version);
  const out = join(ctx.work, `bundles-${graph.name}`);
  const file = join(out, `migration-${version}.tar.gz`);
  if (existsSync(file)) return file;
  let graphFile = graph.file;
  if (r.runner === false) {
    const copy = join(ctx.work, `graph-card-${graph.name}`);
    if (!existsSync(copy)) {
      // The graph's scripts live in its folder (migrations/ in both graphs walked here).
      cpSync(join(graph.dir, "migrations"), join(copy, "migrations"), { recursive: true });
      cpSync(join(graph.dir, "keys"), join(copy, "keys"), { recursive: true });
    }
    graphFile = join(copy, `card-${version}.json`);
    const json = structuredClone(graph.json);
    for (const x of json.releases) if (x.version === version) x.runner = true;
    writeFileSync(graphFile, JSON.stringify(json, null, 2));
  }
  const args = ["bundle", "--graph", graphFile, "--release", version, "--out", out];
  if (r.signedBy) args.push("--sign", ensureKey(ctx.keys, r.signedBy).ed25519.key);
  cli([...args, "--format", "json"], { SOURCE_DATE_EPOCH: "1700000000" });
  if (!existsSync(file)) throw new HarnessError(`stepstone bundle wrote no ${file}`);
  return file;
}

function put(root, rel, content, mode = 0o644) {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function enable(root, target, unit) {
  const d = join(root, "etc/systemd/system", `${target}.wants`);
  mkdirSync(d, { recursive: true });
  rmSync(join(d, unit), { force: true });
  symlinkSync(`/${UNIT_DIR}/${unit}`, join(d, unit));
}

/**
 * The files that make a release's image out of the base, written under ROOT (the overlay
 * mount of the base). VARIANT: { layout, scripts: false for an image whose
 * /usr/share/migration.d is empty }.
 */
function addReleaseFiles(ctx, graph, version, variant, root) {
  const r = graph.releases.get(version);
  const guest = join(HERE, "guest");
  const runner = r.runner !== false;
  put(root, "usr/lib/device-test/release", `${version}\n`);
  put(root, "usr/lib/device-test/layout", `${variant.layout}\n`);
  // OpenBMC's layout.
  if (variant.layout === "premounted") {
    copyFileSync(join(guest, "openbmc-init"), join(root, "sbin/openbmc-init"));
    chmodSync(join(root, "sbin/openbmc-init"), 0o755);
  } else {
    copyFileSync(join(guest, "fstab"), join(root, "etc/fstab"));
  }
  // The runner and its units, as stepstone-runner.bb installs them.
  if (runner) {
    const tree = emitRunner(ctx, graph, variant.layout);
    cpSync(join(tree, "usr"), join(root, "usr"), { recursive: true });
    enable(root, "sysinit.target", "migration.service");
    mkdirSync(join(root, "usr/share/migration.d"), { recursive: true });
    mkdirSync(join(root, "var/lib/migration"), { recursive: true });
    if (variant.scripts !== false) {
      must("tar", ["-xzf", releaseBundle(ctx, graph, version), "-C", root, "--no-same-owner"]);
      // The bundle carries its trust store (keys/<id>.pem of the release's trusts).
    }
  }
  // RAUC: the system configuration, the keyring of the trusted keys, the handler.
  let conf = readFileSync(join(RAUC, "system.conf"), "utf8");
  if (!runner) conf = conf.replace(/^pre-install=.*\n/m, ""); // it predates stepstone
  put(root, "etc/rauc/system.conf", conf);
  const ring = (r.trusts ?? []).map((id) =>
    readFileSync(ensureKey(ctx.keys, id).x509.cert, "utf8"),
  );
  put(root, "etc/rauc/keyring.pem", ring.join(""));
  if (runner) {
    put(
      root,
      "usr/lib/stepstone/rauc-pre-install",
      readFileSync(join(RAUC, "stepstone-pre-install")),
      0o755,
    );
  }
  put(
    root,
    "usr/lib/stepstone/rauc-bootloader",
    readFileSync(join(guest, "rauc-bootloader")),
    0o755,
  );
  put(root, `${UNIT_DIR}/rauc.service`, readFileSync(join(RAUC, "rauc.service")));
  put(
    root,
    "usr/share/dbus-1/system.d/de.pengutronix.rauc.conf",
    readFileSync(join(RAUC, "de.pengutronix.rauc.conf")),
  );
  put(
    root,
    "usr/share/dbus-1/system-services/de.pengutronix.rauc.service",
    readFileSync(join(RAUC, "de.pengutronix.rauc.service")),
  );
  // The stage's reporting service, the daemons' stand-ins (sshd only when wanted).
  put(root, "usr/lib/device-test/device-report", readFileSync(join(guest, "device-report")), 0o755);
  put(
    root,
    `${UNIT_DIR}/device-report.service`,
    readFileSync(join(guest, "device-report.service")),
  );
  enable(root, "multi-user.target", "device-report.service");
  const standin = readFileSync(join(guest, "standin.service"), "utf8");
  const services = componentServices(graph);
  for (const s of [...services, "sshd.service"]) {
    put(root, `${UNIT_DIR}/${s}`, standin.replaceAll("@NAME@", s));
    if (s !== "sshd.service") enable(root, "multi-user.target", s);
  }
  put(
    root,
    "usr/lib/device-test/paths",
    `${[...ctx.model.paths, "var/lib/migration"].join("\n")}\n`,
  );
  put(root, "usr/lib/device-test/units", `${[...WATCHED, ...services].join("\n")}\n`);
  // The image's own account files at its epochs (what a wipe of users brings back).
  for (const u of variant.mask ?? []) {
    rmSync(join(root, "etc/systemd/system", u), { force: true });
    symlinkSync("/dev/null", join(root, "etc/systemd/system", u));
  }
  if (variant.ownFiles === false) return;
  for (const c of Object.keys(graph.json.components)) {
    for (const [rel, f] of Object.entries(ctx.model.files(c, r.epochs[c], false))) {
      if (f.content === undefined) continue;
      put(root, rel, f.content, f.mode);
      chownSync(join(root, rel), f.uid, f.gid);
    }
  }
}

/**
 * The image of VERSION (VARIANT: { layout, scripts }), cached by the hash of everything
 * that goes into it: { image, update } (the ext4 root file system, and the update disk
 * holding its RAUC bundle).
 */
export function buildImage(ctx, graph, version, variant) {
  const r = graph.releases.get(version);
  if (!r) throw new HarnessError(`${graph.name}: no release ${version}`);
  const runnerTree = r.runner !== false ? treeDigest(emitRunner(ctx, graph, variant.layout)) : "";
  const bundle = readFileSync(releaseBundle(ctx, graph, version));
  const keyIds = [...new Set([...(r.trusts ?? []), r.signedBy].filter(Boolean))];
  const keys = keyIds.map((id) => readFileSync(ensureKey(ctx.keys, id).x509.cert, "utf8"));
  const key = sha(
    ctx.base.key,
    graph.name,
    version,
    variant,
    r,
    runnerTree,
    createHash("sha256").update(bundle).digest("hex"),
    keys,
    treeDigest(join(HERE, "guest")),
    // The code that writes the image's files is an input too.
    readFileSync(new URL(import.meta.url), "utf8"),
    readFileSync(new URL("./model.mjs", import.meta.url), "utf8"),
    treeDigest(RAUC),
    ctx.model.paths,
  );
  const dir = join(
    ctx.imageCache,
    `${graph.name}-${version}-${variant.layout}${variant.scripts === false ? "-noscripts" : ""}-${key}`,
  );
  const image = join(dir, "rootfs.ext4");
  const update = join(dir, "update.img");
  if (existsSync(join(dir, ".done")))
    return { image, update: existsSync(update) ? update : undefined, dir };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ov = join(ctx.work, `ov-${process.pid}-${key}`);
  for (const d of ["upper", "work", "merged"]) mkdirSync(join(ov, d), { recursive: true });
  must("mount", [
    "-t",
    "overlay",
    "-o",
    `lowerdir=${ctx.base.root},upperdir=${join(ov, "upper")},workdir=${join(ov, "work")}`,
    "overlay",
    join(ov, "merged"),
  ]);
  try {
    addReleaseFiles(ctx, graph, version, variant, join(ov, "merged"));
    const kib = Number(must("du", ["-s", "-k", join(ov, "merged")]).split(/\s/)[0]);
    const mib = Math.ceil((kib * 1.1) / 1024) + 24;
    must("mke2fs", [
      "-q",
      "-F",
      "-t",
      "ext4",
      "-L",
      "rootfs",
      // The root is mounted read-only: no journal.
      "-O",
      "^has_journal",
      "-d",
      join(ov, "merged"),
      image,
      `${mib}M`,
    ]);
    // Shrunk to its minimum and the file cut there: RAUC writes every byte of the image to
    // the other slot at each flash, the slowest part of a flash under TCG.
    must("resize2fs", ["-M", image]);
    const head = must("dumpe2fs", ["-h", image]);
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(head)?.[1]);
    truncateSync(image, field("Block count") * field("Block size"));
  } finally {
    must("umount", [join(ov, "merged")]);
    rmSync(ov, { recursive: true, force: true });
  }
  // The RAUC bundle: the image, the migration bundle for the pre-install handler.
  const content = join(dir, "bundle-content");
  mkdirSync(content);
  linkSync(image, join(content, "rootfs.ext4"));
  copyFileSync(releaseBundle(ctx, graph, version), join(content, "migration.tar.gz"));
  writeFileSync(
    join(content, "manifest.raucm"),
    `[update]\ncompatible=stepstone-qemu\nversion=${version}\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.ext4\n`,
  );
  if (!r.signedBy) {
    // Nothing to sign a RAUC bundle with: an image that is booted, never flashed.
    rmSync(content, { recursive: true, force: true });
    writeFileSync(join(dir, ".done"), `${key}\n`);
    return { image, update: undefined, dir };
  }
  const signer = ensureKey(ctx.keys, r.signedBy).x509;
  const upd = join(dir, "update");
  mkdirSync(upd);
  // RAUC 1.8 takes no mksquashfs options and compresses with gzip (16 s a bundle here);
  // lz4 (2 s) through a shim first on PATH. The guest reads either.
  const shim = join(ctx.work, "bin");
  if (!existsSync(join(shim, "mksquashfs"))) {
    put(shim, "mksquashfs", '#!/bin/sh\nexec /usr/bin/mksquashfs "$@" -comp lz4\n', 0o755);
  }
  must(
    "rauc",
    ["--cert", signer.cert, "--key", signer.key, "bundle", content, join(upd, "update.raucb")],
    {
      env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
    },
  );
  rmSync(content, { recursive: true, force: true });
  const mib = Math.ceil(statSync(join(upd, "update.raucb")).size / 1048576 + 16);
  must("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "update", "-d", upd, update, `${mib}M`]);
  rmSync(upd, { recursive: true, force: true });
  writeFileSync(join(dir, ".done"), `${key}\n`);
  return { image, update, dir };
}

/** Prunes image folders of the cache not used by this run (keeps the cache bounded). */
export function pruneImages(ctx, used) {
  if (!existsSync(ctx.imageCache)) return;
  for (const e of readdirSync(ctx.imageCache)) {
    const p = join(ctx.imageCache, e);
    if (!used.has(p)) rmSync(p, { recursive: true, force: true });
  }
}
