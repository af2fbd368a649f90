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
 * Can a walk of P hand its device on to a pair that starts at P's target? Only when the
 * device it leaves is what a fresh device on that release holds: nothing wiped on the way
 * (a wiped component is the image's factory data, not the device's own) and the target
 * has the runner (a fresh device on a release without it has no epoch records, one that
 * came from a release with the runner keeps its own).
 */
export function chainable(graph, p) {
  return (
    p.steps.length > 0 &&
    p.steps.every((s) => s.wipe.length === 0) &&
    graph.releases.get(p.to)?.runner !== false
  );
}

/**
 * The pairs of one graph as tours: lists of pairs where each pair but the last is
 * chainable and its target is the next pair's start, so the target's boot (checked as the
 * pair's last boot) also flashes the next pair's first stop (checked as that pair's first
 * boot): one boot less per link. A tour starts, where it can, with a pair no other pair can
 * lead to, and grows with pairs that can be continued from. Every pair is in one tour.
 */
export function planTours(graph, plans) {
  const left = [...plans];
  const take = (p) => left.splice(left.indexOf(p), 1)[0];
  const tours = [];
  while (left.length > 0) {
    const leadsTo = (p) => left.some((q) => q !== p && q.to === p.from && chainable(graph, q));
    let p = take(left.find((x) => !leadsTo(x)) ?? left[0]);
    const tour = [p];
    while (chainable(graph, p)) {
      const at = left.filter((q) => q.from === p.to);
      const q = at.find((x) => chainable(graph, x)) ?? at[0];
      if (!q) break;
      p = take(q);
      tour.push(p);
    }
    tours.push(tour);
  }
  return tours;
}

/**
 * Walks one tour (see planTours; a single pair is a tour of one), each pair hop by hop:
 * [{ from, to, plan, hops, boots, violations: [..], bad: Set of "device:boot" }, ..].
 * The first pair starts on a fresh device; a later one continues on the device the pair
 * before it left, when that pair went through cleanly, else it starts on a fresh device.
 * ONPAIR(result) is called as each pair ends. LAYOUT: which units and mounts the images use.
 */
export async function walkTour(ctx, graph, tour, layout, onPair) {
  const image = (v) => buildImage(ctx, graph, v, { layout });
  const results = [];
  let carried; // { dev, rep, v }: the boot that ended the pair before and began this one
  for (let k = 0; k < tour.length; k++) {
    const p = tour[k];
    const next = tour[k + 1];
    const r = await walkOne(ctx, graph, p, layout, image, carried, next);
    // Anything wrong at the boot that ended this pair and began the next: the next pair
    // starts on a fresh device instead (its walk then is exactly what it would be alone).
    const c = r.carry;
    carried = c?.rep.ok && c.v.length === 0 && c.next.length === 0 ? c : undefined;
    if (c && !carried)
      ctx.log(`${graph.name} ${next.from} -> ${next.to}: starts on a fresh device`);
    delete r.carry;
    results.push(r);
    onPair?.(r);
  }
  return results;
}

/** One pair of a tour: CARRIED, the boot that already began it; NEXT, the pair after it. */
async function walkOne(ctx, graph, p, layout, image, carried, next) {
  const log = (s) => ctx.log(`${graph.name} ${p.from} -> ${p.to}: ${s}`);
  const violations = [];
  const bad = new Set();
  const dev = carried ? carried.dev : newDevice(ctx, graph, p.from, image(p.from).image);
  if (carried)
    log(`continues on the device of the pair before (${dev.dir}, boot ${carried.rep.n})`);
  let release = p.from;
  let hops = 0;
  let boots = 0;
  let carry;
  const wipedEver = new Set();
  for (let i = 0; i <= p.steps.length; i++) {
    const r = graph.releases.get(release);
    // The target's boot flashes the next pair's first stop when the walk was clean so far.
    const chain =
      i === p.steps.length && next && violations.length === 0 && chainable(graph, p)
        ? next
        : undefined;
    const step = p.steps[i] ?? chain?.steps[0];
    let rep;
    let v;
    const own = []; // this pair's own findings of a boot (its plan --device check)
    const after = []; // the next pair's (the same boot is its first)
    if (i === 0 && carried) {
      ({ rep, v } = carried);
      own.push(...carried.next);
    } else {
      rep = await bootDevice(ctx, dev, {
        layout,
        update: step ? image(step.to).update : undefined,
        wipe: step?.wipe ?? [],
      });
      const rest = p.steps.slice(i);
      const restCheck = (q, want, into) => (file) => {
        // The rest of the plan, planned from what the device says of itself.
        const allow = q.allowWipe ? ["--allow-wipe", q.allowWipe] : [];
        const again = plan(graph, ["--device", file, "--to", q.to, ...allow]);
        const got = again.reachable ? again.steps.map(stepKey) : ["unreachable"];
        const w = want.map(stepKey);
        if (JSON.stringify(got) !== JSON.stringify(w)) {
          into.push(
            `boot ${rep.n} (${release}): plan --device gives ${got.join(" | ") || "nothing"}, the plan's rest is ${w.join(" | ") || "nothing"}`,
          );
        }
      };
      v = checkBoot(ctx, graph, rep, {
        release,
        runner: r.runner !== false,
        data: dev.data,
        epochs: r.epochs,
        wiped: [...wipedEver],
        onStatus: (file) => {
          restCheck(p, rest, own)(file);
          if (chain) restCheck(chain, chain.steps, after)(file);
        },
      });
    }
    boots++;
    violations.push(...own);
    for (const x of v) violations.push(`boot ${rep.n} (${release}): ${x}`);
    if (own.length + v.length > 0) bad.add(`${dev.dir}:${rep.n}`);
    if (wipedEver.has("users") && !v.some((x) => x.startsWith("users"))) {
      // The image's own accounts show through the overlay again, the device's are gone.
      const passwd = ctx.model.files("users", r.epochs.users, false)["etc/passwd"].content;
      log(
        `after the wipe of users, /etc/passwd is ${release}'s own file (${passwd.split("\n").length - 1} lines, no device accounts, nothing of it in the persistent layer)`,
      );
    }
    wipedEver.clear();
    if (!(i === 0 && carried)) {
      log(
        `boot ${rep.n} of ${release} (slot ${rep.slot}): ${(rep.ms / 1000).toFixed(1)} s, ${rep.cpu.toFixed(1)} CPU-s${step ? `, flash ${step.to}${step.wipe.length ? ` wiping ${step.wipe}` : ""}${chain ? ` (the first hop of ${chain.from} -> ${chain.to})` : ""}: rc ${rep.installRc}` : ""}; ${v.length + own.length ? `${v.length + own.length} violation(s)` : "ok"}`,
      );
    }
    if (chain) {
      carry = { dev, rep, v, next: after };
      break;
    }
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
      bad.add(`${dev.dir}:${rep.n}`);
      break;
    }
    const primary = readPrimary(dev);
    if (primary === dev.primary) {
      violations.push(
        `boot ${rep.n}: RAUC left slot ${primary} primary after installing ${step.to}`,
      );
      bad.add(`${dev.dir}:${rep.n}`);
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
  return {
    graph: graph.name,
    from: p.from,
    to: p.to,
    hops,
    boots,
    violations,
    bad,
    badBoots: bad.size,
    plan: p,
    carry,
  };
}

/** Walks one pair on a fresh device (a tour of one). */
export async function walkPair(ctx, graph, p, layout) {
  return (await walkTour(ctx, graph, [p], layout))[0];
}
