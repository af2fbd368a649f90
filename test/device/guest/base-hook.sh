#!/bin/sh
# mmdebstrap --customize-hook of the device stage's base image (lib/base.mjs):
#   base-hook.sh ROOT KERNEL_DIR KERNEL_VERSION
# The modules the guest loads (overlay for OpenBMC's layout, loop and squashfs for RAUC's
# bundles, autofs4 for systemd) from the unpacked cloud kernel, with depmod's tables; a
# fixed machine id (no first-boot setup); no gettys; units that only cost boot time here
# masked. Everything else comes from Debian's packages.
set -eu
root=$1 kdir=$2 kver=$3
mods=$root/lib/modules/$kver
mkdir -p "$mods"
(cd "$kdir/lib/modules/$kver" && cp --parents kernel/fs/overlayfs/overlay.ko \
	kernel/drivers/block/loop.ko kernel/fs/squashfs/squashfs.ko kernel/fs/autofs/autofs4.ko \
	modules.builtin modules.builtin.modinfo modules.order "$mods/")
chroot "$root" depmod "$kver"
rm -f "$root/etc/machine-id"
echo 5f0d3c0a6b2e4e8f9a1b2c3d4e5f6a7b >"$root/etc/machine-id"
for u in serial-getty@ttyS0.service getty@tty1.service getty.target ldconfig.service \
	systemd-hwdb-update.service systemd-journal-catalog-update.service \
	systemd-update-utmp.service systemd-update-utmp-runlevel.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	fstrim.timer systemd-journal-flush.service systemd-random-seed.service \
	systemd-logind.service systemd-user-sessions.service e2scrub_reap.service \
	systemd-tmpfiles-clean.timer modprobe@configfs.service modprobe@dm_mod.service \
	modprobe@drm.service modprobe@efi_pstore.service modprobe@fuse.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
# udev's hardware database: nothing here looks it up (systemd-hwdb-update is masked).
rm -rf "$root/usr/lib/udev/hwdb.bin" "$root/usr/lib/udev/hwdb.d"
# What no guest program uses, cut so that each flash writes fewer bytes (RAUC copies the
# whole root image): perl, apt and dpkg's database, glibc's extra charsets, licenses.
rm -rf "$root"/usr/bin/perl* "$root"/usr/lib/x86_64-linux-gnu/perl-base "$root/usr/share/perl5" \
	"$root"/usr/bin/apt* "$root/usr/lib/apt" "$root"/usr/lib/x86_64-linux-gnu/libapt-* \
	"$root/usr/lib/x86_64-linux-gnu/gconv" "$root/var/lib/dpkg" "$root"/var/cache/* \
	"$root/usr/share/common-licenses" "$root/usr/share/bash-completion"
# Mount points and folders of OpenBMC's layout and of RAUC (the root is read-only).
mkdir -p "$root/persist" "$root/var/lib/rauc"
