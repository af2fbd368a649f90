// One device of the device stage: two root file system slots (A and B, RAUC's), a
// persistent partition that survives every flash, and a "bootloader" (this host) that
// boots the primary slot RAUC chose. A boot starts qemu (TCG) with Debian's cloud kernel
// and the disks as NVMe namespaces:
//   nvme0n1  slot A      nvme0n2  persistent partition      nvme0n3  slot B
//   nvme0n4  report disk (a raw tar the guest writes)      nvme0n5  update disk (RAUC bundle)
// and waits for the guest's reporting service to power it off.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { HarnessError, must } from "../../powercut/lib/assets.mjs";
import { bootVm } from "../../powercut/lib/vm.mjs";

/** Writes ROOT/REL as file F ({ content | undefined for a directory, mode, uid, gid }). */
function writeTo(root, rel, f) {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  if (f.content === undefined) mkdirSync(p, { recursive: true });
  else writeFileSync(p, f.content);
  chmodSync(p, f.mode);
  chownSync(p, f.uid, f.gid);
}

/**
 * A new device on release VERSION of GRAPH, its data at that release's epochs as a device
 * that lived on it holds them (the accounts made on it included), with epoch records when
 * the release has the runner (it recorded them at its boots): { dir, slots, persist, ... }.
 * EXTRA(upper) adds to that data (failure boots); WRITE(upper) writes other data instead
 * (the power-cut fixture's), without records.
 */
export function newDevice(ctx, graph, version, image, { extra, write } = {}) {
  const r = graph.releases.get(version);
  const dir = join(ctx.work, `dev-${ctx.seq++}`);
  mkdirSync(dir, { recursive: true });
  const stage = join(dir, "persist-stage");
  const upper = join(stage, "upper");
  mkdirSync(join(upper, "etc"), { recursive: true });
  mkdirSync(join(upper, "var"), { recursive: true });
  mkdirSync(join(stage, "work/etc"), { recursive: true });
  mkdirSync(join(stage, "work/var"), { recursive: true });
  const data = {};
  if (write) write(upper);
  else
    for (const c of Object.keys(graph.json.components)) {
      const e = r.epochs[c];
      data[c] = { epoch: e, device: true };
      for (const [rel, f] of Object.entries(ctx.model.files(c, e, true))) writeTo(upper, rel, f);
      if (r.runner !== false) {
        writeTo(upper, `var/lib/migration/epoch/${c}`, {
          content: `${e}\n`,
          mode: 0o644,
          uid: 0,
          gid: 0,
        });
      }
    }
  extra?.(upper);
  writeTo(stage, "bootenv/primary", { content: "A\n", mode: 0o644, uid: 0, gid: 0 });
  const persist = join(dir, "persist.img");
  must("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "persist", "-d", stage, persist, "64M"]);
  rmSync(stage, { recursive: true, force: true });
  const slots = { A: join(dir, "slotA.img"), B: join(dir, "slotB.img") };
  must("cp", ["--sparse=always", image, slots.A]);
  const size = Math.max(fileSize(image) * 1.5, 400 << 20);
  writeFileSync(slots.B, "");
  spawnSync("truncate", ["-s", String(Math.ceil(size)), slots.B]);
  return { dir, slots, persist, primary: "A", release: version, data, graph, boots: 0 };
}

function emptyDisk(dev) {
  const p = join(dev.dir, "no-update.img");
  if (!existsSync(p)) {
    writeFileSync(p, "");
    spawnSync("truncate", ["-s", "1M", p]);
  }
  return p;
}

function fileSize(p) {
  return Number(must("stat", ["-c", "%s", p]).trim());
}

/** The primary slot in the boot environment on the persistent partition (RAUC's choice). */
export function readPrimary(dev) {
  const r = spawnSync("debugfs", ["-R", "cat /bootenv/primary", dev.persist], { encoding: "utf8" });
  const v = r.stdout.trim();
  if (r.status !== 0 || !/^[AB]$/.test(v)) {
    throw new HarnessError(
      `cannot read the boot environment of ${dev.persist}: ${r.stderr.trim()} ${v}`,
    );
  }
  return v;
}

/**
 * Boots the device's primary slot once, to the reporting service's poweroff. OPTIONS:
 * { layout, update: update-disk image | undefined, wipe: [c], timeoutMs }. Returns the
 * console marks, the report folder (extracted) and timings.
 */
export async function bootDevice(
  ctx,
  dev,
  { layout, update, wipe = [], timeoutMs = 300_000, onMark, cut = false },
) {
  const n = ++dev.boots;
  const report = join(dev.dir, `report-${n}.img`);
  writeFileSync(report, "");
  spawnSync("truncate", ["-s", "64M", report]);
  const slot = dev.primary;
  const rootDev = slot === "A" ? "/dev/nvme0n1" : "/dev/nvme0n3";
  const drive = (file, id, nsid, extra = "") => [
    "-drive",
    `file=${file},if=none,id=${id},format=raw,cache=unsafe${extra}`,
    "-device",
    `nvme-ns,bus=nvme0,drive=${id},nsid=${nsid}`,
  ];
  const drives = [
    "-device",
    "nvme,id=nvme0,serial=stepstone",
    ...drive(dev.slots.A, "a", 1),
    ...drive(dev.persist, "p", 2),
    ...drive(dev.slots.B, "b", 3),
    ...drive(report, "r", 4),
    ...drive(update ?? emptyDisk(dev), "u", 5, ",snapshot=on"),
  ];
  // qemu64 without Spectre mitigations (the default, --cpu): under TCG a plain CPU model
  // costs less to emulate than -cpu max; Debian's userland needs only x86-64 v1.
  const qemu64 = (ctx.cpu ?? "qemu64") === "qemu64";
  const append = [
    qemu64 ? "mitigations=off" : "",
    `root=${rootDev}`,
    "rootfstype=ext4",
    "ro",
    layout === "premounted" ? "init=/sbin/openbmc-init" : "",
    `rauc.slot=${slot}`,
    "systemd.show_status=0",
    `dev.flash=${update ? 1 : 0}`,
    wipe.length ? `dev.wipe=${wipe.join(",")}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const marks = [];
  const vm = bootVm({
    qemu: ctx.qemu,
    kernel: ctx.parts.kernel,
    append,
    drives,
    cpuModel: qemu64 ? "qemu64" : "max",
    prefix: ["@dev", "@pc"],
    anywhere: true,
    keepLines: 2000,
    timeoutMs,
    onMark: (kind, rest, ms, prefix) => {
      if (prefix === "@dev") marks.push({ kind, rest, ms });
      onMark?.(kind, rest, ms, prefix, vm);
    },
  });
  ctx.vms.add(vm);
  const end = await vm.done.finally(() => ctx.vms.delete(vm));
  ctx.boots.push({ ms: end.ms, cpu: end.cpuSeconds, flash: Boolean(update), cut });
  if (cut) {
    rmSync(report, { force: true });
    return {
      n,
      slot,
      marks,
      log: end.log,
      ms: end.ms,
      cpu: end.cpuSeconds,
      killed: end.killed,
      timedOut: end.timedOut,
    };
  }
  const error = marks.find((m) => m.kind === "error");
  const done = marks.some((m) => m.kind === "done");
  const out = join(dev.dir, `report-${n}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const rep = {
    n,
    slot,
    marks,
    log: end.log,
    ms: end.ms,
    cpu: end.cpuSeconds,
    ok: done && !error && !end.timedOut && !end.killed,
    error:
      error?.rest ??
      (end.timedOut
        ? `no poweroff after ${timeoutMs} ms`
        : done
          ? undefined
          : `qemu ended (exit ${end.code}) without the report's "done"`),
    dir: out,
  };
  const t = spawnSync("tar", ["-xf", report, "-C", out], { encoding: "utf8" });
  rmSync(report, { force: true });
  if (t.status !== 0 || !existsSync(join(out, "journal.txt"))) {
    rep.ok = false;
    rep.error ??= `no report on the report disk (${t.stderr.trim()})`;
    return rep;
  }
  for (const x of ["merged", "persist"]) {
    mkdirSync(join(out, x), { recursive: true });
    must("tar", [
      "--numeric-owner",
      "--same-owner",
      "-xpf",
      join(out, `${x}.tar`),
      "-C",
      join(out, x),
    ]);
  }
  const install = marks.find((m) => m.kind === "install" && /^rc /.test(m.rest));
  rep.installRc = install ? Number(install.rest.split(" ")[1]) : undefined;
  return rep;
}

/** Reads a file of a report, or undefined. */
export function reportFile(rep, rel) {
  try {
    return readFileSync(join(rep.dir, rel), "utf8");
  } catch {
    return undefined;
  }
}
