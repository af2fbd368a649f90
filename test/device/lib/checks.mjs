// What the host checks after each boot of the device stage, from the report the guest
// wrote (lib/device.mjs): the boot itself (the image that booted, the journal: no
// ordering cycle, migration.service before systemd-sysusers, systemd-tmpfiles-setup and
// sysinit.target in the order the jobs really ran), the components' data against the
// model, `runner status --json` against the plan's epochs.
import { join } from "node:path";
import { reportFile } from "./device.mjs";
import { diffComponent } from "./model.mjs";

/** Lines "[ T] host systemd[1]: ..." of the journal: { t, text }. */
function pid1Lines(rep) {
  const out = [];
  for (const line of (reportFile(rep, "journal.txt") ?? "").split("\n")) {
    const m = /^\[\s*([0-9.]+)\]\s+\S+\s+systemd\[1\]: (.*)$/.exec(line);
    if (m) out.push({ t: Number(m[1]), text: m[2] });
  }
  return out;
}

/** Index of the first journal line of PID 1 matching RE, or -1. */
function at(lines, re) {
  return lines.findIndex((l) => re.test(l.text));
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The order of the boot's jobs from the journal: when migration.service started and
 * finished, and whether it did so before systemd-sysusers, systemd-tmpfiles-setup and
 * sysinit.target. { ran, finished, failed, skipped, before: {unit: bool}, cycle: [lines] }.
 */
export function bootOrder(rep) {
  const lines = pid1Lines(rep);
  const unit = (u) =>
    new RegExp(`^(Starting|Finished|Failed to start|Reached target) ${esc(u)}\\b`);
  const started = at(lines, /^Starting migration\.service\b/);
  const runs = lines.filter((l) => /^Starting migration\.service\b/.test(l.text)).length;
  const finished = at(lines, /^Finished migration\.service\b/);
  const failed = at(
    lines,
    /^(Failed to start migration\.service|migration\.service: (Main process exited|Failed with result))/,
  );
  const skipped = at(lines, /^migration\.service - .* was skipped because/);
  const end = finished >= 0 ? finished : failed;
  const before = {};
  for (const u of [
    "systemd-sysusers.service",
    "systemd-tmpfiles-setup.service",
    "sysinit.target",
  ]) {
    const i = at(lines, unit(u));
    before[u] = end >= 0 && (i < 0 || end < i);
  }
  const cycle = (reportFile(rep, "journal.txt") ?? "")
    .split("\n")
    .filter((l) => /ordering cycle/i.test(l));
  return {
    runs,
    ran: started >= 0,
    finished: finished >= 0,
    failed: failed >= 0,
    skipped: skipped >= 0,
    before,
    cycle,
    lines,
  };
}

/** `systemctl show` of the watched units: { unit: { ActiveState, Result, ... } }. */
export function unitStates(rep) {
  const out = {};
  let cur = {};
  for (const line of `${reportFile(rep, "show.txt") ?? ""}\n`.split("\n")) {
    if (line === "") {
      if (cur.Id) out[cur.Id] = cur;
      cur = {};
      continue;
    }
    const i = line.indexOf("=");
    cur[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Did a unit start (its main process ran, or a target was reached) in this boot? */
export function started(states, u) {
  const s = states[u];
  return Boolean(s) && s.ActiveState === "active";
}

/**
 * The checks of one boot of a walk. EXPECT: { release, layout, data: {c: {epoch, device}},
 * epochs: {c: e}, runner: bool, wiped: [c] }; CTX: the model. Returns violations
 * (strings; empty when the boot is exactly as predicted).
 */
export function checkBoot(ctx, graph, rep, expect) {
  const v = [];
  if (!rep.ok) return [`boot ${rep.n}: ${rep.error}`];
  const booted = (reportFile(rep, "release") ?? "").trim();
  if (booted !== expect.release)
    v.push(`booted ${booted || "nothing"} from slot ${rep.slot}, expected ${expect.release}`);
  const order = bootOrder(rep);
  if (order.cycle.length > 0)
    v.push(
      `journal: ${order.cycle.length} "ordering cycle" lines, first: ${order.cycle[0].replace(/^\[[^\]]*\]\s*/, "")}`,
    );
  if (expect.runner) {
    if (!order.ran) v.push("migration.service never started");
    else if (!order.finished) v.push("migration.service did not finish");
    if (order.runs > 1) v.push(`migration.service started ${order.runs} times in one boot`);
    for (const [u, ok] of Object.entries(order.before)) {
      if (!ok) v.push(`journal order: migration.service did not end before ${u} started`);
    }
  } else if (order.ran) {
    v.push("migration.service ran on an image without the runner");
  }
  const state = (reportFile(rep, "system-state") ?? "").trim();
  if (state !== "running")
    v.push(`system state ${state || "unknown"}, not running (${failedUnits(rep)})`);
  // The data, component by component, in the merged view (what the daemons see).
  for (const [c, d] of Object.entries(expect.data)) {
    const want = ctx.model.files(c, d.epoch, d.device);
    const roots = graph.json.components[c].paths ?? [];
    const diffs = diffComponent(join(rep.dir, "merged"), want, roots);
    for (const x of diffs.slice(0, 4))
      v.push(`${c} (epoch ${d.epoch}${d.device ? "" : ", factory"}): ${x}`);
    if (diffs.length > 4) v.push(`${c}: ${diffs.length - 4} more differences`);
  }
  // A wipe deletes from the persistent layer: the image's own files show through.
  for (const c of expect.wiped ?? []) {
    for (const rel of graph.json.components[c].paths ?? []) {
      const inUpper = reportFile(rep, `persist/upper/${rel}`) !== undefined;
      if (inUpper) v.push(`${c} was wiped but ${rel} is still in the persistent layer`);
    }
  }
  if (expect.runner) {
    const raw = reportFile(rep, "status.json");
    let status;
    try {
      status = JSON.parse(raw ?? "");
    } catch {
      v.push(
        `runner status --json unreadable: ${(raw ?? reportFile(rep, "status.err") ?? "").slice(0, 200)}`,
      );
    }
    if (status) {
      if (status.release !== expect.release)
        v.push(`runner status: release ${status.release}, expected ${expect.release}`);
      for (const c of status.components ?? []) {
        const e = expect.epochs[c.name];
        if (c.epoch !== e || c.imageEpoch !== e)
          v.push(`runner status: ${c.name} at ${c.epoch} (image ${c.imageEpoch}), plan says ${e}`);
        if (c.pending.length > 0 || c.failed)
          v.push(`runner status: ${c.name} pending [${c.pending}] failed ${c.failed}`);
      }
      if ((status.failures ?? []).length > 0)
        v.push(`runner status: failures ${JSON.stringify(status.failures)}`);
      expect.onStatus?.(join(rep.dir, "status.json"));
    }
  }
  return v;
}

export function failedUnits(rep) {
  return (reportFile(rep, "units.txt") ?? "")
    .split("\n")
    .filter((l) => /\sfailed\s/.test(l))
    .map((l) => l.split(/\s+/)[0])
    .join(" ");
}
