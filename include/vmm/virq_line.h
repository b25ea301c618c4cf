/* virq_line.h - an emulated device's interrupt line, reported in the order it changed. */
#ifndef VMM_VIRQ_LINE_H
#define VMM_VIRQ_LINE_H

#include <stdbool.h>

#include "kernel/spinlock.h"

/*
 * A device model computes its line's level under its own lock but must report it (set_irq, which
 * takes the vGIC's locks) without: two CPUs could then report in the wrong order and leave the
 * line wrong. So one CPU at a time reports (busy) and re-reads the level after each call; changes
 * others make meanwhile are reported by it, in order. Every field is protected by the device's
 * lock; set_irq and ctx are fixed after init.
 */
struct virq_line {
    spinlock_t *lock; /* the device's */
    void (*set_irq)(void *ctx, bool level);
    void *ctx;
    bool level; /* the level last passed to set_irq */
    bool busy;  /* a CPU is in set_irq and re-checks the level before it stops */
};

/* The line starts low; set_irq is not called. */
void virq_line_init(struct virq_line *l, spinlock_t *lock, void (*set_irq)(void *ctx, bool level),
                    void *ctx);
/*
 * Called with l->lock held, taken by spin_lock_irqsave (flags): bring the line to level(dev), as
 * often as it changes meanwhile, and release the lock. level runs with the lock held.
 */
void virq_line_unlock(struct virq_line *l, unsigned long flags, bool (*level)(const void *dev),
                      const void *dev);

#endif
