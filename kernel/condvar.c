/* condvar.c - condition variable: a wait queue whose sleepers release a mutex while they sleep. */
#include "kernel/sync.h"

void condvar_init(struct condvar *cv)
{
    wait_queue_init(&cv->wq);
}

int condvar_wait_until(struct condvar *cv, struct mutex *m, uint64_t deadline)
{
    struct wait_entry entry = WAIT_ENTRY_INIT(entry);

    /* Queued before m is released: a signal sent by the next holder of m finds us. */
    wait_prepare(&cv->wq, &entry);
    mutex_unlock(m);
    bool expired = sched_block_until(deadline);
    bool signalled = wait_finish(&cv->wq, &entry);
    mutex_lock(m);
    return signalled || !expired ? 0 : -ETIMEDOUT;
}

void condvar_wait(struct condvar *cv, struct mutex *m)
{
    condvar_wait_until(cv, m, SCHED_NO_DEADLINE);
}

void condvar_signal(struct condvar *cv)
{
    wait_wake_one(&cv->wq);
}

void condvar_broadcast(struct condvar *cv)
{
    wait_wake_all(&cv->wq);
}
