#!/bin/sh
# get_linux_guest.sh - the Linux guest from Debian packages: the arm64 kernel Image and a busybox
# initramfs, staged in BUILD_DIR/guests/linux/ for setup_guest_files.sh. Downloads are cached.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
build="${AVATAR_BUILD:-$ROOT/build}"
cache="$ROOT/guest/linux/cache"
KERNEL_PKG=linux-image-cloud-arm64:arm64
BUSYBOX_PKG=busybox-static:arm64
# Modules for /dev/vda and a FAT file system on it, and for eth0 (virtio_net needs net_failover,
# which needs failover): modules in the cloud kernel, in load order.
MODULES="virtio_ring virtio virtio_mmio virtio_blk fat vfat nls_cp437 nls_iso8859-1 nls_utf8 nls_ascii"
MODULES="$MODULES failover net_failover virtio_net"

usage() {
    cat <<USAGE
Usage: scripts/get_linux_guest.sh [-b BUILD_DIR] [-h]

Downloads $KERNEL_PKG and $BUSYBOX_PKG with apt-get download (cached in
guest/linux/cache/), extracts the kernel's Image and virtio modules, and builds an initramfs
(cpio newc, gzip) whose /init is busybox init: it mounts proc, sys and dev, loads the virtio
modules, brings eth0 up with DHCP in the background when there is one (udhcpc; the lease is
announced as "AVATAR-NET-UP eth0 <address>"), prints "AVATAR-LINUX-READY <n> cpus, counter <CNTVCT> <CNTFRQ>" and starts a shell on
the console.
Results: BUILD_DIR/guests/linux/Image and initrd.cpio.gz (then: make img).
USAGE
}

die() {
    echo "get_linux_guest.sh: $*" >&2
    exit 1
}

while getopts "b:h" opt; do
    case $opt in
    b) build=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
out="$build/guests/linux"
mkdir -p "$cache" "$out"
if [ -s "$out/Image" ] && [ -s "$out/initrd.cpio.gz" ] && [ "$out/initrd.cpio.gz" -nt "$0" ] &&
    [ "$out/initrd.cpio.gz" -nt "$ROOT/guest/linux/cntvct.c" ]; then
    echo "linux guest: $out is up to date"
    exit 0
fi

# apt-get download: the metapackage names the versioned kernel package, which has the files.
download() {
    ls "$cache"/"$1"_*.deb >/dev/null 2>&1 && return 0
    (cd "$cache" && apt-get download "$2" >/dev/null 2>&1) ||
        (apt-get update >/dev/null 2>&1 && cd "$cache" && apt-get download "$2" >/dev/null) ||
        die "apt-get download $2 failed (is the arm64 architecture added? scripts/deps.sh does it)"
}
kpkg=$(apt-cache depends "$KERNEL_PKG" 2>/dev/null | awk '/Depends: linux-image/ {print $2; exit}')
[ -n "$kpkg" ] || { apt-get update >/dev/null 2>&1 || true;
    kpkg=$(apt-cache depends "$KERNEL_PKG" | awk '/Depends: linux-image/ {print $2; exit}'); }
[ -n "$kpkg" ] || die "cannot resolve $KERNEL_PKG to a kernel package"
download "${kpkg%%:*}" "$kpkg"
download busybox-static "$BUSYBOX_PKG"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$(ls "$cache"/"${kpkg%%:*}"_*.deb | head -1)" "$work/k"
dpkg-deb -x "$(ls "$cache"/busybox-static_*.deb | head -1)" "$work/bb"
image=$(ls "$work"/k/boot/vmlinuz-* | head -1)
# An arm64 Image has "ARM\x64" at offset 0x38 (Documentation/arch/arm64/booting.rst).
[ "$(dd if="$image" bs=1 skip=56 count=4 2>/dev/null | od -An -c | tr -d ' ')" = 'ARMd' ] ||
    die "$image is not a raw arm64 Image"
cp "$image" "$out/Image"

r="$work/rootfs"
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc/init.d" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" \
    "$r/mnt" "$r/lib/modules" "$r/usr/share/udhcpc"
cp "$work/bb/bin/busybox" "$r/bin/busybox"
# The boot benchmark's clock (guest/linux/cntvct.c), built with the cross compiler.
aarch64-linux-gnu-gcc -O2 -static -nostdlib -ffreestanding -fno-stack-protector \
    -o "$r/bin/cntvct" "$ROOT/guest/linux/cntvct.c" || die "cannot build guest/linux/cntvct.c"
ln -s busybox "$r/bin/sh"
kver=$(basename "$(ls -d "$work"/k/lib/modules/* | head -1)")
for m in $MODULES; do
    f=$(find "$work/k/lib/modules/$kver" -name "$m.ko*" | head -1)
    [ -n "$f" ] && cp "$f" "$r/lib/modules/"
done
cat >"$r/init" <<'INIT'
#!/bin/sh
exec /bin/busybox init
INIT
# busybox udhcpc runs this script with $1 = deconfig, bound, renew, leasefail or nak and the lease in
# its environment (ip, subnet, broadcast, router, dns, domain); it has none built in.
cat >"$r/usr/share/udhcpc/default.script" <<'DHCP'
#!/bin/sh
case "$1" in
deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
bound | renew)
    ifconfig "$interface" "$ip" ${subnet:+netmask "$subnet"} ${broadcast:+broadcast "$broadcast"} up
    if [ -n "$router" ]; then
        while route del default dev "$interface" 2>/dev/null; do :; done
        for r in $router; do
            route add default gw "$r" dev "$interface" && break
        done
    fi
    : >/etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >>/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    [ "$1" = bound ] && echo "AVATAR-NET-UP $interface $ip" >/dev/console
    ;;
esac
exit 0
DHCP
cat >"$r/etc/inittab" <<'TAB'
::sysinit:/etc/init.d/rcS
ttyAMA0::respawn:-/bin/sh
::shutdown:/bin/busybox umount -a -r
TAB
cat >"$r/etc/init.d/rcS" <<RCS
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $MODULES; do
    for f in /lib/modules/\$m.ko*; do [ -e "\$f" ] && insmod "\$f" 2>/dev/null; done
done
ifconfig lo 127.0.0.1 up
# DHCP in the background, so a VM whose switch has no DHCP server boots as fast as one without a NIC.
if [ -e /sys/class/net/eth0 ]; then
    udhcpc -i eth0 -b -s /usr/share/udhcpc/default.script >/dev/null 2>&1 &
fi
echo "AVATAR-LINUX-READY \$(nproc) cpus, counter \$(/bin/cntvct)"
RCS
chmod +x "$r/init" "$r/etc/init.d/rcS" "$r/usr/share/udhcpc/default.script"
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.cpio.gz"
echo "linux guest: $kpkg ($kver) -> $out/Image, initrd.cpio.gz ($(ls "$r/lib/modules" | wc -l) modules)"
