/* semaphore.c - counting semaphore on a wait queue (its lock protects the count). */
#include "kernel/sync.h"

void semaphore_init(struct semaphore *s, unsigned int count)
{
    wait_queue_init(&s->wq);
    s->count = count;
}

int semaphore_down_until(struct semaphore *s, uint64_t deadline)
{
    unsigned long flags = spin_lock_irqsave(&s->wq.lock);
    int err = 0;

    /* A woken waiter can find the count taken by a thread that came by meanwhile: sleep again. */
    while (s->count == 0 && !err)
        err = wait_sleep_locked(&s->wq, &flags, deadline);
    if (s->count == 0) {
        spin_unlock_irqrestore(&s->wq.lock, flags);
        return -ETIMEDOUT;
    }
    s->count--;
    spin_unlock_irqrestore(&s->wq.lock, flags);
    return 0;
}

void semaphore_down(struct semaphore *s)
{
    semaphore_down_until(s, SCHED_NO_DEADLINE);
}

int semaphore_down_timeout_ns(struct semaphore *s, uint64_t ns)
{
    return semaphore_down_until(s, timer_counter() + timer_ns_to_ticks(ns));
}

bool semaphore_trydown(struct semaphore *s)
{
    unsigned long flags = spin_lock_irqsave(&s->wq.lock);
    bool taken = s->count > 0;

    if (taken)
        s->count--;
    spin_unlock_irqrestore(&s->wq.lock, flags);
    return taken;
}

void semaphore_up(struct semaphore *s)
{
    unsigned long flags = spin_lock_irqsave(&s->wq.lock);

    s->count++;
    wait_wake_one_locked(&s->wq);
    spin_unlock_irqrestore(&s->wq.lock, flags);
}
