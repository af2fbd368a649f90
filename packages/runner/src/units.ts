/**
 * The runner's systemd units. Short, one purpose each; they must pass
 * `systemd-analyze verify` without a single line of output (warnings included).
 */

import { InputError } from "@stepstone/errors";

export const RUNNER_PATH = "usr/libexec/migration/runner";
export const UNIT_DIR = "usr/lib/systemd/system";

const execPath = `/${RUNNER_PATH}`;

/**
 * How the persistent layer reaches the running system, which decides where
 * migration.service can sit in the boot without an ordering cycle (systemd breaks a cycle by
 * deleting a job, sometimes migration.service itself):
 * - `premounted`: mounted before systemd starts (OpenBMC's init mounts the read-write
 *   partition and the /etc overlay, then execs systemd). The service then needs only the
 *   root remounted and its folders' mounts, and can run before systemd-sysusers, which
 *   must not add accounts to data that is about to be converted.
 * - `fstab`: mounted by systemd (fstab or mount units). The service waits for
 *   local-fs.target, and so cannot also come before systemd-sysusers: sysusers is ordered
 *   before local-fs-pre.target through systemd-tmpfiles-setup-dev.service.
 */
export type Layout = "premounted" | "fstab";

/** A layout named by text (`--layout`); an InputError names the two there are. */
export function parseLayout(text: string): Layout {
  if (text === "premounted" || text === "fstab") return text;
  throw new InputError(
    `runner: the layout must be premounted (the persistent layer is mounted before systemd starts, as OpenBMC's init does) or fstab (systemd mounts it), got ${JSON.stringify(text)}`,
  );
}

export interface ServiceOptions {
  scriptsDir: string;
  layout: Layout;
  /** Folders whose mounts the run needs (state dir, persistent layer). */
  mounts: readonly string[];
  /** Seconds the whole run may take before systemd kills it (the unit then fails). */
  runTimeout: number;
}

/**
 * The whole boot run. DefaultDependencies=no so it can order itself before
 * sysinit.target (a typo there would bring the defaults back and make a cycle).
 * ConditionDirectoryNotEmpty: an image that ships no migrations starts no process.
 * TimeoutStartSec bounds the run even if the runner itself hangs: the unit then fails and
 * OnFailure= reaches migration-failed.target, so the device stays reachable.
 */
export function migrationService(o: ServiceOptions): string {
  const order =
    o.layout === "premounted"
      ? [
          "After=systemd-remount-fs.service",
          `RequiresMountsFor=${o.mounts.join(" ")}`,
          "Before=sysinit.target systemd-sysusers.service systemd-tmpfiles-setup.service",
        ]
      : [
          "After=local-fs.target",
          `RequiresMountsFor=${o.mounts.join(" ")}`,
          "Before=sysinit.target systemd-tmpfiles-setup.service",
        ];
  return `[Unit]
Description=Migrate persistent data to this image's format
DefaultDependencies=no
ConditionDirectoryNotEmpty=${o.scriptsDir}
${order.join("\n")}
Conflicts=shutdown.target
Before=shutdown.target
OnFailure=migration-failed.target
# One run a boot: a unit that needs a component (Requires=migration@c.service, which
# requires this one) must not start a failed run again, or reaching
# migration-failed.target could start the whole migration over and over.
StartLimitIntervalSec=infinity
StartLimitBurst=1

[Service]
Type=oneshot
RemainAfterExit=yes
# Each script has its own limit (the runner kills it past it); this bounds the whole run.
TimeoutStartSec=${o.runTimeout}
ExecStart=${execPath} boot
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=sysinit.target
`;
}

/**
 * One component, for services to depend on: `Requires=` + `After=migration@users.service`.
 * It fails when its component failed (halt or isolate), so only that component's services
 * stay down; Requires=migration.service makes a halted boot fail it too.
 */
export function migrationTemplate(o: ServiceOptions): string {
  return `[Unit]
Description=Migrate persistent data of component %i
DefaultDependencies=no
ConditionDirectoryNotEmpty=${o.scriptsDir}
Requires=migration.service
After=migration.service
Before=sysinit.target
Conflicts=shutdown.target
Before=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=${o.runTimeout}
ExecStart=${execPath} boot --component %i
StandardOutput=journal+console
StandardError=journal+console
`;
}

/**
 * Reached when migration.service fails: keep the device reachable so it can be reflashed.
 * Wants= (not Requires=) so that units an image does not have fail nothing. A unit that
 * waits for a component's migrations (a drop-in) is left out: it cannot start while that
 * component is failed, and asking for it would only ask for the migration again.
 */
export function migrationFailedTarget(componentServices: readonly string[] = []): string {
  // A service's socket would start it on the first connection: left out with it.
  const skip = new Set(componentServices.flatMap((u) => [u, u.replace(/\.service$/, ".socket")]));
  const lines = [
    ["network.target", "systemd-networkd.service"],
    ["sshd.socket", "sshd.service", "dropbear.socket"],
    ["bmcweb.socket", "bmcweb.service"],
    ["xyz.openbmc_project.Software.BMC.Updater.service"],
  ]
    .map((units) => units.filter((u) => !skip.has(u)))
    .filter((units) => units.length > 0)
    .map((units) => `Wants=${units.join(" ")}`);
  return `[Unit]
Description=Persistent data migration failed: staying reachable for a reflash
${lines.join("\n")}
`;
}

/** Drop-in for a service that must not start before these components are migrated. */
export function serviceDropIn(components: readonly string[]): string {
  const lines = components.flatMap((c) => [
    `Requires=migration@${c}.service`,
    `After=migration@${c}.service`,
  ]);
  return `# Written by stepstone: this service reads data that migrations convert.
[Unit]
${lines.join("\n")}
`;
}
