/* sync.h - sleeping synchronisation: mutex (owner, priority inheritance), semaphore, condvar. */
#ifndef KERNEL_SYNC_H
#define KERNEL_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/thread.h"
#include "kernel/wait.h"
#include "lib/list.h"

/**
 * A sleeping lock with an owner. Free and uncontended it is one compare-and-swap of owner. Once a
 * thread waits, mutex.c's priority-inheritance lock protects waiters and pi_link and every change
 * of owner: the owner runs at least at its most important waiter's priority, and unlock hands the
 * mutex to that waiter directly (no barging, no starvation).
 */
struct mutex {
    uintptr_t owner;          /* struct thread * | MUTEX_WAITERS; 0 when free */
    struct list_node waiters; /* struct wait_entry */
    struct list_node pi_link; /* in the owner's pi_mutexes while there are waiters */
};

#define MUTEX_WAITERS 1UL
#define MUTEX_INIT(name)                                                                           \
    {                                                                                              \
        0, {&(name).waiters, &(name).waiters},                                                     \
        {                                                                                          \
            &(name).pi_link, &(name).pi_link                                                       \
        }                                                                                          \
    }

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m); /* by the owner only: anyone else is a bug (panic) */
struct thread *mutex_owner(const struct mutex *m);
/* Set t's base priority, keeping what it inherits from its mutexes' waiters (thread.c). */
void mutex_set_base_priority(struct thread *t, int prio);

/** A counting semaphore. wq.lock protects count. */
struct semaphore {
    struct wait_queue wq;
    unsigned int count;
};

void semaphore_init(struct semaphore *s, unsigned int count);
void semaphore_down(struct semaphore *s);
/* 0, or -ETIMEDOUT once the system counter reaches deadline. */
int semaphore_down_until(struct semaphore *s, uint64_t deadline);
int semaphore_down_timeout_ns(struct semaphore *s, uint64_t ns);
bool semaphore_trydown(struct semaphore *s);
/* Also from IRQ handlers (e.g. a device completion). */
void semaphore_up(struct semaphore *s);

/** A condition variable, used with a mutex that protects the condition. */
struct condvar {
    struct wait_queue wq;
};

void condvar_init(struct condvar *cv);
/* Release m, sleep until signalled, take m again. Wake-ups may be spurious: recheck in a loop. */
void condvar_wait(struct condvar *cv, struct mutex *m);
/* Same with a deadline: 0 if signalled, -ETIMEDOUT if the deadline passed first. */
int condvar_wait_until(struct condvar *cv, struct mutex *m, uint64_t deadline);
void condvar_signal(struct condvar *cv);
void condvar_broadcast(struct condvar *cv);

#endif
