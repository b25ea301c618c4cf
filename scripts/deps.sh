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

[ ${#need[@]} -eq 0 ] && exit 0

echo "deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
