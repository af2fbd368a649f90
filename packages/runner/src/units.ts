/**
 * The runner's systemd units. Short, one purpose each; they must pass
 * `systemd-analyze verify` without a single line of output (warnings included).
 */

export const RUNNER_PATH = "usr/libexec/migration/runner";
export const UNIT_DIR = "usr/lib/systemd/system";

const execPath = `/${RUNNER_PATH}`;

/**
 * The whole boot run. DefaultDependencies=no so it can order itself before
 * sysinit.target (a typo there would bring the defaults back and make a cycle).
 * ConditionDirectoryNotEmpty: an image that ships no migrations starts no process.
 */
export function migrationService(scriptsDir: string): string {
  return `[Unit]
Description=Migrate persistent data to this image's format
DefaultDependencies=no
ConditionDirectoryNotEmpty=${scriptsDir}
After=local-fs.target
Before=sysinit.target systemd-sysusers.service systemd-tmpfiles-setup.service
Conflicts=shutdown.target
Before=shutdown.target
OnFailure=migration-failed.target

[Service]
Type=oneshot
RemainAfterExit=yes
# A migration may take long; an interrupted one runs again at the next boot anyway.
TimeoutStartSec=infinity
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
export function migrationTemplate(scriptsDir: string): string {
  return `[Unit]
Description=Migrate persistent data of component %i
DefaultDependencies=no
ConditionDirectoryNotEmpty=${scriptsDir}
Requires=migration.service
After=migration.service local-fs.target
Before=sysinit.target
Conflicts=shutdown.target
Before=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=infinity
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
