#!/bin/sh
# users-1-2: add the groups and system users of OpenBMC's unprivileged daemons.
#
# Root-only releases (2.8.x, 2.9.x) run every daemon as root. From 2.10.0 the
# daemons run as their own system users, and access is granted through the
# phosphor-user-manager privilege groups (priv-*) and the interface groups
# (web, redfish, ipmi, ssh). This script appends the missing entries to
# etc/group, etc/gshadow, etc/passwd and etc/shadow under $MIGRATION_ROOT
# (empty on a live device). It never edits an existing line and leaves alone
# any entry whose name already exists, so a second run changes nothing.
# Users and groups are resolved from $MIGRATION_ROOT/etc only, never NSS.
#
# Static ids, as Yocto's useradd-staticids (the distro layer's files/group and
# files/passwd), so every image and every converted device agrees on them:
#
#   group              gid  members     user               uid  group
#   priv-admin         980  root        bmcweb             990  bmcweb
#   priv-operator      981              phosphor-settings  991  phosphor-settings
#   priv-user          982              phosphor-logging   992  phosphor-logging
#   priv-noaccess      983
#   web                984  root
#   redfish            985  root
#   ipmi               986  root
#   ssh                987  root
#   bmcweb             990
#   phosphor-settings  991
#   phosphor-logging   992
#
# Another name already holding one of these ids is a conflict: the script
# fails (exit 1) before replacing that file, and the users component's
# policy (halt) keeps the device in migration-failed.target to be reflashed.
# A missing file is skipped. Each file is rewritten through a temporary file
# in its own directory (same owner and mode, copied with cp -p), then mv.
#
# The matching down-migration is 2-1-priv-groups.sh (users-2-1).
set -eu

etc=${MIGRATION_ROOT-}/etc

# name:gid:members
GROUPS_WANTED='priv-admin:980:root
priv-operator:981:
priv-user:982:
priv-noaccess:983:
web:984:root
redfish:985:root
ipmi:986:root
ssh:987:root
bmcweb:990:
phosphor-settings:991:
phosphor-logging:992:'

# name:uid:primary group:gecos:home:shell
USERS_WANTED='bmcweb:990:bmcweb:bmcweb Redfish and web server:/var/lib/bmcweb:/sbin/nologin
phosphor-settings:991:phosphor-settings:phosphor-settings-manager:/var/lib/phosphor-settings-manager:/sbin/nologin
phosphor-logging:992:phosphor-logging:phosphor-logging event log:/var/lib/phosphor-logging:/sbin/nologin'
export GROUPS_WANTED USERS_WANTED

# rewrite FILE FILTER: run the shell function FILTER with FILE as its argument
# into FILE.migration-tmp and replace FILE only if the content changed. A
# missing FILE is skipped.
rewrite() {
	file=$1
	[ -f "$file" ] || return 0
	tmp=$file.migration-tmp
	rm -f "$tmp"
	cp -p "$file" "$tmp"
	if ! "$2" "$file" >"$tmp"; then
		rm -f "$tmp"
		echo "users-1-2: $file: not changed" >&2
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

# The reference files (etc/group for etc/passwd and etc/gshadow, etc/passwd
# for etc/shadow), read after they were updated; /dev/null when missing.
groupfile=$etc/group
passwdfile=$etc/passwd

ref() {
	if [ -f "$1" ]; then echo "$1"; else echo /dev/null; fi
}

# etc/group: append the missing groups.
add_groups() {
	awk -F: -v target="$1" '
	BEGIN {
		n = split(ENVIRON["GROUPS_WANTED"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			name[i] = f[1]; id[i] = f[2]; mem[i] = f[3]
		}
	}
	{ print; seen[$1] = 1; owner[$3] = $1 }
	END {
		for (i = 1; i <= n; i++) {
			if (name[i] in seen) continue
			if (id[i] in owner) {
				printf "users-1-2: %s: gid %s is taken by %s, wanted for %s\n", target, id[i], owner[id[i]], name[i] > "/dev/stderr"
				exit 1
			}
			print name[i] ":x:" id[i] ":" mem[i]
		}
	}' "$1"
}

# etc/passwd: append the missing users; the primary gid comes from etc/group
# (the static gid when etc/group lacks the group or is missing).
add_users() {
	awk -F: -v target="$1" '
	BEGIN {
		n = split(ENVIRON["USERS_WANTED"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			name[i] = f[1]; id[i] = f[2]; grp[i] = f[3]
			gecos[i] = f[4]; home[i] = f[5]; shell[i] = f[6]
		}
	}
	FILENAME != target { if (!($1 in gid)) gid[$1] = $3; next }
	{ print; seen[$1] = 1; owner[$3] = $1 }
	END {
		for (i = 1; i <= n; i++) {
			if (name[i] in seen) continue
			if (id[i] in owner) {
				printf "users-1-2: %s: uid %s is taken by %s, wanted for %s\n", target, id[i], owner[id[i]], name[i] > "/dev/stderr"
				exit 1
			}
			g = (grp[i] in gid) ? gid[grp[i]] : id[i]
			print name[i] ":x:" id[i] ":" g ":" gecos[i] ":" home[i] ":" shell[i]
		}
	}' "$(ref "$groupfile")" "$1"
}

# etc/gshadow and etc/shadow: a locked entry for each group or user that is
# ours (its name holds our static id in etc/group or etc/passwd) and has none.
add_gshadow() {
	awk -F: -v target="$1" '
	BEGIN {
		n = split(ENVIRON["GROUPS_WANTED"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			name[i] = f[1]; id[i] = f[2]; mem[i] = f[3]
		}
	}
	FILENAME != target { if (!($1 in gid)) gid[$1] = $3; next }
	{ print; seen[$1] = 1 }
	END {
		for (i = 1; i <= n; i++)
			if (!(name[i] in seen) && (name[i] in gid) && gid[name[i]] == id[i])
				print name[i] ":!::" mem[i]
	}' "$(ref "$groupfile")" "$1"
}

add_shadow() {
	awk -F: -v target="$1" '
	BEGIN {
		n = split(ENVIRON["USERS_WANTED"], w, "\n")
		for (i = 1; i <= n; i++) {
			split(w[i], f, ":")
			name[i] = f[1]; id[i] = f[2]
		}
	}
	FILENAME != target { if (!($1 in uid)) uid[$1] = $3; next }
	{ print; seen[$1] = 1 }
	END {
		for (i = 1; i <= n; i++)
			if (!(name[i] in seen) && (name[i] in uid) && uid[name[i]] == id[i])
				print name[i] ":!::0:99999:7:::"
	}' "$(ref "$passwdfile")" "$1"
}

rewrite "$groupfile" add_groups
rewrite "$passwdfile" add_users
rewrite "$etc/gshadow" add_gshadow
rewrite "$etc/shadow" add_shadow
