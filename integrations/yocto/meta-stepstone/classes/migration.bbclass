# migration.bbclass: ship a stepstone migration bundle in the image.
#
# A recipe that inherits this class installs the bundle of the image's release, made by
# `stepstone bundle --release <version> --out <dir> --sign <its signedBy key>.pem` in
# your release pipeline, into /usr/share/migration.d on the READ-ONLY root file system
# (not under the overlaid /etc: files an older release left in the writable layer, or
# whiteouts of deleted scripts, would hide the new image's), and pulls in the runner and
# its units.
#
# The bundle is all the image needs: it carries the image's trust store itself
# (usr/share/migration.d/keys/<id>.pem for every key of the release's "trusts" in
# release-graph.json, listed in the signed manifest), so there is no key list to keep in
# sync here, and nothing else may be installed into /usr/share/migration.d: the runner
# trusts exactly the keys the bundle lists, and treats any other file there as an
# integrity failure.
#
#   # recipes-support/migration-data/migration-data.bb in your layer
#   SUMMARY = "Data migrations of this release"
#   LICENSE = "CLOSED"
#   inherit migration
#   MIGRATION_BUNDLE = "migration-${DISTRO_VERSION}.tar.gz"
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
MIGRATION_DIR = "${datadir}/migration.d"

SRC_URI:append = " file://${MIGRATION_BUNDLE};unpack=0"

# UNPACKDIR on styhead and later, WORKDIR before.
MIGRATION_SRC = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}"

# openssl checks the bundles' signatures on the device (a signed bundle carries keys/).
RDEPENDS:${PN}:append = " stepstone-runner openssl-bin"

do_install:append() {
    # Only the bundle's own entries, all under usr/share/migration.d: a bundle is never
    # merged with files from elsewhere (the runner would refuse them).
    bad=$(tar -tzf ${MIGRATION_SRC}/${MIGRATION_BUNDLE} | grep -v '^usr/share/migration\.d/' || true)
    if [ -n "$bad" ]; then
        bbfatal "${MIGRATION_BUNDLE}: entries outside usr/share/migration.d: $bad"
    fi
    install -d ${D}${MIGRATION_DIR}
    # The bundle's entries are rootfs-relative (usr/share/migration.d/...) with no
    # entries for parent folders, so this never changes /usr's mode.
    tar -xzf ${MIGRATION_SRC}/${MIGRATION_BUNDLE} -C ${D} --no-same-owner
}

FILES:${PN}:append = " ${MIGRATION_DIR}"
