/**
 * The runner's systemd units. Short, one purpose each; they must pass
 * `systemd-analyze verify` without a single line of output (warnings included).
 */

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
 * Wants= (not Requires=) so that units an image does not have fail nothing.
 */
export function migrationFailedTarget(): string {
  return `[Unit]
Description=Persistent data migration failed: staying reachable for a reflash
Wants=network.target systemd-networkd.service
Wants=sshd.socket sshd.service dropbear.socket
Wants=bmcweb.socket bmcweb.service
Wants=xyz.openbmc_project.Software.BMC.Updater.service
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
