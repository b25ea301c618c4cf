#!/usr/bin/env bash
# deps.sh - install the Debian packages Avatar needs; quiet and quick when all are present.
set -euo pipefail

need=()
check() { # check <command> <package>
    command -v "$1" >/dev/null 2>&1 || need+=("$2")
}
check aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
check qemu-system-aarch64 qemu-system-arm
check mcopy mtools
check mkfs.fat dosfstools
check dtc device-tree-compiler
check gdb-multiarch gdb-multiarch
check cpio cpio
check python3 python3
check cc gcc
check clang-format clang-format
check clang clang
# User programs (app/) link statically against Debian's musl for arm64, a foreign architecture.
if [ ! -f /usr/lib/aarch64-linux-musl/libc.a ]; then
    need+=("musl-dev:arm64")
    dpkg --print-foreign-architectures | grep -qx arm64 || foreign_arch=arm64
fi

[ ${#need[@]} -eq 0 ] && exit 0

echo "deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
[ -n "${foreign_arch:-}" ] && $SUDO dpkg --add-architecture "$foreign_arch"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
