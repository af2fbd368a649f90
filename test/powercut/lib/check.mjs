// The checker: reads a disk image back on the host (a copy, journal replayed by
// `e2fsck -fy`, then `debugfs -R 'rdump ...'`, which keeps owners and modes) and judges
// what is durable on it against the runner's promise. It never trusts the runner's own
// view: epoch records are read as DESIGN.md and the runner's header define them, and the
// data is compared with what each script must make of it (lib/model.mjs).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HarnessError } from "./assets.mjs";
import { COMPONENTS, dataStates, leftoverTemps } from "./model.mjs";

const STATE = "var/lib/migration";

/** A violation: a short code (for the summary) and what was seen. */
export function V(code, msg) {
  return { code, msg };
}

/** Runs a command without blocking the event loop (the other lane's timers run meanwhile). */
function exec(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d) => {
      stderr += d;
    });
    child.on("error", (e) => reject(new HarnessError(`${cmd}: ${e.message}`)));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * What e2fsck -fy repaired beyond replaying the journal: after a crash the journal replay
 * and orphan cleanup are normal, and so are the superblock's free counts (ext4 keeps them
 * lazily); anything else it answered "yes" to (bitmaps, a directory entry naming a freed
 * inode, blocks claimed twice) means the file system was inconsistent.
 */
export function fsckRepairs(out) {
  const lines = out.split("\n").map((l) => l.trim());
  const repairs = [];
  lines.forEach((l, i) => {
    if (!/\? yes$/.test(l)) return;
    // "Fix? yes" alone answers the line above it.
    const subject = /^[A-Za-z ]+\? yes$/.test(l) && i > 0 ? (lines[i - 1] ?? l) : l;
    if (/^Free (blocks|inodes) count wrong \(/.test(subject)) return;
    repairs.push(subject);
  });
  return repairs;
}

/**
 * A replayed copy of IMG, dumped under WORK/root: { root, fsck, problems }. DIRS: the
 * folders of the image to dump (default /etc and /var; the device stage dumps the
 * persistent partition's overlay upper directories /upper/etc and /upper/var).
 */
export async function readBack(img, work, dirs = ["/etc", "/var"]) {
  await mkdir(work, { recursive: true });
  const copy = join(work, "check.img");
  await copyFile(img, copy);
  const problems = [];
  const fsck = await exec("e2fsck", ["-fy", copy]);
  if (fsck.status === null || fsck.status >= 4) {
    problems.push(V("fs", `e2fsck -fy exit ${fsck.status}: ${fsck.stdout.trim().slice(-400)}`));
  } else {
    const bad = fsckRepairs(fsck.stdout);
    if (bad.length > 0)
      problems.push(V("fs", `e2fsck had to repair: ${bad.join(" | ").slice(0, 400)}`));
  }
  const root = join(work, "root");
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const dump = await exec("debugfs", ["-R", `rdump ${dirs.join(" ")} ${root}`, copy]);
  if (dump.status !== 0) throw new HarnessError(`debugfs rdump failed: ${dump.stderr}`);
  await rm(copy, { force: true });
  await writeFile(join(work, "e2fsck.txt"), `exit ${fsck.status}\n${fsck.stdout}${fsck.stderr}`);
  return { root, fsck: fsck.status, problems };
}

function read(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * An epoch record as the runner reads it: epoch/<c> counts when its first line is complete
 * (newline-terminated) and an integer; a torn or emptied one falls back to the companion
 * slots epoch.prev/<c> and <c>.b (the whole one of the higher seq: an integer, "none", or
 * "inplace", which holds no value). { kind: "value" | "none" | "corrupt",
 * epoch, torn }.
 */
export function epochRecord(root, c) {
  const main = read(join(root, STATE, "epoch", c));
  if (main === undefined) return { kind: "none", torn: false };
  const line = /^([^\n]*)\n/.exec(main)?.[1];
  if (line !== undefined && /^[0-9]{1,9}$/.test(line)) {
    return { kind: "value", epoch: Number(line), torn: false };
  }
  // The companion is two slots, each one line "SEQ VALUE" padded with blanks (an older
  // runner's: "VALUE", seq 0); the whole slot of the higher seq counts.
  let prev;
  let best = -1;
  for (const f of [c, `${c}.b`]) {
    const m = /^([^\n]*)\n$/.exec(read(join(root, STATE, "epoch.prev", f)) ?? "")?.[1];
    const w = m?.trim().split(/ +/) ?? [];
    const [seq, value] = w.length === 1 ? ["0", w[0]] : w;
    if (w.length > 2 || !/^(0|[1-9][0-9]{0,8})$/.test(seq ?? "")) continue;
    if (!/^([0-9]{1,9}|none|inplace)$/.test(value ?? "")) continue;
    if (Number(seq) > best) {
      best = Number(seq);
      prev = value;
    }
  }
  if (prev !== undefined && prev !== "none" && prev !== "inplace") {
    return { kind: "value", epoch: Number(prev), torn: true, main };
  }
  if (prev === "none") return { kind: "none", torn: true, main };
  // "inplace": the record was last rewritten in place, which a cut does not tear; the
  // runner reports such a record rather than take an older value.
  return { kind: "corrupt", torn: true, main };
}

function listDir(dir) {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * Reads what a disk says about each component: its effective epoch record (E), its data
 * state (D), its applied/<id> record for the step's script.
 */
export function observe(root, step) {
  const data = dataStates(root);
  const out = {};
  for (const c of COMPONENTS) {
    const rec = epochRecord(root, c);
    const id = step.ids[c];
    const applied = id === undefined ? undefined : read(join(root, STATE, "applied", id));
    // No record and data present: the data is at the component's baseline (1).
    const epoch = rec.kind === "value" ? rec.epoch : rec.kind === "none" ? 1 : undefined;
    out[c] = { rec, epoch, data: data[c], applied };
  }
  return out;
}

/**
 * After a cut in the middle of STEP ({ from: {c: epoch}, to: {c: epoch}, ids: {c: script
 * id}, appliedBefore: {id: content} }): every violation of "a script counts as done only
 * when its effects and then its record are durable, and the next one starts only after".
 */
export function checkCut(root, step, fsckProblems) {
  const v = [...fsckProblems];
  const o = observe(root, step);
  for (const c of COMPONENTS) {
    const { rec, epoch, data, applied } = o[c];
    const from = step.from[c];
    const to = step.to[c];
    if (data.state === "damaged") {
      v.push(
        V(
          "damaged",
          `${c}: data damaged (lost or torn writes): ${data.damage.slice(0, 3).join("; ")}`,
        ),
      );
    }
    if (rec.kind === "corrupt") {
      v.push(
        V(
          "corrupt-record",
          `${c}: epoch record unreadable, no usable companion: ${JSON.stringify(rec.main)}`,
        ),
      );
      continue;
    }
    if (epoch !== from && epoch !== to) {
      v.push(
        V(
          "bad-epoch",
          `${c}: epoch record says ${epoch}, neither ${from} (before) nor ${to} (after)`,
        ),
      );
    }
    if (from !== to && epoch === to && data.state !== to && data.state !== "damaged") {
      v.push(
        V("recorded-early", `${c}: recorded at epoch ${to} but its data is ${label(data.state)}`),
      );
    }
    const id = step.ids[c];
    if (id && applied !== undefined && applied !== step.appliedBefore[id] && data.state !== to) {
      v.push(V("applied-early", `${c}: applied/${id} exists but its data is ${label(data.state)}`));
    }
  }
  // Order: a component whose data or record moved needs every earlier one done and durable.
  COMPONENTS.forEach((c, k) => {
    const s = o[c];
    const moved =
      step.from[c] !== step.to[c] && (s.data.state !== step.from[c] || s.epoch !== step.from[c]);
    if (!moved) return;
    for (const e of COMPONENTS.slice(0, k)) {
      const p = o[e];
      if (p.epoch !== step.to[e] || p.data.state !== step.to[e]) {
        v.push(
          V(
            "order",
            `${c} moved (data ${label(s.data.state)}, epoch ${s.epoch}) while ${e} is not durably done (epoch ${p.epoch}, data ${label(p.data.state)})`,
          ),
        );
      }
    }
  });
  return { violations: v, observed: o };
}

/**
 * After the boot that follows a cut, run to completion: everything at the final image's
 * epochs, in the records and in the data; nothing failed, pending or left over.
 * FINAL: {c: epoch}; GUEST: { rcs: [..], status: parsed JSON | undefined, halted, code }.
 */
export function checkFinal(root, step, fsckProblems, guest) {
  const v = [...fsckProblems];
  const notes = [];
  if (!guest.halted || guest.code !== 0) {
    v.push(
      V(
        "unclean-end",
        `the boot did not end cleanly (halt seen: ${guest.halted}, qemu exit ${guest.code})`,
      ),
    );
  }
  guest.rcs.forEach((rc, i) => {
    if (rc !== 0)
      v.push(V("runner-failed", `runner step ${i + 1} (${guest.steps[i]}) exited ${rc}`));
  });
  // A status shows pending scripts after a pre-flash: they are the target's to run.
  const lastIsBoot = /:boot$/.test(guest.steps[guest.steps.length - 1] ?? "");
  if (!lastIsBoot) {
    // nothing to compare
  } else if (guest.status) {
    for (const c of guest.status.components ?? []) {
      if (c.epoch !== c.imageEpoch || c.pending.length > 0 || c.failed) {
        v.push(
          V(
            "status",
            `${c.name}: epoch ${c.epoch}/${c.imageEpoch}, pending [${c.pending}], failed ${c.failed}`,
          ),
        );
      }
    }
    if ((guest.status.failures ?? []).length > 0) {
      v.push(V("status", `failures ${JSON.stringify(guest.status.failures)}`));
    }
  } else {
    v.push(V("status", "no runner status from the guest"));
  }
  const o = observe(root, step);
  for (const c of COMPONENTS) {
    const { rec, epoch, data, applied } = o[c];
    const want = step.to[c];
    if (data.state === "damaged") {
      v.push(V("damaged", `${c}: data damaged: ${data.damage.slice(0, 3).join("; ")}`));
    } else if (data.state !== want) {
      v.push(V("data-not-final", `${c}: data ${label(data.state)}, not epoch ${want}`));
    }
    if (epoch !== want)
      v.push(V("epoch-not-final", `${c}: epoch record ${epoch ?? rec.kind}, not ${want}`));
    else if (rec.torn)
      v.push(V("torn-at-end", `${c}: epoch/${c} left torn (${JSON.stringify(rec.main)})`));
    const id = step.ids[c];
    if (id && !/^id=/.test(applied ?? "")) {
      notes.push(
        `applied/${id} ${applied === undefined ? "missing" : `torn (${applied.length} bytes)`}`,
      );
    }
  }
  const state = join(root, STATE);
  for (const d of ["failed", "wiping"]) {
    const left = listDir(join(state, d));
    if (left.length > 0) v.push(V("leftover-state", `${d}/ not empty: ${left.join(" ")}`));
  }
  for (const d of ["epoch", "epoch.prev", "applied", "failed"]) {
    const tmp = listDir(join(state, d)).filter((f) => f.endsWith(".tmp"));
    if (tmp.length > 0) v.push(V("leftover-state", `temp records in ${d}/: ${tmp.join(" ")}`));
  }
  const temps = leftoverTemps(root);
  if (temps.length > 0) v.push(V("leftover-temp", `temp files: ${temps.slice(0, 5).join(" ")}`));
  return { violations: v, notes, observed: o };
}

export function label(state) {
  return typeof state === "number" ? `at epoch ${state}` : state;
}
