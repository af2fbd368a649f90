import { ExitCode, fromSystemError, StepstoneError } from "@stepstone/errors";
import { Command, CommanderError, Option } from "commander";

const formatOption = () =>
  new Option("--format <format>", "output: text for people, json for machines")
    .choices(["text", "json"])
    .default("text");
const graphOption = () =>
  new Option("--graph <file>", "the release graph (default: nearest release-graph.json upward)");
const platformOption = () =>
  new Option("--platform <name>", "apply this platform's epoch overrides");

let exitCode: number = ExitCode.ok;

/** Commander ignores an action's result; keep the exit code the command returned. */
function run<A extends unknown[]>(
  action: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args) => {
    exitCode = await action(...args);
  };
}

/** Builds the CLI. Each command loads its module only when it runs, so --help is instant. */
export function program(): Command {
  const cli = new Command("stepstone")
    .description(
      "Plan firmware upgrade and downgrade paths that keep persistent data, and build what devices need to follow them.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ sortSubcommands: false });

  cli
    .command("validate")
    .description("check the graph file and the scripts it names (all problems at once)")
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  stepstone validate --graph release-graph.json\n\nExit: 0 valid (warnings allowed), 2 errors.",
    )
    .action(run(async (o) => (await import("./commands/validate.js")).validate(o)));

  cli
    .command("plan")
    .description(
      "the best sequence of hops from one release to another, and why each stop is needed; without --to, the releases it can reach",
    )
    .option("--from <version>", "the release the device runs")
    .option(
      "--to <version>",
      "the release to reach (without it: the golden releases and the newest of each line, with hops, wipes and first stop)",
    )
    .addOption(platformOption())
    .option(
      "--allow-wipe <components>",
      'components a plan may reset to factory state: "a,b" or "all"',
    )
    .option(
      "--device <status.json>",
      "plan from a device's actual epochs and failures (output of `runner status --json`)",
    )
    .option(
      "--retry-failed",
      "with --device: count on scripts that failed on the device (by default a plan never runs them again)",
    )
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone plan --from 2.9.2 --to 2.11.0\n  stepstone plan --from 2.11.0 --to 2.8.0 --allow-wipe users --format json\n  stepstone plan --device status.json --to 2.11.0\n  stepstone plan --from 2.9.2   (what can 2.9.2 reach?)\n  stepstone plan --device status.json   (what can this device reach?)\n\nEach intermediate stop says why it is needed (why: ...). A script that failed on the\ndevice (--device) is named first and left out of the plan unless --retry-failed.\nExit: 0 plan found (or the list of targets), 1 no plan (the blockers are listed), 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/plan.js")).planCommand(o)));

  const setOptions = (c: Command) =>
    c
      .option("--all", "every non-withdrawn release instead of the golden ones")
      .option("--releases <range>", "the releases in a semver range")
      .addOption(platformOption())
      .addOption(graphOption())
      .addOption(formatOption());

  setOptions(
    cli
      .command("matrix")
      .description(
        "the best plan for every ordered pair of releases (default: golden), wipes allowed",
      ),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone matrix\n  stepstone matrix --releases '>=2.9.0' --format json\n\nExit: 0, 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/matrix.js")).matrixCommand(o)));

  setOptions(
    cli
      .command("gaps")
      .description(
        "pairs that cannot be reached without wiping, with the reason; --suggest transition releases",
      )
      .option("--suggest", "suggest transition releases that close the gaps")
      .option("--check", "exit 1 when gaps exist (for CI)")
      .option(
        "--write",
        "with --suggest: add the suggested releases to the graph file (validated first; the file's layout kept)",
      ),
  )
    .addHelpText(
      "after",
      "\nSuggestions reuse a transition release an earlier --write added (not built yet: more scripts\nin its ships) before proposing a new one, and put each image at the epochs with the fewest scripts.\n\nExamples:\n  stepstone gaps --suggest\n  stepstone gaps --suggest --write\n  stepstone gaps --check --all\n\nExit: 0; with --check 1 when gaps exist; 2 bad input (nothing is written).",
    )
    .action(run(async (o) => (await import("./commands/matrix.js")).gapsCommand(o)));

  cli
    .command("bundle")
    .description(
      "write a release's migration bundle: the reproducible, signed usr/share/migration.d tarball",
    )
    .option("--release <version>", "the release whose image carries the bundle")
    .option("--releases <range>", "every release in a semver range with the runner, in one run")
    .option("--all", "every release with the runner that is not withdrawn, in one run")
    .requiredOption(
      "--out <dir>",
      "the folder to write migration-<version>[-<platform>].tar.gz into",
    )
    .option(
      "--sign <key.pem>",
      "ed25519 private key of the release's signedBy: adds manifest.tsv.sig and the trust store (keys/)",
    )
    .addOption(
      new Option(
        "--keys <dir>",
        "a folder of private keys: each release is signed with <dir>/<signedBy>.pem (with --all or --releases, across a rotation)",
      ).conflicts("sign"),
    )
    .addOption(
      new Option(
        "--unsigned",
        "bundle a release the graph says is signed without signing it (development: its image accepts any bundle)",
      ).conflicts(["sign", "keys"]),
    )
    .addOption(platformOption())
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone bundle --release 2.10.0 --out out/ --sign keys/vendor-2025.pem\n  stepstone bundle --all --out out/ --keys ../signing-keys\n  stepstone bundle --releases '>=2.10.0 <2.12.0' --out out/ --keys ../signing-keys\n  SOURCE_DATE_EPOCH=1700000000 stepstone bundle --release 2.10.1-transition.1 --out out/ --sign vendor-2025.pem\n  stepstone bundle --release 2.10.0 --out dev/ --unsigned\n\nWith \"keys\" in the graph, --sign must be the release's signedBy key, and a signed release needs --sign or --unsigned.\nThe same inputs give the same bytes (sorted entries, uid/gid 0, mtime from SOURCE_DATE_EPOCH or 1980-01-01).\nExit: 0, 2 bad input (unknown release, a wrong or missing key, a script outside the graph's folder or not matching its sha256 pin).",
    )
    .action(run(async (o) => (await import("./commands/bundle.js")).bundleCommand(o)));

  cli
    .command("verify")
    .description(
      "check a bundle as a device would: paths, every script's sha256, the manifest, the signature",
    )
    .argument("<bundle>", "a migration-*.tar.gz")
    .option("--key <pub.pem>", "ed25519 public key: the signature must verify with it")
    .addOption(
      new Option(
        "--graph <file>",
        "verify with the public key of the bundle's release's signedBy in this graph, and its trust store against the release's trusts",
      ).conflicts("key"),
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone verify out/migration-2.10.0.tar.gz --key keys/vendor-2025.pub.pem\n  stepstone verify out/migration-2.10.0.tar.gz --graph release-graph.json\n\nExit: 0 intact, 2 unreadable (or a graph without that release's key), 3 any mismatch.",
    )
    .action(
      run(async (bundle: string, o) =>
        (await import("./commands/bundle.js")).verifyCommand(bundle, o),
      ),
    );

  cli
    .command("runner")
    .description(
      "emit the on-device runner (POSIX sh) and its systemd units as a rootfs-relative tree",
    )
    .requiredOption(
      "--out <dir>",
      "where to write usr/libexec/migration/runner and usr/lib/systemd/system/",
    )
    .option("--graph <file>", "add drop-ins so each component's services wait for its migrations")
    .option(
      "--upper <dir>",
      "the persistent layer wipes delete from (e.g. the overlay's upper dir); default /",
    )
    .option("--state-dir <dir>", "where the runner keeps its state; default /var/lib/migration")
    .option(
      "--layout <layout>",
      "premounted: the persistent layer is mounted before systemd starts (OpenBMC's init); fstab: systemd mounts it. Decides the units' ordering; default fstab",
    )
    .option(
      "--script-timeout <seconds>",
      "a script running longer is killed with its process group and counts as failed; default 600",
    )
    .option(
      "--run-timeout <seconds>",
      "the units' TimeoutStartSec: bounds the whole boot run; default 1800",
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  stepstone runner --out image-root/ --graph release-graph.json --layout premounted --upper /var/persist/etc-upper\n\nExit: 0, 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/runner.js")).runnerCommand(o)));

  cli
    .command("graph")
    .description(
      "the release graph as a picture: DOT (graphviz) or Mermaid, the plan's path highlighted",
    )
    .addOption(
      new Option("--format <format>", "dot for graphviz, mermaid for GitHub/GitLab markdown")
        .choices(["dot", "mermaid"])
        .default("dot"),
    )
    .option("--from <version>", "with --to: highlight the plan's path")
    .option("--to <version>", "with --from: highlight the plan's path")
    .addOption(platformOption())
    .addOption(graphOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone graph --format dot | dot -Tsvg > graph.svg\n  stepstone graph --format mermaid --from 2.9.2 --to 2.11.0\n\nExit: 0 (a pair with no plan is drawn as such, and stderr says why), 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/pictures.js")).graphCommand(o)));

  cli
    .command("report")
    .description(
      "one self-contained HTML page: the graph, the golden matrix, the gaps, an interactive planner",
    )
    .requiredOption("--out <file.html>", "where to write the page")
    .option(
      "--inventory <file>",
      "add a fleet section: the devices of this inventory (as stepstone fleet reads it), their distribution and classes",
    )
    .option(
      "--to <version>",
      "with --inventory: the fleet's target (default: the newest golden release)",
    )
    .addOption(platformOption())
    .addOption(graphOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone report --out out/report.html\n  stepstone report --out out/report.html --inventory devices.jsonl --to 2.11.0\n\nExit: 0, 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/pictures.js")).reportCommand(o)));

  cli
    .command("fleet")
    .description(
      "an inventory of devices grouped into classes, each planned once toward --to, in waves; without --to, where the fleet could go",
    )
    .requiredOption(
      "--inventory <file>",
      'JSON Lines ({"id","status": <runner status --json>} or {"id","release","platform"?}) or CSV (id,release,platform); - reads stdin',
    )
    .option("--to <version>", "the release to take the fleet to")
    .option(
      "--platform-default <name>",
      "the platform of devices whose line names none (default: the graph's base epochs)",
    )
    .option(
      "--allow-wipe <components>",
      'components a plan may reset to factory state: "a,b" or "all"',
    )
    .option(
      "--devices <out.csv>",
      "write id,class,first-stop for every device (for the roll-out system)",
    )
    .option("--strict", "stop at the first bad line (exit 2) instead of counting it")
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone fleet --inventory devices.jsonl --to 2.11.0\n  stepstone fleet --inventory devices.csv --to 2.11.0 --devices rollout.csv --format json\n  mender-inventory-export | stepstone fleet --inventory - --to 2.11.0\n  stepstone fleet --inventory devices.jsonl   (where could this fleet go?)\n\nA bad line is reported (FILE:LINE) and counted; the run goes on unless --strict.\nExit: 0 (devices without a plan are reported, not an error), 2 bad input (an empty inventory, --strict and a bad line).",
    )
    .action(run(async (o) => (await import("./commands/fleet.js")).fleetCommand(o)));

  cli
    .command("sync")
    .description(
      "read releases, epochs and migrations from a firmware repository's tags into the graph",
    )
    .requiredOption("--repo <path>", "the firmware (or layer) git repository")
    .option("--tags <glob>", "only tags matching this glob")
    .option("--exclude <glob>", "skip tags matching this glob")
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  stepstone sync --repo ../openbmc --tags 'v2.*' --exclude '*-dev'\n\nExit: 0, 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/git.js")).syncCommand(o)));

  cli
    .command("publish")
    .description(
      "write each transition release's bundle into a git repository, one folder and tag each",
    )
    .requiredOption("--repo <path>", "the repository that keeps transition builds")
    .option("--sign <key.pem>", "ed25519 private key for every bundle (a graph with one key)")
    .addOption(
      new Option(
        "--keys <dir>",
        "a folder of private keys: each release is signed with <dir>/<signedBy>.pem",
      ).conflicts("sign"),
    )
    .option("--release <version>", "only this transition release")
    .option("--dry-run", "check everything and say what would be published; write nothing")
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone publish --repo ../transition-builds --keys ../signing-keys --dry-run\n  stepstone publish --repo ../transition-builds --keys ../signing-keys\n  stepstone publish --repo ../transition-builds --sign vendor-2025.pem --release 2.10.1-transition.1\n\nExit: 0, 2 bad input (a missing or wrong key: nothing is written) or a dirty repository.",
    )
    .action(run(async (o) => (await import("./commands/git.js")).publishCommand(o)));

  cli
    .command("retire")
    .description(
      "which migrations the next release may stop shipping without opening a gap or lengthening a plan",
    )
    .option("--keep <range>", "the releases that must stay connected (default: golden)")
    .addOption(platformOption())
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nA migration may go when no gap opens and no best plan between the kept releases gets longer;\na \"must stay\" lists the gaps it would open and the plans it would lengthen (hops now and after).\n\nExample:\n  stepstone retire --keep '>=2.9.0'\n\nExit: 0, 2 bad input.",
    )
    .action(run(async (o) => (await import("./commands/git.js")).retireCommand(o)));

  cli
    .command("show")
    .description(
      "one release (epochs per platform, ships, keys, who reaches it, whom it reaches) or one migration",
    )
    .argument("<name>", "a release's version (or its tag) or a migration's id")
    .option("--all", "connect with every non-withdrawn release instead of the golden ones")
    .option("--releases <range>", "connect with the releases in a semver range")
    .addOption(platformOption())
    .addOption(graphOption())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  stepstone show 2.10.0\n  stepstone show users-2-1 --all\n  stepstone show v2.9.2 --format json\n\nExit: 0, 2 bad input (no such release or migration).",
    )
    .action(
      run(async (name: string, o) => (await import("./commands/show.js")).showCommand(name, o)),
    );

  return cli;
}

/** Runs the CLI; the one place where failures become messages and exit codes. */
export async function main(argv: readonly string[]): Promise<number> {
  const cli = program();
  exitCode = ExitCode.ok;
  cli.exitOverride();
  for (const sub of cli.commands) sub.exitOverride();
  try {
    if (argv.length <= 2) {
      cli.outputHelp();
      return ExitCode.input;
    }
    await cli.parseAsync(argv as string[]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return ExitCode.input; // commander already printed the message to stderr
    }
    // A file-system error (an --out that is a file, a folder without permission) is the
    // user's to fix, not a defect: said as one line, exit 2.
    const known = e instanceof StepstoneError ? e : fromSystemError(e);
    if (known) {
      process.stderr.write(`stepstone: ${known.message.split("\n").join("\nstepstone: ")}\n`);
      return known.exitCode;
    }
    process.stderr.write(
      `stepstone: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return ExitCode.internal;
  }
}
