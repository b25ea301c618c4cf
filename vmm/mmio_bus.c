/* mmio_bus.c - a VM's emulated devices by guest-physical address: register once, find per exit. */
#include "vmm/mmio_bus.h"

#include <stddef.h>

#include "lib/errno.h"

void mmio_bus_init(struct mmio_bus *b)
{
    b->n = 0;
    b->hint = 0;
    b->r[0] = (struct mmio_region){0}; /* the hint's region until the first one is registered */
}

static bool holds(const struct mmio_region *r, uint64_t addr)
{
    return addr >= r->base && addr - r->base < r->size;
}

int mmio_bus_register(struct mmio_bus *b, uint64_t base, uint64_t size, const struct mmio_ops *ops,
                      void *ctx)
{
    unsigned i = 0;

    if (!size || base + size < base || !ops || !ops->read || !ops->write)
        return -EINVAL;
    while (i < b->n && b->r[i].base < base)
        i++;
    /* Disjoint from the one before (ends at or below base) and the one after (starts at or above
     * base + size). */
    if ((i > 0 && b->r[i - 1].base + b->r[i - 1].size > base) ||
        (i < b->n && b->r[i].base < base + size))
        return -EBUSY;
    if (b->n == MMIO_BUS_MAX)
        return -ENOSPC;
    for (unsigned j = b->n; j > i; j--)
        b->r[j] = b->r[j - 1];
    b->r[i] = (struct mmio_region){base, size, ops, ctx};
    b->n++;
    return 0;
}

const struct mmio_region *mmio_bus_search(struct mmio_bus *b, uint64_t addr)
{
    unsigned lo = 0, hi = b->n; /* the answer, if any, is in [lo, hi) */

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (addr < b->r[mid].base) {
            hi = mid;
        } else if (holds(&b->r[mid], addr)) {
            __atomic_store_n(&b->hint, mid, __ATOMIC_RELAXED);
            return &b->r[mid];
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}
