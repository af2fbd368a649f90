#!/bin/sh
# ownership-3-2: undo ownership-2-3 for a downgrade below 2.13.0: bmcweb's
# persistent files go back to 0644 and the directory to 0755, the modes
# releases before 2.13.0 create them with. Symbolic links are left alone.
# Running it again changes nothing.
set -eu

dir=${MIGRATION_ROOT-}/var/lib/bmcweb
[ -d "$dir" ] && [ ! -L "$dir" ] || exit 0
chmod 0755 "$dir"
find "$dir" -mindepth 1 -maxdepth 1 -type f -exec chmod 0644 {} +
