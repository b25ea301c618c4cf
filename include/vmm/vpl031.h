/* vpl031.h - an emulated Arm PL031 real-time clock (PrimeCell RTC TRM DDI 0224) for one guest. */
#ifndef VMM_PL031_H
#define VMM_PL031_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pl031.h"
#include "kernel/spinlock.h"

/*
 * Where the clock comes from and where its interrupt goes. now: the host's wall clock in seconds
 * since the epoch. set_irq: the interrupt line (MIS != 0) changed. alarm_changed: a write moved
 * the second at which the line rises (vpl031_alarm), so a timer waiting for it must look again.
 * set_irq and alarm_changed are called with the RTC's lock held, so they may take other locks
 * (the vGIC's, a wait queue's) but not call back into the RTC.
 */
struct vpl031_ops {
    uint64_t (*now)(void *ctx);
    void (*set_irq)(void *ctx, bool level);
    void (*alarm_changed)(void *ctx);
};

/** One guest's RTC. lock protects every field below it; ops and ctx are fixed after init. */
struct vpl031 {
    const struct vpl031_ops *ops;
    void *ctx;
    spinlock_t lock;
    uint32_t offset;  /* DR minus the host's seconds (mod 2^32): moved by a write to LR */
    uint32_t last_dr; /* DR when the match was last checked: a match is DR passing MR */
    uint32_t mr, lr, imsc, ris;
    bool irq_line; /* the level last passed to set_irq */
};

/* Bind ops/ctx and reset: DR follows the host's clock, no match pending, interrupt masked. */
void vpl031_init(struct vpl031 *r, const struct vpl031_ops *ops, void *ctx);

/*
 * A guest access at offset (0..0xfff) of 1, 2 or 4 bytes, naturally aligned: 0, or -EINVAL for
 * any other access (the caller stops the guest). A write at a register's offset acts with the
 * value zero-extended; a write into the middle of a register, and any write to an unknown offset,
 * is ignored (as on QEMU's PL031). Unknown offsets read as zero.
 */
int vpl031_read(struct vpl031 *r, uint64_t offset, unsigned size, uint64_t *val);
int vpl031_write(struct vpl031 *r, uint64_t offset, unsigned size, uint64_t val);

/*
 * Bring the match interrupt up to now: DR may have passed MR since the last access. Every
 * access does this first; a timer calls it at the second vpl031_alarm names.
 */
void vpl031_update(struct vpl031 *r);

/*
 * The host second (ops->now's clock) at which DR reaches MR and the line rises: true with it in
 * *host_seconds, false when nothing would rise (the interrupt masked, or already raised).
 */
bool vpl031_alarm(struct vpl031 *r, uint64_t *host_seconds);

#endif
