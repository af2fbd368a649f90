// The guest: a busybox-static initramfs with guest/init and the virtio modules, booted
// with Debian's cloud kernel under qemu-system-x86_64 (TCG: software emulation), the disk
// image as a virtio disk. The host reads the "@pc ..." lines of the serial console as they
// come and cuts the power with SIGKILL of the qemu process itself (spawned directly, no
// shell in between, so the kill reaches qemu and nothing of the guest survives it).
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { createConnection } from "node:net";
import { basename, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { HarnessError } from "./assets.mjs";

/** Writes an uncompressed newc initramfs: /init, /bin/busybox, /lib/modules/*.ko, EXTRA files. */
export function buildInitramfs({ busybox, modules, init, out, work, extra = [] }) {
  const stage = join(work, `initramfs-${basename(out)}`);
  rmSync(stage, { recursive: true, force: true });
  for (const d of ["bin", "lib/modules", "proc", "sys", "dev", "mnt"]) {
    mkdirSync(join(stage, d), { recursive: true });
  }
  copyFileSync(init, join(stage, "init"));
  copyFileSync(busybox, join(stage, "bin/busybox"));
  spawnSync("chmod", ["0755", join(stage, "init"), join(stage, "bin/busybox")]);
  for (const m of modules) copyFileSync(m, join(stage, "lib/modules", basename(m)));
  for (const f of extra) {
    mkdirSync(dirname(join(stage, f.to)), { recursive: true });
    copyFileSync(f.from, join(stage, f.to));
    spawnSync("chmod", ["0755", join(stage, f.to)]);
  }
  const list = listTree(stage).join("\n");
  const r = spawnSync("cpio", ["-o", "-H", "newc", "-R", "0:0", "--quiet", "-O", out], {
    cwd: stage,
    input: `${list}\n`,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new HarnessError(`cpio failed: ${r.stderr}`);
}

function listTree(dir, prefix = ".") {
  const out = [prefix];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listTree(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

/** busybox applets as relative links beside it in DIR (the device's /bin). */
export function installApplets(busybox, dir) {
  const r = spawnSync(busybox, ["--list"], { encoding: "utf8" });
  if (r.status !== 0) throw new HarnessError(`${busybox} --list failed`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(busybox, join(dir, "busybox"));
  spawnSync("chmod", ["0755", join(dir, "busybox")]);
  for (const a of r.stdout.split("\n")) {
    if (a && a !== "busybox" && /^[A-Za-z0-9_.[-]+$/.test(a)) symlinkSync("busybox", join(dir, a));
  }
}

/**
 * Boots the guest. onMark(kind, rest, ms, prefix) is called for each "@pc KIND REST" line
 * (PREFIX, a string or a list, instead of "@pc" when given), ms since qemu started. DRIVES (qemu arguments) replace the
 * virtio disks DISK and LOGDISK; without INITRD the kernel boots the root disk itself.
 * CPUMODEL: qemu's -cpu model (default max). INCOMING: a state file written by snapshotVm
 * (same kernel, initrd, APPEND and CPU model); the guest resumes from it instead of booting,
 * and INPUT (one line) is written to its console until it prints "@pc go" (guest/init,
 * pc.resume=1).
 * Returns { kill(), done: Promise<{ code, signal, killed, timedOut, log, ms, cpuSeconds }> }.
 */
export function bootVm({
  qemu,
  kernel,
  initrd,
  disk,
  logDisk,
  append,
  onMark,
  timeoutMs,
  drives,
  prefix = "@pc",
  anywhere = false,
  keepLines = 400,
  cpuModel = "max",
  incoming,
  input,
  qmp,
}) {
  const args = [
    "-machine",
    "q35,accel=tcg",
    "-cpu",
    cpuModel,
    "-smp",
    "1",
    "-m",
    "256",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-kernel",
    kernel,
    ...(initrd ? ["-initrd", initrd] : []),
    "-append",
    // no_timer_check: under a loaded host, TCG's timer can miss the kernel's IO-APIC check,
    // which then panics ("IO-APIC + timer doesn't work") before the guest runs anything.
    `console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check ${append}`,
  ];
  if (drives) args.push(...drives);
  else args.push("-drive", `file=${disk},if=virtio,format=raw,cache=unsafe`);
  if (logDisk) args.push("-drive", `file=${logDisk},if=virtio,format=raw,cache=unsafe`);
  if (incoming) args.push("-incoming", `exec:cat ${shellQuote(incoming)}`);
  if (qmp) args.push("-qmp", `unix:${qmp},server=on,wait=off`);
  const prefixes = Array.isArray(prefix) ? prefix : [prefix];
  const t0 = performance.now();
  const child = spawn(qemu, args, {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  // Resumed from a snapshot: the guest takes the run's parameters as one console line
  // (ending in " pc.end"), repeated until it answers "@pc go" (guest/init, pc.resume=1).
  let resend;
  if (input !== undefined) {
    child.stdin.on("error", () => {});
    const send = () => child.stdin.write(`${input} pc.end\n`);
    send();
    resend = setInterval(send, 250);
  }
  let killed = false;
  let timedOut = false;
  // CPU time of qemu (user + system), sampled: the last reading before it exits.
  let cpu = 0;
  const sample = setInterval(() => {
    cpu = cpuOf(child.pid) ?? cpu;
  }, 250);
  let buf = "";
  const log = [];
  child.stdout.setEncoding("latin1");
  child.stdout.on("data", (chunk) => {
    const ms = performance.now() - t0;
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r/g, "");
      buf = buf.slice(nl + 1);
      log.push(line);
      if (log.length > keepLines) log.shift();
      for (const p of prefixes) {
        const at = anywhere ? line.indexOf(`${p} `) : line.startsWith(`${p} `) ? 0 : -1;
        const m = at < 0 ? null : /^(\S+) ?(.*)$/.exec(line.slice(at + p.length + 1));
        if (m && m[1] === "go" && resend) {
          clearInterval(resend);
          resend = undefined;
        }
        if (m && onMark) onMark(m[1], m[2], ms, p);
      }
      nl = buf.indexOf("\n");
    }
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    killed = true;
    child.kill("SIGKILL");
    return true;
  };
  const timer = setTimeout(() => {
    log.push(`(harness: no end after ${timeoutMs} ms, killed)`);
    timedOut = true;
    kill();
  }, timeoutMs);
  const done = new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      if (resend) clearInterval(resend);
      clearInterval(sample);
      reject(new HarnessError(`${qemu}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (resend) clearInterval(resend);
      child.stdin?.destroy();
      clearInterval(sample);
      if (stderr.trim()) log.push(`(qemu stderr) ${stderr.trim()}`);
      const ms = performance.now() - t0;
      resolve({ code, signal, killed, timedOut, log, ms, cpuSeconds: cpu });
    });
  });
  return { kill, done };
}

const TICKS = 100; // USER_HZ on Linux
/** user + system CPU seconds of a live process, from /proc/PID/stat; undefined when gone. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return undefined;
  }
}

const shellQuote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

/**
 * Boots the guest (OPTIONS as bootVm's, APPEND with pc.resume=1) until it prints "@pc
 * ready" and writes its state to STATE with qemu's migration (QMP over a unix
 * socket), for bootVm's INCOMING. Returns { ms, bytes }.
 */
export async function snapshotVm({ state, timeoutMs = 180_000, ...options }) {
  const sock = `${state}.qmp`;
  rmSync(sock, { force: true });
  rmSync(state, { force: true });
  const t0 = performance.now();
  let ready;
  const isReady = new Promise((resolve) => {
    ready = resolve;
  });
  const vm = bootVm({
    ...options,
    qmp: sock,
    timeoutMs,
    onMark: (kind) => {
      if (kind === "ready") ready();
    },
  });
  const ended = vm.done.then((end) => {
    throw new HarnessError(
      `the snapshot guest ended before "@pc ready" (exit ${end.code})\n${end.log.slice(-30).join("\n")}`,
    );
  });
  await Promise.race([isReady, ended]);
  // The guest now waits in silence: let the console drain before its state is taken.
  await new Promise((res) => setTimeout(res, 500));
  const q = await qmpConnect(sock);
  try {
    await q.cmd("qmp_capabilities");
    // Live, not stopped first: a guest saved stopped would stay paused when resumed. It
    // waits at its prompt, so the state converges at once (no bandwidth cap).
    await q.cmd("migrate-set-parameters", { "max-bandwidth": 1_000_000_000 });
    await q.cmd("migrate", { uri: `exec:cat > ${shellQuote(state)}` });
    for (;;) {
      const r = await q.cmd("query-migrate");
      if (r.status === "completed") break;
      if (r.status === "failed" || r.status === "cancelled") {
        throw new HarnessError(`qemu migration to ${state}: ${r.status} ${r["error-desc"] ?? ""}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    await q.cmd("quit").catch(() => {});
  } finally {
    q.close();
  }
  ended.catch(() => {});
  const end = await vm.done;
  if (end.timedOut) throw new HarnessError(`the snapshot guest timed out\n${end.log.join("\n")}`);
  rmSync(sock, { force: true });
  const bytes = statSync(state).size;
  if (bytes === 0) throw new HarnessError(`qemu wrote an empty state file ${state}`);
  return { ms: performance.now() - t0, bytes };
}

/** A minimal QMP client: cmd(name, args) resolves with "return" or rejects with "error". */
function qmpConnect(path) {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = "";
    const waiting = [];
    let greeted = false;
    c.setEncoding("utf8");
    c.on("error", (e) => {
      reject(new HarnessError(`QMP ${path}: ${e.message}`));
      for (const w of waiting.splice(0)) w.reject(new HarnessError(`QMP: ${e.message}`));
    });
    c.on("data", (d) => {
      buf += d;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        if (!line) continue;
        const msg = JSON.parse(line);
        if (msg.QMP && !greeted) {
          greeted = true;
          resolve({
            cmd: (execute, args) =>
              new Promise((res, rej) => {
                waiting.push({ resolve: res, reject: rej, execute });
                c.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
              }),
            close: () => c.destroy(),
          });
        } else if (msg.event) {
          // events are not waited for
        } else {
          const w = waiting.shift();
          if (!w) continue;
          if (msg.error) w.reject(new HarnessError(`QMP ${w.execute}: ${msg.error.desc}`));
          else w.resolve(msg.return);
        }
      }
    });
    c.on("close", () => {
      for (const w of waiting.splice(0)) w.resolve(undefined);
    });
  });
}
