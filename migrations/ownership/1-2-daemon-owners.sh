#!/bin/sh
# ownership-1-2: hand the daemons' persistent state to their new users.
#
# Root-only releases (2.8.x, 2.9.x) leave everything under var/lib owned by
# root. From 2.10.0 bmcweb, phosphor-settings-manager and phosphor-logging run
# as their own users and must own their state directories:
#
#   var/lib/bmcweb                     bmcweb:bmcweb
#   var/lib/phosphor-settings-manager  phosphor-settings:phosphor-settings
#   var/lib/phosphor-logging           phosphor-logging:phosphor-logging
#
# The numeric ids are read from $MIGRATION_ROOT/etc/passwd and etc/group
# (never the host's NSS), which is why this runs after users-1-2 (the
# migration's "after"). A directory that does not exist is skipped; when one
# exists but its user or group is missing, the script fails (exit 1) before
# changing it. Symbolic links are changed themselves, never followed
# (chown -R -P), so a link under var/lib cannot hand anything else to a
# daemon. Only owners change, not modes. Running it again changes nothing.
#
# The matching down-migration is 2-1-daemon-owners.sh (ownership-2-1).
set -eu

root=${MIGRATION_ROOT-}

# id_of FILE NAME: the third field of NAME's line in FILE (uid or gid).
id_of() {
	[ -f "$1" ] || return 0
	awk -F: -v name="$2" '$1 == name { print $3; exit }' "$1"
}

# hand DIR USER GROUP: chown -R DIR (relative to the root) to USER:GROUP.
hand() {
	dir=$root/$1
	[ -d "$dir" ] || return 0
	[ ! -L "$dir" ] || {
		echo "ownership-1-2: $dir is a symbolic link, not changed" >&2
		return 1
	}
	uid=$(id_of "$root/etc/passwd" "$2")
	gid=$(id_of "$root/etc/group" "$3")
	case $uid in '' | *[!0-9]*)
		echo "ownership-1-2: user $2 not in $root/etc/passwd (users-1-2 must run first)" >&2
		return 1
		;;
	esac
	case $gid in '' | *[!0-9]*)
		echo "ownership-1-2: group $3 not in $root/etc/group (users-1-2 must run first)" >&2
		return 1
		;;
	esac
	chown -R -P "$uid:$gid" "$dir"
}

hand var/lib/bmcweb bmcweb bmcweb
hand var/lib/phosphor-settings-manager phosphor-settings phosphor-settings
hand var/lib/phosphor-logging phosphor-logging phosphor-logging
