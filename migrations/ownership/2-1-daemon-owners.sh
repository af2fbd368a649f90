#!/bin/sh
# ownership-2-1: give the daemons' persistent state back to root, for a
# downgrade to a root-only release (2.9.x, 2.8.x). Undoes ownership-1-2:
# everything under these directories becomes 0:0, as root-only releases
# wrote it. Shipped by the transition release 2.10.1-transition.1, where it
# runs pre-flash, before the older image is written.
#
#   var/lib/bmcweb  var/lib/phosphor-settings-manager  var/lib/phosphor-logging
#
# Numeric ids only, so it needs nothing from etc/passwd or etc/group and may
# run before or after users-2-1 (it is ordered after it, as the components
# migrate: users, then ownership). A directory that does not exist is
# skipped. Symbolic links are changed themselves, never followed
# (chown -R -P). Running it again changes nothing.
set -eu

root=${MIGRATION_ROOT-}

for d in var/lib/bmcweb var/lib/phosphor-settings-manager var/lib/phosphor-logging; do
	dir=$root/$d
	[ -d "$dir" ] || continue
	if [ -L "$dir" ]; then
		echo "ownership-2-1: $dir is a symbolic link, not changed" >&2
		exit 1
	fi
	chown -R -P 0:0 "$dir"
done
