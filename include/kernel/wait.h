/* wait.h - wait queues: threads sleep until a condition holds or a deadline passes. */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/list.h"

/** Sleeping threads, most important first (FIFO within a priority). lock protects waiters. */
struct wait_queue {
    spinlock_t lock;
    struct list_node waiters; /* struct wait_entry */
};

#define WAIT_QUEUE_INIT(name)                                                                      \
    {                                                                                              \
        SPINLOCK_INIT,                                                                             \
        {                                                                                          \
            &(name).waiters, &(name).waiters                                                       \
        }                                                                                          \
    }

/** A sleeper's place in a queue, on its own stack. A waker unlinks it before waking it. */
struct wait_entry {
    struct list_node link; /* wait_queue lock; points to itself when not queued */
    struct thread *thread;
};

#define WAIT_ENTRY_INIT(name)                                                                      \
    {                                                                                              \
        {&(name).link, &(name).link}, NULL                                                         \
    }

void wait_queue_init(struct wait_queue *wq);

/* Wake the most important waiter / all of them; from any context, IRQ handlers included. */
bool wait_wake_one(struct wait_queue *wq);
unsigned int wait_wake_all(struct wait_queue *wq);
/* Same, for callers already holding wq->lock. */
bool wait_wake_one_locked(struct wait_queue *wq);
unsigned int wait_wake_all_locked(struct wait_queue *wq);

/*
 * For primitives whose state wq->lock protects (semaphore): with the lock held (flags from
 * spin_lock_irqsave), sleep until a waker picks us (0) or deadline passes (-ETIMEDOUT); the lock
 * is dropped meanwhile and held again on return.
 */
int wait_sleep_locked(struct wait_queue *wq, unsigned long *flags, uint64_t deadline);

/*
 * The two halves of a condition wait, for wait_event_until() and condvar.c: queue the running
 * thread and mark it blocking (again, after a wake-up); then, after sched_block_until(), leave the
 * queue. The entry starts as WAIT_ENTRY_INIT. wait_finish() returns true if a waker had taken the
 * entry off the queue.
 */
void wait_prepare(struct wait_queue *wq, struct wait_entry *entry);
bool wait_finish(struct wait_queue *wq, struct wait_entry *entry);

/*
 * Sleep until cond is true (0) or the system counter reaches deadline (-ETIMEDOUT; deadline
 * SCHED_NO_DEADLINE: never). cond is evaluated in the sleeper with its wait already published, so
 * a waker that makes it true and then calls wait_wake_*() is never missed. cond must not sleep.
 */
#define wait_event_until(wq, cond, deadline)                                                       \
    ({                                                                                             \
        struct wait_entry wait_entry_ = WAIT_ENTRY_INIT(wait_entry_);                              \
        int wait_ret_ = 0;                                                                         \
        for (;;) {                                                                                 \
            wait_prepare((wq), &wait_entry_);                                                      \
            if (cond)                                                                              \
                break;                                                                             \
            if (sched_block_until(deadline)) {                                                     \
                wait_ret_ = (cond) ? 0 : -ETIMEDOUT;                                               \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        wait_finish((wq), &wait_entry_);                                                           \
        wait_ret_;                                                                                 \
    })

#define wait_event(wq, cond) ((void)wait_event_until((wq), (cond), SCHED_NO_DEADLINE))
#define wait_event_timeout_ns(wq, cond, ns)                                                        \
    wait_event_until((wq), (cond), timer_counter() + timer_ns_to_ticks(ns))

#endif
