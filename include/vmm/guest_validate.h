/* guest_validate.h - is a guest ready to start: its files, its kernel, its fit in RAM. */
#ifndef VMM_GUEST_VALIDATE_H
#define VMM_GUEST_VALIDATE_H

#include <stdint.h>

#include "vmm/loader.h"
#include "vmm/manifest.h"

#define GUEST_PROBLEM_MAX 320 /* bytes of one problem line */

/** Something the host keeps for itself (RAM, its console, its disk): never a guest's. */
struct guest_host_resource {
    uint64_t base, size; /* MMIO or RAM range; size 0: none */
    uint32_t irq;        /* INTID the host uses, 0: none */
    const char *what;    /* for messages: "RAM", "console PL011", "disk vda" */
};

struct guest_host {
    const struct guest_host_resource *res;
    unsigned nres;
};

typedef void (*guest_problem_fn)(void *ctx, const char *problem);

/*
 * Check a guest against the mounted files and the host: kernel, dtb, initrd and disk images
 * exist and are readable; the kernel's format is recognised and its headers consistent; the dtb
 * is a well-formed device tree; kernel, dtb (the file, or room for a generated one) and initrd
 * fit in the guest's RAM without overlaps; passthrough ranges and interrupts are none of the
 * host's. Each problem is passed to problem() as one line (e.g. "kernel /guests/x/k.bin: no
 * such file or directory"). Returns the number of problems; with none, *plan says where
 * everything goes.
 */
int guest_validate(const struct guest_manifest *m, const struct guest_host *host,
                   struct load_plan *plan, guest_problem_fn problem, void *ctx);

#endif
