#!/bin/sh
# users-2-1: remove what users-1-2 added, for a downgrade to a root-only
# release (2.9.x, 2.8.x). Shipped by the transition release
# 2.10.1-transition.1, where it runs pre-flash, before the older image is
# written: the older image has no idea these groups and users exist.
#
# An entry is removed only when it is ours: its name is one of the groups or
# users below and it holds the static id users-1-2 gave it (see the table in
# 1-2-priv-groups.sh; ids as Yocto's useradd-staticids). A group or user of the
# same name with another id predates users-1-2 and is kept. Each shadow file
# is cleaned before its reference (gshadow before group, shadow before
# passwd), while etc/group and etc/passwd still say which entries are ours,
# so a run cut short by a power loss finishes on the next run, and a second
# run changes nothing. Members that phosphor-user-manager added to the priv-*
# groups go with those groups; the accounts themselves stay.
# Users and groups are resolved from $MIGRATION_ROOT/etc only, never NSS.
# A missing file is skipped. Each file is rewritten through a temporary file
# in its own directory (same owner and mode, copied with cp -p), then mv.
set -eu

etc=${MIGRATION_ROOT-}/etc

# name:static id
GROUPS_OURS='priv-admin:980
priv-operator:981
priv-user:982
priv-noaccess:983
web:984
redfish:985
ipmi:986
ssh:987
bmcweb:990
phosphor-settings:991
phosphor-logging:992'
USERS_OURS='bmcweb:990
phosphor-settings:991
phosphor-logging:992'

# rewrite FILE FILTER [ARG...]: run the shell function FILTER with FILE and
# the ARGs into FILE.migration-tmp and replace FILE only if the content
# changed. A missing FILE is skipped.
rewrite() {
	file=$1
	filter=$2
	shift 2
	[ -f "$file" ] || return 0
	tmp=$file.migration-tmp
	rm -f "$tmp"
	cp -p "$file" "$tmp"
	if ! "$filter" "$file" "$@" >"$tmp"; then
		rm -f "$tmp"
		echo "users-2-1: $file: not changed" >&2
		return 1
	fi
	if cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
	else
		# Durable before the rename: without it a power cut can leave an empty file
		# where the rename landed (ext4 without auto_da_alloc, other file systems).
		sync -- "$tmp"
		mv -f "$tmp" "$file"
	fi
}

# drop_self FILE LIST: FILE without the lines named after an entry of LIST
# (name:id lines) whose third field (gid, uid) is that id: etc/group and
# etc/passwd.
drop_self() {
	OURS=$2 awk -F: '
	BEGIN {
		n = split(ENVIRON["OURS"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			want[f[1]] = f[2]
		}
	}
	($1 in want) && $3 == want[$1] { next }
	{ print }' "$1"
}

# drop_by_ref FILE LIST REFERENCE: the same, the ids read from the name's line
# in REFERENCE: etc/gshadow (by etc/group) and etc/shadow (by etc/passwd).
drop_by_ref() {
	reference=$3
	[ -f "$reference" ] || reference=/dev/null
	OURS=$2 awk -F: -v target="$1" '
	BEGIN {
		n = split(ENVIRON["OURS"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			want[f[1]] = f[2]
		}
	}
	FILENAME != target { if (!($1 in id)) id[$1] = $3; next }
	($1 in want) && ($1 in id) && id[$1] == want[$1] { next }
	{ print }' "$reference" "$1"
}

rewrite "$etc/gshadow" drop_by_ref "$GROUPS_OURS" "$etc/group"
rewrite "$etc/group" drop_self "$GROUPS_OURS"
rewrite "$etc/shadow" drop_by_ref "$USERS_OURS" "$etc/passwd"
rewrite "$etc/passwd" drop_self "$USERS_OURS"
