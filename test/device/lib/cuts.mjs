// Power cuts at a real boot: the power-cut stage's fixture (test/powercut/fixture: four
// components, one slow) booted as a systemd image of this stage, the runner started by
// migration.service from the image's own units, the data in OpenBMC's layout (the
// persistent partition's overlay upper directories). A cut is a SIGKILL of qemu at a
// random instant inside one of the scripts or in its commit (the "@pc" marks the
// fixture's scripts print), timed from an uncut boot. The disk is then judged by the
// power-cut stage's own checker (lib/check.mjs: e2fsck, debugfs rdump of /upper/etc and
// /upper/var, checkCut), booted again to the end, and judged again (checkFinal).
import { join } from "node:path";
import { prng } from "../../../bench/generate.mjs";
import { checkCut, checkFinal, readBack } from "../../powercut/lib/check.mjs";
import { COMPONENTS, writeData } from "../../powercut/lib/model.mjs";
import { unitStates } from "./checks.mjs";
import { bootDevice, newDevice, reportFile } from "./device.mjs";
import { buildImage, HERE, loadGraph } from "./images.mjs";

const all = (e) => Object.fromEntries(COMPONENTS.map((c) => [c, e]));
const ids = Object.fromEntries(COMPONENTS.map((c) => [c, `${c}-1-2`]));
const STEP = { from: all(1), to: all(2), ids, appliedBefore: {} };
const RELEASE = "2.0.0";
const VARIANT = {
  layout: "premounted",
  ownFiles: false,
  // The fixture's accounts are not Debian's: sysusers would add Debian's system users to
  // them after the migration (the checker would see foreign lines), and without the
  // messagebus user D-Bus cannot start, so logind would wait for it until its timeout.
  // None of them has a part in a migration at boot.
  mask: ["systemd-sysusers.service", "systemd-logind.service", "dbus.service", "dbus.socket"],
};

/** The script timings of a boot: [{ id, start, end, next }] in ms since qemu started. */
function profile(marks) {
  const s = [];
  for (const m of marks) {
    if (m.kind === "start") s.push({ id: m.rest, start: m.ms });
    if (m.kind === "end") {
      const x = s.find((y) => y.id === m.rest);
      if (x) x.end = m.ms;
    }
  }
  s.forEach((x, i) => {
    x.next = s[i + 1]?.start ?? (x.end ?? x.start) + 300;
  });
  return s.filter((x) => x.end !== undefined);
}

async function finalCheck(ctx, dev, v, label) {
  const rep = await bootDevice(ctx, dev, { layout: VARIANT.layout });
  const back = await readBack(dev.persist, join(dev.dir, `check-final-${dev.boots}`), [
    "/upper/etc",
    "/upper/var",
  ]);
  let status;
  try {
    status = JSON.parse(reportFile(rep, "status.json") ?? "");
  } catch {
    status = undefined;
  }
  const mig = unitStates(rep)["migration.service"];
  const guest = {
    halted: rep.ok,
    code: rep.ok ? 0 : 1,
    rcs: [mig?.Result === "success" ? 0 : Number(mig?.ExecMainStatus ?? 1) || 1],
    steps: [`${RELEASE}:boot`],
    status,
  };
  const fin = checkFinal(back.root, { ...STEP, appliedBefore: {} }, back.problems, guest);
  v.push(...fin.violations.map((x) => `${label}: [${x.code}] ${x.msg}`));
  return rep;
}

/** N cuts on LANES lanes: [{ name, violations }]. */
export async function cutBoots(ctx, n, lanes, seed) {
  const g = loadGraph("powercut", join(HERE, "../powercut/fixture/release-graph.json"));
  const { image } = buildImage(ctx, g, RELEASE, VARIANT);
  const fresh = () => newDevice(ctx, g, "1.0.0", image, { write: (upper) => writeData(upper) });
  // An uncut boot: the fixture must migrate cleanly, and it times the scripts.
  const out = [];
  const marks = [];
  const uncut = fresh();
  const v0 = [];
  const rep0 = await bootDevice(ctx, uncut, {
    layout: VARIANT.layout,
    onMark: (kind, rest, ms, prefix) => prefix === "@pc" && marks.push({ kind, rest, ms }),
  });
  const back0 = await readBack(uncut.persist, join(uncut.dir, "check-uncut"), [
    "/upper/etc",
    "/upper/var",
  ]);
  const prof = profile(marks);
  if (prof.length !== COMPONENTS.length)
    v0.push(
      `uncut boot: ${prof.length} scripts ran, expected ${COMPONENTS.length} (is migration.service running?)`,
    );
  let status0;
  try {
    status0 = JSON.parse(reportFile(rep0, "status.json") ?? "");
  } catch {
    status0 = undefined;
  }
  const guest0 = {
    halted: rep0.ok,
    code: rep0.ok ? 0 : 1,
    rcs: [0],
    steps: [`${RELEASE}:boot`],
    status: status0,
  };
  const fin0 = checkFinal(back0.root, STEP, back0.problems, guest0);
  v0.push(...fin0.violations.map((x) => `uncut: [${x.code}] ${x.msg}`));
  out.push({ name: "uncut boot (the fixture migrates under systemd)", violations: v0 });
  ctx.log(
    `power cut stage fixture under systemd, uncut: ${prof.map((s) => `${s.id} ${Math.round(s.end - s.start)} ms`).join(", ")}${v0.length ? `; ${v0.length} violation(s)` : ""}`,
  );
  if (prof.length === 0) return out;
  const random = prng(seed);
  let next = 1;
  const lane = async () => {
    while (next <= n) {
      const k = next++;
      const s = prof[Math.floor(random() * prof.length)];
      const inside = random() < 0.5;
      const delay = inside ? random() * (s.end - s.start) : random() * (s.next - s.end) * 1.2;
      const what = `${inside ? "inside" : "in the commit of"} ${s.id} (+${Math.round(delay)} ms)`;
      const dev = fresh();
      const v = [];
      let armed = false;
      const cutRep = await bootDevice(ctx, dev, {
        layout: VARIANT.layout,
        cut: true,
        timeoutMs: 150_000,
        onMark: (kind, rest, _ms, prefix, vm) => {
          if (armed || prefix !== "@pc" || rest !== s.id) return;
          if ((inside && kind === "start") || (!inside && kind === "end")) {
            armed = true;
            setTimeout(() => vm.kill(), delay);
          }
        },
      });
      if (!armed)
        v.push(
          `cut ${k}: ${s.id} never ${inside ? "started" : "ended"} (migration.service did not run it); cut at the timeout`,
        );
      else if (!cutRep.killed) v.push(`cut ${k}: the boot ended before the cut`);
      const back = await readBack(dev.persist, join(dev.dir, "check-cut"), [
        "/upper/etc",
        "/upper/var",
      ]);
      const cut = checkCut(back.root, STEP, back.problems);
      v.push(...cut.violations.map((x) => `cut ${k} ${what}, after the cut: [${x.code}] ${x.msg}`));
      await finalCheck(ctx, dev, v, `cut ${k} ${what}, after the next boot`);
      ctx.log(
        `power cut ${k}/${n} at a systemd boot, ${what}: ${v.length ? `${v.length} VIOLATION(S)` : "ok"}`,
      );
      out.push({ name: `cut ${k}`, violations: v });
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}
