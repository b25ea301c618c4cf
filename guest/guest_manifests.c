/* guest_manifests.c - the built-in guests; /guests/<name>/guest.cfg files add more at run time. */
#include "vmm/guests.h"

#define MiB (1UL << 20)

/*
 * TestOS and NimbOS are raw binaries entered at their first byte at IPA 0x4008_0000 (NimbOS's
 * contract (guest/nimbos/README.md): GICv2 view, EL1 physical timer, hvc PSCI, no DTB, 128 MiB from
 * 0x4000_0000). Linux is an arm64 Image placed by its header; its DTB is generated at start.
 */
const struct guest_manifest guest_manifests[] = {
    {
        .id = 0,
        .name = "testos",
        .kernel_path = "/guests/testos/testos.bin",
        .load_addr = 0x40080000,
        .entry = 0x40080000,
        .smp_cores = 2,
        .memory_size = 64 * MiB,
    },
    {
        .id = 1,
        .name = "nimbos",
        .kernel_path = "/guests/nimbos/nimbos.bin",
        .load_addr = 0x40080000,
        .entry = 0x40080000,
        .smp_cores = 1,
        .memory_size = 128 * MiB,
    },
    {
        .id = 2,
        .name = "linux",
        .kernel_path = "/guests/linux/Image",
        .initrd_path = "/guests/linux/initrd.cpio.gz",
        .smp_cores = 2,
        .memory_size = 128 * MiB,
        .bootargs = "console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init nokaslr",
    },
};

const unsigned guest_manifests_count = sizeof(guest_manifests) / sizeof(guest_manifests[0]);
