/* virq_line.c - an emulated device's interrupt line, reported in order outside its lock. */
#include "vmm/virq_line.h"

void virq_line_init(struct virq_line *l, spinlock_t *lock, void (*set_irq)(void *ctx, bool level),
                    void *ctx)
{
    l->lock = lock;
    l->set_irq = set_irq;
    l->ctx = ctx;
    l->level = false;
    l->busy = false;
}

void virq_line_unlock(struct virq_line *l, unsigned long flags, bool (*level)(const void *dev),
                      const void *dev)
{
    if (l->busy) {
        spin_unlock_irqrestore(l->lock, flags); /* the CPU reporting will see our change */
        return;
    }
    l->busy = true;
    for (;;) {
        bool now = level(dev);

        if (now == l->level)
            break;
        l->level = now;
        spin_unlock_irqrestore(l->lock, flags);
        l->set_irq(l->ctx, now);
        flags = spin_lock_irqsave(l->lock);
    }
    l->busy = false;
    spin_unlock_irqrestore(l->lock, flags);
}
