/* mmio_bus.h - a VM's emulated devices by guest-physical address, as a stage-2 data abort finds
 * them. */
#ifndef VMM_MMIO_BUS_H
#define VMM_MMIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/*
 * A device's registers. off counts from the region's base; size is 1, 2, 4 or 8 and the access
 * is naturally aligned or not, as the guest made it: the device checks. Returns 0, or an errno
 * the data-abort path reports (-ENOENT: nothing answers there after all; anything else: the
 * device refused the access and the VM stops). Called in the vCPU's trap, IRQs masked: no sleep.
 */
struct mmio_ops {
    int (*read)(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val);
    int (*write)(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val);
};

struct mmio_region {
    uint64_t base, size;
    const struct mmio_ops *ops;
    void *ctx;
};

/* GIC, UART, RTC and the 32 virtio slots (runs of unused slots share one region) fit with room. */
#define MMIO_BUS_MAX 40

/*
 * The regions, ascending and disjoint. Written only while the VM is built (vm_boot, before its
 * vCPUs run) and read by its vCPUs afterwards; hint (the last region found) is only a guess,
 * checked before it is used, so vCPUs may race on it.
 */
struct mmio_bus {
    unsigned n;
    unsigned hint;
    struct mmio_region r[MMIO_BUS_MAX];
};

void mmio_bus_init(struct mmio_bus *b);
/* Add [base, base + size): 0, -EINVAL (empty or wrapping), -EBUSY (overlaps one), -ENOSPC. */
int mmio_bus_register(struct mmio_bus *b, uint64_t base, uint64_t size, const struct mmio_ops *ops,
                      void *ctx);
/* The region holding addr, or NULL, by binary search (remembered as the hint). */
const struct mmio_region *mmio_bus_search(struct mmio_bus *b, uint64_t addr);

/*
 * The region holding addr, or NULL. A guest driver polls one device's registers in a row, so most
 * exits hit the last region found: tested inline, with one compare (r[hint] is always a region
 * or, before the first register, an empty one).
 */
static inline const struct mmio_region *mmio_bus_find(struct mmio_bus *b, uint64_t addr)
{
    const struct mmio_region *r = &b->r[__atomic_load_n(&b->hint, __ATOMIC_RELAXED)];

    if (addr - r->base < r->size)
        return r;
    return mmio_bus_search(b, addr);
}

#endif
