#!/bin/sh
# gen_dtbs.sh OUTDIR - dumps QEMU virt device trees (GICv2/v3, with and without EL2) and compiles
# one hand-written tree with dtc, as inputs for tests/unit/test_fdt.c. Skips files already current.
set -eu

out=${1:?usage: gen_dtbs.sh OUTDIR}
qemu=${QEMU:-qemu-system-aarch64}
mkdir -p "$out"

# Regenerate a file when it is missing or older than this script.
stale() {
    [ ! -s "$1" ] || [ "$0" -nt "$1" ]
}

dump() { # name machine-options
    f="$out/$1.dtb"
    stale "$f" || return 0
    "$qemu" -M "virt,$2,dumpdtb=$f.tmp" -cpu cortex-a72 -smp 4 -m 256M -nographic -nic none \
        >/dev/null 2>&1 || { echo "gen_dtbs: $qemu failed for $1" >&2; exit 1; }
    mv "$f.tmp" "$f"
}

dump virt-gicv2 gic-version=2
dump virt-gicv2-virt gic-version=2,virtualization=on
dump virt-gicv3 gic-version=3
dump virt-gicv3-virt gic-version=3,virtualization=on

# Features QEMU does not produce: /memreserve/, /reserved-memory, a stdout-path alias with
# options, 32-bit address cells, 32-bit initrd cells, a second PL011, a translated bus,
# a disabled device and virtio nodes out of address order.
f="$out/custom.dtb"
if stale "$f"; then
    dtc -I dts -O dtb -o "$f.tmp" - <<'EOF'
/dts-v1/;
/memreserve/ 0x48000000 0x10000;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    interrupt-parent = <&gic>;
    model = "avatar,custom";

    aliases {
        serial1 = "/pl011@9040000";
    };
    chosen {
        bootargs = "console=ttyAMA1 root=/dev/vda";
        stdout-path = "serial1:115200n8";
        linux,initrd-start = <0x44000000>;
        linux,initrd-end = <0x44100000>;
    };
    memory@80000000 {
        device_type = "memory";
        reg = <0x80000000 0x20000000 0xc0000000 0x10000000>;
    };
    reserved-memory {
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        fw@8f000000 {
            reg = <0x8f000000 0x100000>;
            no-map;
        };
        pool {
            size = <0x100000>;
        };
    };
    cpus {
        #address-cells = <2>;
        #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0 0x0>; };
        cpu@100 { device_type = "cpu"; reg = <0 0x100>; };
        cpu@10000 { device_type = "cpu"; reg = <0x1 0x10000>; };
    };
    psci {
        compatible = "arm,psci-0.2";
        method = "smc";
    };
    gic: interrupt-controller@2f000000 {
        compatible = "arm,gic-400";
        #address-cells = <0>;
        #interrupt-cells = <3>;
        interrupt-controller;
        reg = <0x2f000000 0x1000 0x2f002000 0x2000 0x2f004000 0x2000 0x2f006000 0x2000>;
        interrupts = <1 9 0xf04>;
    };
    timer {
        compatible = "arm,armv8-timer";
        interrupts = <1 13 0xf08 1 14 0xf08 1 11 0xf08 1 10 0xf08>;
    };
    pl011@9000000 {
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x9000000 0x1000>;
        interrupts = <0 1 4>;
    };
    pl011@9040000 {
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x9040000 0x1000>;
        interrupts = <0 8 4>;
    };
    virtio_mmio@a000400 {
        compatible = "virtio,mmio";
        reg = <0xa000400 0x200>;
        interrupts = <0 18 1>;
    };
    virtio_mmio@a000000 {
        compatible = "virtio,mmio";
        reg = <0xa000000 0x200>;
        interrupts = <0 16 1>;
    };
    virtio_mmio@a000200 {
        compatible = "virtio,mmio";
        reg = <0xa000200 0x200>;
        interrupts = <0 17 1>;
        status = "disabled";
    };
    bus@20000000 {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x0 0x20000000 0x100000>;
        virtio_mmio@1000 {
            compatible = "virtio,mmio";
            reg = <0x1000 0x200>;
            interrupts = <0 40 1>;
        };
    };
};
EOF
    mv "$f.tmp" "$f"
fi
