// The failure boots of the device stage: what the units do at a real boot when a migration
// fails or when there is nothing to migrate, and the other layout. Each boots the image of
// the bundled graph's 2.10.0 (users-1-2, ownership-1-2, network-1-2 at boot) on a device
// whose data is still at 2.9.2's epochs, as right after that flash:
//   halt      users-1-2 fails (a group on the device holds gid 980, which it needs):
//             migration.service fails, migration-failed.target is reached and starts the
//             network and sshd (a stand-in), the users services do not start;
//   isolate   network-1-2 fails (a folder where it writes its temp file): only
//             xyz.openbmc_project.Network.service stays down (its drop-in requires
//             migration@network.service), everything else boots, users and ownership are
//             converted, migration-failed.target is not reached;
//   noscripts the image has the runner and units but no scripts: no migration process,
//             the services start;
//   layout    the plain hop booted with the other layout (fstab when walking premounted).
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { bootOrder, checkBoot, failedUnits, started, unitStates } from "./checks.mjs";
import { bootDevice, newDevice, reportFile } from "./device.mjs";
import { buildImage, componentServices } from "./images.mjs";

const FROM = "2.9.2";
const TO = "2.10.0";

function common(rep, v) {
  if (!rep.ok) {
    v.push(`boot: ${rep.error}`);
    return false;
  }
  const o = bootOrder(rep);
  if (o.cycle.length)
    v.push(`journal: "ordering cycle": ${o.cycle[0].replace(/^\[[^\]]*\]\s*/, "")}`);
  return true;
}

function expectStarted(states, units, v, want = true) {
  for (const u of units) {
    if (started(states, u) !== want) {
      const s = states[u];
      v.push(
        `${u}: ${s ? `${s.ActiveState}/${s.SubState} (${s.Result})` : "unknown"}, expected ${want ? "started" : "not started"}`,
      );
    }
  }
}

export async function failureBoots(ctx, graphs, o) {
  const g = graphs.bundled;
  const services = componentServices(g);
  const usersServices = g.json.components.users.services;
  const netServices = g.json.components.network.services;
  const other = o.layout === "premounted" ? "fstab" : "premounted";
  const out = [];
  const run = async (name, layout, variant, extra, judge) => {
    const img = buildImage(ctx, g, TO, { layout, ...variant });
    const dev = newDevice(ctx, g, FROM, img.image, { extra });
    const rep = await bootDevice(ctx, dev, { layout });
    const v = [];
    if (common(rep, v)) judge(rep, unitStates(rep), v, dev);
    ctx.log(
      `failure boot "${name}" (${layout}): ${(rep.ms / 1000).toFixed(1)} s, ${rep.cpu.toFixed(1)} CPU-s`,
    );
    out.push({ name, layout, violations: [...new Set(v)] });
  };
  const jobs = [
    () =>
      run(
        "halt",
        o.layout,
        {},
        (upper) => {
          // A group made on the device that holds users-1-2's static gid 980.
          const f = join(upper, "etc/group");
          appendLine(f, "lab-admins:x:980:alice");
        },
        (rep, s, v) => {
          const order = bootOrder(rep);
          if (!order.failed) v.push("migration.service did not fail");
          // Once: a failed migration must not be started again by the units that need it
          // (each run re-verifies the bundle and retries the failing script).
          if (order.runs > 1) {
            const reached = order.lines.find((l) =>
              /^Reached target migration-failed\.target/.test(l.text),
            );
            v.push(
              `migration.service started ${order.runs} times in one boot; migration-failed.target reached at ${reached ? `${reached.t.toFixed(1)} s` : "never"}`,
            );
          }
          expectStarted(
            s,
            ["migration-failed.target", "systemd-networkd.service", "sshd.service"],
            v,
          );
          expectStarted(s, usersServices, v, false);
          if (!/lab-admins:x:980:alice/.test(reportFile(rep, "merged/etc/group") ?? "")) {
            v.push("etc/group lost the device's group");
          }
          if (/priv-admin/.test(reportFile(rep, "merged/etc/group") ?? ""))
            v.push("etc/group was changed by the failed script");
        },
      ),
    () =>
      run(
        "isolate",
        o.layout,
        {},
        (upper) => {
          mkdirSync(join(upper, "etc/systemd/network/00-bmc-eth0.network.migration-tmp"));
        },
        (rep, s, v) => {
          const order = bootOrder(rep);
          if (!order.finished)
            v.push("migration.service did not succeed (an isolate failure must not fail it)");
          expectStarted(s, netServices, v, false);
          expectStarted(
            s,
            services.filter((x) => !netServices.includes(x)),
            v,
          );
          expectStarted(s, ["migration-failed.target"], v, false);
          expectStarted(s, ["multi-user.target"], v);
          const state = (reportFile(rep, "system-state") ?? "").trim();
          if (state !== "degraded")
            v.push(`system state ${state}, expected degraded (migration@network failed)`);
          if (!/migration@network\.service/.test(failedUnits(rep)))
            v.push(`failed units: ${failedUnits(rep)}, expected migration@network.service`);
          const users = reportFile(rep, "merged/etc/group") ?? "";
          if (!/priv-admin:x:980:root/.test(users))
            v.push("users was not converted (isolate must let the others run)");
        },
      ),
    () =>
      run("noscripts", o.layout, { scripts: false }, undefined, (rep, s, v) => {
        const order = bootOrder(rep);
        if (order.ran) v.push("migration.service started a process on an image without scripts");
        if (s["migration.service"]?.ConditionResult !== "no")
          v.push(
            `migration.service ConditionResult ${s["migration.service"]?.ConditionResult}, expected no`,
          );
        if (
          Number(s["migration.service"]?.ExecMainPID ?? 0) !== 0 ||
          s["migration.service"]?.ExecMainStartTimestampMonotonic !== "0"
        ) {
          v.push("migration.service has a main process");
        }
        if (/runner\[|migration\/runner/.test(reportFile(rep, "journal.txt") ?? ""))
          v.push("the journal shows a runner process");
        expectStarted(s, services, v);
      }),
    () =>
      run(`layout ${other}`, other, {}, undefined, (rep, _states, v, dev) => {
        const r = g.releases.get(TO);
        for (const c of Object.keys(dev.data)) dev.data[c] = { ...dev.data[c], epoch: r.epochs[c] };
        v.push(
          ...checkBoot(ctx, g, rep, {
            release: TO,
            runner: true,
            data: dev.data,
            epochs: r.epochs,
          }),
        );
      }),
  ];
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: o.lanes }, lane));
  return out;
}

function appendLine(file, line) {
  appendFileSync(file, `${line}\n`);
}
