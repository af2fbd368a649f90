#!/usr/bin/env bash
# The system tools the tests drive for real (shells, systemd-analyze, openssl, ...).
# Installs the missing ones with apt-get when running as root on Debian; otherwise names
# them and fails: a test never skips because a tool is missing.
set -euo pipefail

# command -> Debian package
declare -A TOOLS=(
  [busybox]=busybox-static
  [dash]=dash
  [shellcheck]=shellcheck
  [systemd-analyze]=systemd
  [openssl]=openssl
  [dot]=graphviz
  [strace]=strace
  [unshare]=util-linux
  [sha256sum]=coreutils
  [chromium]=chromium
  [python3]=python3
  [git]=git
  [qemu-system-x86_64]=qemu-system-x86
  [mke2fs]=e2fsprogs
  [e2fsck]=e2fsprogs
  [debugfs]=e2fsprogs
  [cpio]=cpio
  [mmdebstrap]=mmdebstrap
  [rauc]=rauc
  [mksquashfs]=squashfs-tools
)

missing=()
for tool in "${!TOOLS[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${TOOLS[$tool]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing test tools: ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
else
  echo "The tests need these Debian packages: ${pkgs[*]}" >&2
  echo "Install them with: sudo apt-get install ${pkgs[*]}" >&2
  exit 1
fi
