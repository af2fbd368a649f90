import type { Component, Release } from "@stepstone/graph";
import type { Blocker, PlanResult, PlanStep, StopReason } from "@stepstone/planner";

/** What the page shows for a plan: the CLI's `plan` text, as data for the DOM. */
export interface PlanView {
  readonly status: "ok" | "wipes" | "blocked";
  readonly verdict: string;
  readonly from: Release;
  readonly to: Release;
  /** "2 hops, 3 scripts, no wipe" (empty when there is no plan). */
  readonly summary: string;
  readonly steps: readonly PlanStep[];
  /** Per step, why the plan stops there (planWhy's; the last step, the target, has none). */
  readonly why: readonly (readonly StopReason[])[];
  readonly blockers: readonly Blocker[];
  readonly notes: readonly string[];
  /** The same request on the command line. */
  readonly command: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function planView(
  res: PlanResult,
  allowWipe: readonly string[],
  platform: string | null,
  components: readonly Component[] = [],
  why: readonly (readonly StopReason[])[] = [],
): PlanView {
  const from = res.reachable ? res.plan.from : res.from;
  const to = res.reachable ? res.plan.to : res.to;
  const opts = [
    ...(allowWipe.length > 0 ? [`--allow-wipe ${allowWipe.join(",")}`] : []),
    ...(platform === null ? [] : [`--platform ${platform}`]),
  ];
  const command = ["stepstone plan", `--from ${from.version}`, `--to ${to.version}`, ...opts].join(
    " ",
  );
  if (!res.reachable) {
    const notes: string[] = [];
    const wipeable = [
      ...new Set(res.blockers.filter((b) => b.code === "wipe").map((b) => b.component)),
    ];
    if (wipeable.length > 0) {
      notes.push(
        `Allowing ${wipeable.join(", ")} to be wiped would give a plan (that data is lost).`,
      );
    }
    notes.push(
      "stepstone gaps --suggest --all proposes transition releases that would connect them.",
    );
    return {
      status: "blocked",
      verdict: "No plan",
      from,
      to,
      summary: allowWipe.length > 0 ? `wipes allowed: ${allowWipe.join(", ")}` : "without wipes",
      steps: [],
      why: [],
      blockers: res.blockers,
      notes,
      command,
    };
  }
  const p = res.plan;
  const summary = [
    plural(p.hops, "hop"),
    plural(p.scripts, "script"),
    p.wipes === 0 ? "no wipe" : plural(p.wipes, "wipe"),
    ...(p.transitions > 0 ? [plural(p.transitions, "transition stop")] : []),
  ].join(", ");
  return {
    status: p.wipes === 0 ? "ok" : "wipes",
    verdict: "Plan",
    from,
    to,
    summary,
    steps: p.steps,
    why: p.steps.map((_, i) => why[i] ?? []),
    blockers: [],
    notes:
      p.steps.length === 0
        ? ["Nothing to do: the device already runs this release."]
        : p.steps.flatMap((s, i) =>
            s.wipe.map((w) => {
              const paths = components.find((c) => c.name === w)?.paths ?? [];
              return `Hop ${i + 1} erases the ${w} data${paths.length > 0 ? ` (${paths.join(", ")})` : ""}: the device starts with factory ${w} settings.`;
            }),
          ),
    command,
  };
}
