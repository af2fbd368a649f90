# migration.bbclass: ship a stepstone migration bundle in the image.
#
# A recipe that inherits this class installs the bundle of the image's release,
# made by `stepstone bundle --release <version> --out <dir> [--sign key.pem]` in your
# release pipeline, into /usr/share/migration.d on the READ-ONLY root file system (not
# under the overlaid /etc: files an older release left in the writable layer, or
# whiteouts of deleted scripts, would hide the new image's), together with the public
# keys that verify its signature, and pulls in the runner and its units.
#
#   # recipes-support/migration-data/migration-data.bb in your layer
#   SUMMARY = "Data migrations of this release"
#   LICENSE = "CLOSED"
#   inherit migration
#   MIGRATION_BUNDLE = "migration-${DISTRO_VERSION}.tar.gz"
#   MIGRATION_KEYS = "vendor-2025.pub.pem"
#   SRC_URI += "file://vendor-2025.pub.pem"
#
# and IMAGE_INSTALL:append = " migration-data" in the image.
#
# The scripts write numeric user and group ids (they must not depend on the build
# host's or the device's name service), so the image's own accounts must have the
# same, static ids: use useradd-staticids with a group/passwd table that matches the
# ids your migrations create, e.g. in local.conf or the distro:
#   USERADDEXTENSION = "useradd-staticids"
#   USERADD_ERROR_DYNAMIC = "error"
#   USERADD_GID_TABLES = "files/group"
#   USERADD_UID_TABLES = "files/passwd"

MIGRATION_BUNDLE ??= "migration-${DISTRO_VERSION}.tar.gz"
# Public keys (*.pem, ed25519) installed into /usr/share/migration.d/keys: with a key
# installed, the runner runs nothing from a bundle whose signature does not verify.
MIGRATION_KEYS ??= ""
MIGRATION_DIR = "${datadir}/migration.d"

SRC_URI:append = " file://${MIGRATION_BUNDLE};unpack=0"

# UNPACKDIR on styhead and later, WORKDIR before.
MIGRATION_SRC = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}"

RDEPENDS:${PN}:append = " stepstone-runner"
RDEPENDS:${PN}:append = "${@' openssl-bin' if d.getVar('MIGRATION_KEYS').strip() else ''}"

do_install:append() {
    install -d ${D}${MIGRATION_DIR}
    # The bundle's entries are rootfs-relative (usr/share/migration.d/...) with no
    # entries for parent folders, so this never changes /usr's mode.
    tar -xzf ${MIGRATION_SRC}/${MIGRATION_BUNDLE} -C ${D} --no-same-owner
    for key in ${MIGRATION_KEYS}; do
        install -d ${D}${MIGRATION_DIR}/keys
        install -m 0644 ${MIGRATION_SRC}/$key ${D}${MIGRATION_DIR}/keys/
    done
}

FILES:${PN}:append = " ${MIGRATION_DIR}"
