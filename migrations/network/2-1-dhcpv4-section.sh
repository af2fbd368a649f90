#!/bin/sh
# network-2-1: rename the [DHCPv4] section of systemd-networkd files back to
# [DHCP], for a downgrade to a release before 2.10.0. Undoes network-1-2:
# the systemd-networkd and phosphor-networkd of 2.9.x and older do not know
# [DHCPv4] and would silently ignore the DHCP settings in it. Shipped by the
# transition release 2.10.1-transition.1, where it runs pre-flash, before the
# older image is written. Network settings are not wipeable, so without this
# script no plan can go back below 2.10.0.
#
# Only the section header changes, the rest of the file is kept byte for byte.
# Files: $MIGRATION_ROOT/etc/systemd/network/*.network and drop-ins
# *.network.d/*.conf. A missing directory or a glob that matches nothing is
# skipped; symbolic links are left alone. Each file is rewritten through a
# temporary file in its own directory (same owner and mode, copied with
# cp -p), then mv, and only when its content changes, so a second run changes
# nothing.
set -eu

dir=${MIGRATION_ROOT-}/etc/systemd/network

for file in "$dir"/*.network "$dir"/*.network.d/*.conf; do
	if [ -L "$file" ] || [ ! -f "$file" ]; then
		continue
	fi
	tmp=$file.migration-tmp
	rm -f "$tmp"
	cp -p "$file" "$tmp"
	# A last line without a newline keeps lacking it.
	nonl=0
	[ -z "$(tail -c 1 "$file")" ] || nonl=1
	if ! awk -v nonl="$nonl" '
		/^[[:blank:]]*\[DHCPv4\][[:blank:]]*$/ { sub(/\[DHCPv4\]/, "[DHCP]") }
		{ printf "%s%s", (NR > 1 ? "\n" : ""), $0 }
		END { if (NR > 0 && !nonl) printf "\n" }' "$file" >"$tmp"; then
		rm -f "$tmp"
		echo "network-2-1: $file: not changed" >&2
		exit 1
	fi
	if cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
	else
		# Durable before the rename: without it a power cut can leave an empty file
		# where the rename landed (ext4 without auto_da_alloc, other file systems).
		sync -- "$tmp"
		mv -f "$tmp" "$file"
	fi
done
