SUMMARY = "stepstone migration runner: applies data migrations at boot and before flashing"
DESCRIPTION = "One POSIX sh program and systemd units, emitted by `stepstone runner`. \
migration.service runs the image's migrations before sysinit.target, one at a time, \
and survives a power cut at any instant; migration-failed.target keeps the device \
reachable to reflash when a migration fails."
# The runner is generated into your layer: license it as your layer's own files.
LICENSE = "CLOSED"

# Generate the tree with the same options your images need, and keep it in your layer:
#   stepstone runner --out files/rootfs --graph release-graph.json \
#       --layout premounted --upper /var/persist/overlay-upper
# (--layout premounted: OpenBMC's init mounts the rwfs partition and the /etc overlay
# before systemd starts, so migration.service can run before systemd-sysusers; use
# --layout fstab when systemd mounts the persistent layer, or its units would make an
# ordering cycle. --upper: the persistent layer itself, where wipes delete. Add
# --script-timeout S if a migration may legitimately take longer than 600 s.)
SRC_URI = "file://rootfs/"
S = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}/rootfs"

inherit systemd allarch

SYSTEMD_SERVICE:${PN} = "migration.service"
SYSTEMD_AUTO_ENABLE = "enable"

do_install() {
    install -D -m 0755 ${S}/usr/libexec/migration/runner ${D}${libexecdir}/migration/runner
    install -d ${D}${systemd_system_unitdir}
    cp -R --no-preserve=ownership ${S}/usr/lib/systemd/system/. ${D}${systemd_system_unitdir}/
    install -d ${D}${localstatedir}/lib/migration
}

FILES:${PN} += "${libexecdir}/migration ${systemd_system_unitdir} ${localstatedir}/lib/migration"

# What the runner calls: a shell, awk, sha256sum, sync, mv, ln, mkfifo, setsid, sleep, df,
# tar (pre-flash of a .tar.gz bundle) and openssl (signed bundles: migration-data pulls in
# openssl-bin); all are applets of a common busybox build.
RDEPENDS:${PN} = "busybox"
