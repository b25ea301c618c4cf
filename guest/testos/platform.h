/* platform.h - what TestOS runs on: from the DTB, or NimbOS's fixed contract (no DTB). */
#ifndef TESTOS_PLATFORM_H
#define TESTOS_PLATFORM_H

#include "arch.h"
#include "config.h"

enum psci_conduit { PSCI_NONE, PSCI_HVC, PSCI_SMC };

/** Everything TestOS uses, with where it came from. Written once by platform_init. */
struct platform {
    bool nimbos;     /* built NimbOS-like: fixed resources, x0 ignored */
    const void *dtb; /* NULL in the NimbOS-like build */
    uint32_t dtb_size;
    uint64_t ram_base, ram_size;
    unsigned int ncpus;
    uint64_t mpidr[TESTOS_MAX_CPUS]; /* index 0 is the boot CPU */
    unsigned int gic_version;
    uintptr_t gicd, gicc, gicr;
    uint64_t gicr_size;
    uintptr_t uart;
    unsigned int uart_irq;
    unsigned int vtimer_irq; /* 0: not used (NimbOS-like) */
    unsigned int ptimer_irq;
    unsigned int nvirtio; /* virtio-mmio transports in the DTB (QEMU virt has 32, mostly empty) */
    uintptr_t virtio[TESTOS_MAX_VIRTIO];
    unsigned int virtio_irq[TESTOS_MAX_VIRTIO];
    enum psci_conduit conduit;
    bool psci_probe; /* VERSION, FEATURES, CPU_ON: not part of the NimbOS contract */
    const char *bootargs;
    uint32_t bootargs_len;
};

extern struct platform platform;

void platform_init(uint64_t dtb_addr);
bool platform_bootarg(const char *word);
const char *platform_conduit_name(void);

#endif
