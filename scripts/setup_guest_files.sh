#!/bin/sh
# setup_guest_files.sh - copies staged guest images, manifests and user programs into host.img
# with mtools (no sudo, no loop mounts).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# mtools refuses FAT32 images that lack partition-table geometry unless told not to check.
export MTOOLS_SKIP_CHECK=1

usage() {
    cat <<EOF
Usage: scripts/setup_guest_files.sh [-i IMAGE] [-b BUILD_DIR] [-h]

Copies files into a FAT32 image (made by scripts/create_host_img.sh) with mtools.
No root rights are needed.

  For each guest/<name>/ directory of the repository that has files staged under
  BUILD_DIR/guests/<name>/ (kernel image, dtb, initrd, guest.cfg, ...), those files
  are copied to /guests/<name>/ on the image, subdirectories included.
  Files in BUILD_DIR/app/ are copied to /bin/.
  Debian's busybox, if its busybox-static .deb is cached in guest/linux/cache/ (make
  linux-guest downloads it), is copied to /bin/busybox: \`run busybox sh\` at the EL1 prompt.
  Existing files of the same name are replaced; nothing else on the image changes.

  -i IMAGE      image to fill (default: host.img in the repository root)
  -b BUILD_DIR  build directory (default: \$AVATAR_BUILD, else build in the repository root)
  -h            print this help
EOF
}

die() {
    echo "setup_guest_files.sh: $*" >&2
    exit 1
}

img="$ROOT/host.img"
build="${AVATAR_BUILD:-$ROOT/build}"
while getopts "i:b:h" opt; do
    case $opt in
    i) img=$OPTARG ;;
    b) build=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
case $build in
/*) ;;
*) build="$(pwd)/$build" ;;
esac

command -v mcopy >/dev/null 2>&1 || die "mcopy not found: install mtools"
[ -f "$img" ] || die "no image $img: run scripts/create_host_img.sh first"

# Makes directory $1 on the image unless it is already there.
ensure_dir() {
    if ! mdir -i "$img" "::$1" >/dev/null 2>&1; then
        mmd -i "$img" "::$1" || die "cannot create $1 on $img"
    fi
}

# Copies every entry of host directory $1 into image directory $2, replacing old copies.
copy_dir() {
    for f in "$1"/* "$1"/.[!.]*; do
        [ -e "$f" ] || continue
        mcopy -s -o -i "$img" "$f" "::$2/" || die "cannot copy $f to $2 on $img"
        echo "  $f -> $2/$(basename "$f")"
        copied=$((copied + 1))
    done
}

copied=0
for gdir in "$ROOT"/guest/*/; do
    [ -d "$gdir" ] || continue
    name=$(basename "$gdir")
    staged="$build/guests/$name"
    # A kernel the user put in the source tree (guest/nimbos/nimbos.bin) goes along too.
    for f in "$gdir"*.bin; do
        [ -f "$f" ] || continue
        ensure_dir /guests
        ensure_dir "/guests/$name"
        mcopy -o -i "$img" "$f" "::/guests/$name/" || die "cannot copy $f on $img"
        echo "  $f -> /guests/$name/$(basename "$f")"
        copied=$((copied + 1))
    done
    if [ ! -d "$staged" ] || [ -z "$(ls -A "$staged")" ]; then
        continue
    fi
    ensure_dir /guests
    ensure_dir "/guests/$name"
    copy_dir "$staged" "/guests/$name"
done
if [ -d "$build/app" ] && [ -n "$(ls -A "$build/app")" ]; then
    ensure_dir /bin
    copy_dir "$build/app" /bin
fi
deb=$(ls "$ROOT"/guest/linux/cache/busybox-static_*.deb 2>/dev/null | tail -1)
if [ -n "$deb" ] && command -v dpkg-deb >/dev/null 2>&1; then
    bb=$(mktemp -d)
    dpkg-deb -x "$deb" "$bb" || die "cannot extract $deb"
    ensure_dir /bin
    mcopy -o -i "$img" "$bb/bin/busybox" ::/bin/busybox || die "cannot copy busybox to $img"
    echo "  $deb -> /bin/busybox"
    copied=$((copied + 1))
    rm -rf "$bb"
fi
if [ "$copied" -eq 0 ]; then
    echo "nothing staged under $build/guests/<name>/ or $build/app/; $img unchanged"
else
    echo "copied $copied item(s) into $img"
fi
