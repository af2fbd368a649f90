// The stricter model (--model log-writes): the guest's disk goes through device-mapper's
// log-writes target, which records every write the disk completed and every FLUSH/FUA on a
// second disk. Replaying that log on the host gives crash states of a disk with a volatile
// write cache: everything up to a flush is durable; of the writes after it, any subset
// (see pickState for the rules). Busybox has no dmsetup: Debian's dmsetup and its libraries are
// fetched like the kernel (apt-get download, dpkg-deb -x) and copied into the initramfs.
import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fetchDeb, HarnessError } from "./assets.mjs";

const PACKAGES = [
  "dmsetup",
  "libdevmapper1.02.1",
  "libselinux1",
  "libudev1",
  "libpcre2-8-0",
  "libc6",
];
const LIBS = [
  "ld-linux-x86-64.so.2",
  "libc.so.6",
  "libm.so.6",
  "libdevmapper.so.1.02.1",
  "libselinux.so.1",
  "libudev.so.1",
  "libpcre2-8.so.0",
];
const LIBDIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"];

/** Files to add to the initramfs ({ from, to }) and the two dm modules. */
export function ensureDmParts(log, cache, parts) {
  const dirs = PACKAGES.map((p) => fetchDeb(log, cache, p));
  const find = (rel) => dirs.map((d) => join(d, rel)).find((f) => existsSync(f));
  const files = [];
  const dmsetup = find("sbin/dmsetup");
  if (!dmsetup) throw new HarnessError("dmsetup: no sbin/dmsetup in the package");
  files.push({ from: dmsetup, to: "sbin/dmsetup" });
  for (const lib of LIBS) {
    const from = LIBDIRS.map((d) => find(join(d, lib))).find(Boolean);
    if (!from)
      throw new HarnessError(`dm-log-writes model: ${lib} not found in ${PACKAGES.join(" ")}`);
    files.push({ from, to: join("lib/x86_64-linux-gnu", lib) });
  }
  files.push({
    from: find("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    to: "lib64/ld-linux-x86-64.so.2",
  });
  const modules = ["drivers/md/dm-mod", "drivers/md/dm-log-writes"].map((m) =>
    join(parts.kernelDir, "lib/modules", parts.kernelVersion, "kernel", `${m}.ko`),
  );
  for (const m of modules) {
    if (!existsSync(m)) throw new HarnessError(`the kernel package has no ${m}`);
  }
  return { files, modules };
}

const MAGIC = 0x6a736677736872n;
export const FLUSH = 1n;
export const FUA = 2n;
export const DISCARD = 4n;
export const MARK = 8n;

/**
 * Reads a dm-log-writes log: [{ i, sector, nrSectors, flags, dataAt (byte offset in the
 * log), mark }] in log order. Units are the log's sector size (the disk's logical block).
 */
export function readLog(path) {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(32);
    readSync(fd, head, 0, 32, 0);
    if (head.readBigUInt64LE(0) !== MAGIC)
      throw new HarnessError(`${path}: not a dm-log-writes log`);
    const count = Number(head.readBigUInt64LE(16));
    const ss = head.readUInt32LE(24);
    const entries = [];
    const h = Buffer.alloc(ss);
    let at = ss;
    for (let i = 0; i < count; i++) {
      readSync(fd, h, 0, ss, at);
      const e = {
        i,
        sector: Number(h.readBigUInt64LE(0)),
        nrSectors: Number(h.readBigUInt64LE(8)),
        flags: h.readBigUInt64LE(16),
        dataAt: at + ss,
        ss,
      };
      const len = Number(h.readBigUInt64LE(24));
      if (e.flags & MARK) e.mark = h.toString("utf8", 32, 32 + len);
      entries.push(e);
      at += ss;
      if (!(e.flags & DISCARD)) at += e.nrSectors * ss;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/**
 * A crash state between the marks FROM and TO (inclusive of the flush just before FROM):
 * the index of the last durable flush and the entries durable after it.
 */
export function pickState(entries, random, from, to) {
  const a = entries.findIndex((e) => e.mark === from);
  const b = entries.findIndex((e) => e.mark === to);
  if (a < 0 || b < 0) throw new HarnessError(`the log has no marks ${from} and ${to}`);
  const flushes = entries.filter((e) => e.flags & FLUSH).map((e) => e.i);
  const candidates = [
    Math.max(-1, ...flushes.filter((i) => i < a)),
    ...flushes.filter((i) => i > a && i < b),
  ];
  const at = Math.floor(random() * candidates.length);
  const f = candidates[at];
  const next = flushes.find((i) => i > f) ?? entries.length;
  const after = entries.slice(f + 1, next).filter((e) => e.nrSectors > 0 && !(e.flags & DISCARD));
  // Unflushed writes: each kept with one probability for the whole state (none, some, all).
  // A FUA write is durable once it completed, so the FUA writes kept are a prefix. Dropping
  // one means the power went before it completed, and then nothing issued after its
  // completion may be there (jbd2 reuses journal space only after a FUA update of its tail,
  // for one); the log cannot tell which unflushed writes those are (they are logged at the
  // next flush), so such a state keeps none of them: always a state a real disk can be in.
  const p = [0, 0.5, 1][Math.floor(random() * 3)];
  const fua = after.filter((e) => e.flags & FUA);
  const fuaKept = Math.floor(random() * (fua.length + 1));
  const allFua = fuaKept === fua.length;
  const extra = after.filter((e) =>
    e.flags & FUA ? fua.indexOf(e) < fuaKept : allFua && random() < p,
  );
  return {
    flush: f,
    at,
    flushes: candidates.length,
    pending: after.length,
    extra: extra.map((e) => e.i),
  };
}

/** Applies the durable writes of STATE from the log to IMG (a copy of the disk before). */
export function applyState(entries, logPath, img, state) {
  const log = openSync(logPath, "r");
  const out = openSync(img, "r+");
  try {
    const keep = new Set(state.extra);
    for (const e of entries) {
      if (e.i > state.flush && !keep.has(e.i)) continue;
      if (e.nrSectors === 0 || e.flags & DISCARD) continue;
      const buf = Buffer.alloc(e.nrSectors * e.ss);
      readSync(log, buf, 0, buf.length, e.dataAt);
      writeSync(out, buf, 0, buf.length, e.sector * e.ss);
    }
  } finally {
    closeSync(log);
    closeSync(out);
  }
}
