// The walk: for an ordered pair of releases, the plan `stepstone plan --format json`
// prints (with wipes only when no plan without them exists), carried out on one device,
// hop by hop: boot the running release under systemd, check it, then flash the next stop
// with RAUC (its pre-install handler runs `runner pre-flash --target`, with the hop's
// wipes approved), in the same boot; the bootloader (the host) boots the slot RAUC made
// primary, and so on until the target has booted and been checked.
import { spawnSync } from "node:child_process";
import { HarnessError } from "../../powercut/lib/assets.mjs";
import { CLI } from "../../powercut/lib/fixture.mjs";
import { checkBoot } from "./checks.mjs";
import { bootDevice, newDevice, readPrimary } from "./device.mjs";
import { buildImage } from "./images.mjs";

/** `stepstone plan --format json`: the parsed plan, or the blockers (exit 1). */
export function plan(graph, args) {
  const r = spawnSync(
    process.execPath,
    [CLI, "plan", "--graph", graph.file, ...args, "--format", "json"],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0 && r.status !== 1) {
    throw new HarnessError(`stepstone plan ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

/** The best plan of a pair: without wipes when one exists, else wiping what it must. */
export function pairPlan(graph, from, to) {
  const p = plan(graph, ["--from", from, "--to", to]);
  if (p.reachable) return p;
  const w = plan(graph, ["--from", from, "--to", to, "--allow-wipe", "all"]);
  if (!w.reachable)
    throw new HarnessError(`${graph.name}: ${from} -> ${to} is unreachable even with wipes`);
  return { ...w, allowWipe: "all" };
}

/** The golden, non-withdrawn releases of a graph, in the file's order. */
export function goldens(graph) {
  return graph.json.releases.filter((r) => r.golden && !r.withdrawn).map((r) => r.version);
}

/** The ordered pairs of a release list (no diagonal). */
export function pairsOf(list) {
  return list.flatMap((a) => list.filter((b) => b !== a).map((b) => [a, b]));
}

const stepKey = (s) =>
  JSON.stringify([
    s.from,
    s.to,
    s.preFlash.map((x) => x.id),
    s.boot.map((x) => x.id),
    [...s.wipe].sort(),
  ]);

/** Every image a pair's walk boots (built before the lanes start, once per release). */
export function imagesOf(p) {
  return [p.from, ...p.steps.map((s) => s.to)];
}

/**
 * Walks one pair on a fresh device: { from, to, plan, hops, boots, violations: [..] }.
 * LAYOUT: which units and mounts the images use.
 */
export async function walkPair(ctx, graph, p, layout) {
  const log = (s) => ctx.log(`${graph.name} ${p.from} -> ${p.to}: ${s}`);
  const violations = [];
  const image = (v) => buildImage(ctx, graph, v, { layout });
  const dev = newDevice(ctx, graph, p.from, image(p.from).image);
  let release = p.from;
  let hops = 0;
  const wipedEver = new Set();
  const badBoots = new Set();
  for (let i = 0; i <= p.steps.length; i++) {
    const step = p.steps[i];
    const r = graph.releases.get(release);
    const rep = await bootDevice(ctx, dev, {
      layout,
      update: step ? image(step.to).update : undefined,
      wipe: step?.wipe ?? [],
    });
    const rest = p.steps.slice(i);
    const v = checkBoot(ctx, graph, rep, {
      release,
      runner: r.runner !== false,
      data: dev.data,
      epochs: r.epochs,
      wiped: [...wipedEver],
      onStatus: (file) => {
        // The rest of the plan, planned from what the device says of itself.
        const allow = p.allowWipe ? ["--allow-wipe", p.allowWipe] : [];
        const again = plan(graph, ["--device", file, "--to", p.to, ...allow]);
        const got = again.reachable ? again.steps.map(stepKey) : ["unreachable"];
        const want = rest.map(stepKey);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          violations.push(
            `boot ${rep.n} (${release}): plan --device gives ${got.join(" | ") || "nothing"}, the plan's rest is ${want.join(" | ") || "nothing"}`,
          );
        }
      },
    });
    for (const x of v) violations.push(`boot ${rep.n} (${release}): ${x}`);
    if (wipedEver.has("users") && !v.some((x) => x.startsWith("users"))) {
      // The image's own accounts show through the overlay again, the device's are gone.
      const own = ctx.model.files("users", r.epochs.users, false)["etc/passwd"].content;
      log(
        `after the wipe of users, /etc/passwd is ${release}'s own file (${own.split("\n").length - 1} lines, no device accounts, nothing of it in the persistent layer)`,
      );
    }
    wipedEver.clear();
    log(
      `boot ${rep.n} of ${release} (slot ${rep.slot}): ${(rep.ms / 1000).toFixed(1)} s, ${rep.cpu.toFixed(1)} CPU-s${step ? `, flash ${step.to}${step.wipe.length ? ` wiping ${step.wipe}` : ""}: rc ${rep.installRc}` : ""}; ${v.length ? `${v.length} violation(s)` : "ok"}`,
    );
    if (!step) break;
    if (!rep.ok) break; // the device is in an unknown state: the rest would prove nothing
    if (rep.installRc !== 0) {
      violations.push(
        `boot ${rep.n} (${release}): rauc install of ${step.to} exited ${rep.installRc}: ${rep.marks
          .filter((m) => /rauc/.test(m.kind))
          .slice(-6)
          .map((m) => m.rest)
          .join(" / ")}`,
      );
      break;
    }
    const primary = readPrimary(dev);
    if (primary === dev.primary) {
      violations.push(
        `boot ${rep.n}: RAUC left slot ${primary} primary after installing ${step.to}`,
      );
      break;
    }
    dev.primary = primary;
    // What the hop must make of the data: wiped components are the target's factory data,
    // the others are converted to the target's epochs.
    const t = graph.releases.get(step.to);
    for (const c of Object.keys(dev.data)) {
      if (step.wipe.includes(c)) {
        dev.data[c] = { epoch: t.epochs[c], device: false };
        wipedEver.add(c);
      } else {
        dev.data[c] = { ...dev.data[c], epoch: t.epochs[c] };
      }
    }
    release = step.to;
    hops++;
  }
  for (const x of violations) badBoots.add(Number(/^boot (\d+)/.exec(x)?.[1] ?? 0));
  return {
    graph: graph.name,
    from: p.from,
    to: p.to,
    hops,
    boots: dev.boots,
    violations,
    badBoots: badBoots.size,
    plan: p,
  };
}
