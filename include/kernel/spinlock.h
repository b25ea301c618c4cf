/* spinlock.h - ticket spinlocks (fair between CPUs); the _irqsave forms also mask local IRQs. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>

#include "arch/irqflags.h"

typedef struct {
    uint16_t next;  /* ticket handed to the next arrival */
    uint16_t owner; /* ticket now holding the lock */
} spinlock_t;

#define SPINLOCK_INIT {0, 0}

static inline void spin_init(spinlock_t *lock)
{
    lock->next = 0;
    lock->owner = 0;
}

static inline void spin_lock(spinlock_t *lock)
{
    uint16_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
        arch_cpu_relax();
}

static inline int spin_trylock(spinlock_t *lock)
{
    uint16_t owner = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
    uint16_t expect = owner;

    return __atomic_compare_exchange_n(&lock->next, &expect, (uint16_t)(owner + 1), 0,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *lock)
{
    __atomic_store_n(&lock->owner, (uint16_t)(lock->owner + 1), __ATOMIC_RELEASE);
}

static inline unsigned long spin_lock_irqsave(spinlock_t *lock)
{
    unsigned long flags = arch_irq_save();

    spin_lock(lock);
    return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
    spin_unlock(lock);
    arch_irq_restore(flags);
}

#endif
