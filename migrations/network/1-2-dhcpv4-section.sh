#!/bin/sh
# network-1-2: rename the [DHCP] section of systemd-networkd files to [DHCPv4].
#
# systemd-networkd renamed the section (the old name is a deprecated alias),
# and the phosphor-networkd of 2.10.0 reads and writes [DHCPv4] only: left as
# [DHCP], settings such as UseDNS=, UseNTP= or ClientIdentifier= written by
# 2.9.x would be dropped the next time phosphor-networkd rewrites the file.
# Only the section header changes; keys, values, comments and the rest of the
# header line (indentation, trailing blanks) are kept byte for byte, so
# network-2-1 restores the original. Network settings are not wipeable: a
# reset would cut the device off its management network.
#
# Files: $MIGRATION_ROOT/etc/systemd/network/*.network and drop-ins
# *.network.d/*.conf. A missing directory or a glob that matches nothing is
# skipped; symbolic links (e.g. a unit masked with a link to /dev/null, or a
# file shipped by the image) are left alone. Each file is rewritten through a
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
		/^[[:blank:]]*\[DHCP\][[:blank:]]*$/ { sub(/\[DHCP\]/, "[DHCPv4]") }
		{ printf "%s%s", (NR > 1 ? "\n" : ""), $0 }
		END { if (NR > 0 && !nonl) printf "\n" }' "$file" >"$tmp"; then
		rm -f "$tmp"
		echo "network-1-2: $file: not changed" >&2
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
