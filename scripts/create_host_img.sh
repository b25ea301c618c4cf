#!/bin/sh
# create_host_img.sh - makes host.img, the FAT32 disk Avatar attaches as virtio-blk (no sudo).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# mkfs.fat lives in /usr/sbin on Debian, which is not on a normal user's PATH.
PATH="$PATH:/usr/sbin:/sbin"

usage() {
    cat <<EOF
Usage: scripts/create_host_img.sh [-s SIZE_MiB] [-o IMAGE] [-n LABEL] [-f] [-h]

Creates an empty FAT32 image with mkfs.fat (dosfstools). No root rights are needed.

  -s SIZE_MiB  image size in MiB, at least 64 (default 256)
  -o IMAGE     output file (default: host.img in the repository root)
  -n LABEL     volume label, up to 11 characters (default AVATAR)
  -f           replace IMAGE if it exists; without -f an existing IMAGE is left alone
               and the script fails
  -h           print this help

The cluster size is the largest of 512 B .. 4 KiB that still gives more than 65525
clusters, the FAT32 minimum that mtools and other systems insist on.
Then copy guests in with scripts/setup_guest_files.sh.
EOF
}

die() {
    echo "create_host_img.sh: $*" >&2
    exit 1
}

size=256
out="$ROOT/host.img"
label=AVATAR
force=0
while getopts "s:o:n:fh" opt; do
    case $opt in
    s) size=$OPTARG ;;
    o) out=$OPTARG ;;
    n) label=$OPTARG ;;
    f) force=1 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }

case $size in
'' | *[!0-9]*) die "size must be a whole number of MiB, not '$size'" ;;
esac
[ "$size" -ge 64 ] || die "size must be at least 64 MiB (FAT32 needs more than 65525 clusters)"
[ "$size" -le 65536 ] || die "size above 64 GiB is not supported by this script"
[ ${#label} -le 11 ] || die "label '$label' is longer than 11 characters"
command -v mkfs.fat >/dev/null 2>&1 || die "mkfs.fat not found: install dosfstools"
if [ -e "$out" ] && [ "$force" -eq 0 ]; then
    die "$out exists; use -f to replace it"
fi

# Sectors per cluster: 8 (4 KiB) while that still leaves about 66000 clusters, else smaller.
spc=8
while [ "$spc" -gt 1 ] && [ $((size * 2048 / spc)) -lt 66000 ]; do
    spc=$((spc / 2))
done

# Build beside the target and rename, so a failure never leaves a half-made image.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT INT TERM
rm -f "$tmp"
mkfs.fat -F 32 -S 512 -s "$spc" -n "$label" -C "$tmp" $((size * 1024)) >/dev/null ||
    die "mkfs.fat failed"
mv -f "$tmp" "$out"
trap - EXIT INT TERM
echo "created $out: FAT32, $size MiB, $((spc * 512))-byte clusters, label $label"
