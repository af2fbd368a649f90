#!/bin/sh
# ownership-2-3: make bmcweb's persistent data private to bmcweb.
#
# From 2.13.0 bmcweb refuses to start when its persistent data (session
# secrets, the TLS key's settings) is readable by other users, so the files
# directly under var/lib/bmcweb become mode 0600 (directories 0700). Owners
# do not change (ownership-1-2 set them). A missing directory is skipped;
# symbolic links are left alone. Running it again changes nothing.
#
# The matching down-migration is 3-2-private-persistent-data.sh.
set -eu

dir=${MIGRATION_ROOT-}/var/lib/bmcweb
[ -d "$dir" ] && [ ! -L "$dir" ] || exit 0
chmod 0700 "$dir"
find "$dir" -mindepth 1 -maxdepth 1 -type f -exec chmod 0600 {} +
