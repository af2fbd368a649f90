#!/bin/sh
# Puts `stepstone` on PATH: writes PREFIX/bin/stepstone (default PREFIX: ~/.local), a
# launcher that runs this checkout's build, so a rebuild (`pnpm build`) is what it runs.
#   sh scripts/install-cli.sh [--prefix DIR]      (or: pnpm install-cli [--prefix DIR])
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${HOME:?}/.local
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) [ $# -ge 2 ] || { echo "install-cli: --prefix needs a folder" >&2; exit 2; }
		prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#--prefix=}; shift ;;
	-h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-cli: unknown argument $1 (usage: install-cli [--prefix DIR])" >&2; exit 2 ;;
	esac
done
# A relative prefix is relative to where the user typed the command (pnpm runs scripts
# from the checkout's top folder and says where in INIT_CWD).
case $prefix in /*) ;; *) prefix=${INIT_CWD:-$(pwd)}/$prefix ;; esac

bin="$root/apps/cli/dist/bundle/bin.js"
if [ ! -f "$bin" ]; then
	echo "install-cli: $bin is not built yet: run pnpm install (it builds) in $root first" >&2
	exit 2
fi
node_path=$(command -v node) || { echo "install-cli: node is not on PATH" >&2; exit 2; }

mkdir -p "$prefix/bin"
tmp="$prefix/bin/.stepstone.$$"
trap 'rm -f "$tmp"' EXIT
cat >"$tmp" <<LAUNCHER
#!/bin/sh
# stepstone, the build of $root (installed by scripts/install-cli.sh)
exec node "$bin" "\$@"
LAUNCHER
chmod 0755 "$tmp"
mv -f "$tmp" "$prefix/bin/stepstone"
trap - EXIT

echo "installed $prefix/bin/stepstone -> $bin (node: $node_path)"
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "note: $prefix/bin is not on PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
