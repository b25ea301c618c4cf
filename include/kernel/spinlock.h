/* spinlock.h - ticket spinlocks (fair between CPUs, not preemptible); _irqsave also masks IRQs. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>

#include "arch/irqflags.h"
#include "kernel/preempt.h"

typedef struct {
    uint16_t next;  /* ticket handed to the next arrival */
    uint16_t owner; /* ticket now holding the lock */
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
    {                                                                                              \
        0, 0                                                                                       \
    }

static inline void spin_init(spinlock_t *lock)
{
    lock->next = 0;
    lock->owner = 0;
}

/* Take the ticket; the caller has already made itself non-preemptible. */
static inline void spin_acquire(spinlock_t *lock)
{
    uint16_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
        arch_cpu_relax();
}

static inline void spin_release(spinlock_t *lock)
{
    __atomic_store_n(&lock->owner, (uint16_t)(lock->owner + 1), __ATOMIC_RELEASE);
}

/*
 * A holder is never preempted (kernel/preempt.h): a thread switched out with a lock held would make
 * every other CPU wanting it spin until that thread runs again.
 */
static inline void spin_lock(spinlock_t *lock)
{
    preempt_disable();
    spin_acquire(lock);
}

static inline int spin_trylock(spinlock_t *lock)
{
    preempt_disable();
    uint16_t owner = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
    uint16_t expect = owner;

    if (__atomic_compare_exchange_n(&lock->next, &expect, (uint16_t)(owner + 1), 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return 1;
    preempt_enable();
    return 0;
}

static inline void spin_unlock(spinlock_t *lock)
{
    spin_release(lock);
    preempt_enable();
}

static inline unsigned long spin_lock_irqsave(spinlock_t *lock)
{
    unsigned long flags = arch_irq_save();

    preempt_disable_irqoff();
    spin_acquire(lock);
    return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
    spin_release(lock);
    preempt_enable_irqrestore(flags);
}

#endif
