import type { Release } from "@stepstone/graph";
import type { TransitionUse } from "@stepstone/planner";

export interface ReadmeScript {
  readonly order: number;
  readonly id: string;
  readonly component: string;
  readonly from: number;
  readonly to: number;
  readonly sha256: string;
  readonly description?: string;
}

export interface ReadmeInput {
  readonly release: Release;
  /** Component name -> epoch, in the manifest's order. */
  readonly epochs: readonly { name: string; epoch: number }[];
  readonly scripts: readonly ReadmeScript[];
  readonly bundles: readonly { file: string; platform: string | null; sha256: string }[];
  readonly use: TransitionUse;
  readonly signed: boolean;
  /** The graph file's name, for people. */
  readonly graph: string;
}

const path = (p: readonly Release[]) => p.map((r) => r.version).join(" → ");

/**
 * The README of a published transition build: what it is for (the pairs it connects,
 * per the planner), what it carries, how to check it. Deterministic: no dates, nothing
 * but its inputs, so publishing the same inputs again changes no byte.
 */
export function transitionReadme(x: ReadmeInput): string {
  const r = x.release;
  const setName = "golden releases";
  const lines: string[] = [
    `# Transition build ${r.version}`,
    "",
    "A transition release: firmware built to connect releases that cannot reach each other",
    "without wiping data. A device flashes it as an intermediate stop when `stepstone plan`",
    "says so, and moves on.",
    "",
    `Written by \`stepstone publish\` from ${x.graph}; do not edit. A published build never`,
    "changes: a fix is a new transition release with its own version.",
    "",
    "## What it connects",
    "",
  ];
  if (x.use.closes.length > 0) {
    lines.push(
      `Without it, these pairs of ${setName} do not connect without wiping data (or at all); with it they do:`,
      "",
      "| from | to | without it | plan with it |",
      "| --- | --- | --- | --- |",
      ...x.use.closes.map(
        (c) =>
          `| ${c.from.version} | ${c.to.version} | ${why(c.without)} | ${c.path.length > 0 ? path(c.path) : "—"} |`,
      ),
      "",
    );
  } else {
    lines.push(
      `It closes no gap between the ${setName} (another release may connect them too).`,
      "",
    );
  }
  if (x.use.stops.length > 0) {
    lines.push(
      `Best plans between ${setName} that stop at it:`,
      "",
      ...x.use.stops.map((s) => `- ${s.from.version} → ${s.to.version}: ${path(s.path)}`),
      "",
    );
  } else {
    lines.push(`No best plan between ${setName} stops at it.`, "");
  }
  lines.push(
    "## The image",
    "",
    `- epochs: ${x.epochs.map((e) => `${e.name} ${e.epoch}`).join(", ")}`,
    `- signed by: ${r.signedBy ?? "(none)"}; trusts: ${r.trusts === null ? "any image" : r.trusts.join(", ")}`,
  );
  if (r.notes !== undefined) lines.push(`- notes: ${r.notes}`);
  lines.push(
    "",
    "## Scripts it carries",
    "",
    "In run order (`manifest.tsv`): at this image's boot, the chain from the data's epoch up or",
    "down to the image's; before flashing another image (pre-flash), the chain toward the target's.",
    "",
  );
  if (x.scripts.length === 0) lines.push("None.", "");
  else {
    lines.push(
      "| # | migration | component | epochs | sha256 |",
      "| --- | --- | --- | --- | --- |",
      ...x.scripts.map(
        (s) =>
          `| ${s.order} | ${s.id} | ${s.component} | ${s.from} → ${s.to} | \`${s.sha256.slice(0, 16)}\` |`,
      ),
      "",
    );
  }
  lines.push("## Files", "", "| file | platform | sha256 |", "| --- | --- | --- |");
  for (const b of x.bundles)
    lines.push(`| ${b.file} | ${b.platform ?? "default"} | \`${b.sha256}\` |`);
  const first = x.bundles[0]?.file ?? "BUNDLE";
  lines.push(
    "",
    `\`SHA256SUMS\` lists the same hashes (\`sha256sum -c SHA256SUMS\`). Check a bundle as the device`,
    `will, then install it into the image's root file system:`,
    "",
    "```sh",
    `stepstone verify ${first}${x.signed ? " --key PUB.pem" : ""}`,
    `tar -xzf ${first} -C ROOTFS`,
    "```",
    "",
  );
  return lines.join("\n");
}

function why(reason: { code: string; component?: string; key?: string }): string {
  switch (reason.code) {
    case "wipe":
      return `wipes ${reason.component}`;
    case "noChain":
      return `no chain of scripts for ${reason.component}`;
    case "key":
      return `key ${reason.key} not trusted`;
    case "upgradeFrom":
      return "upgradeFrom forbids it";
    case "runner":
      return "no runner to migrate";
    default:
      return reason.code;
  }
}
