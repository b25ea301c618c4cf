/* wait.c - wait queues: priority-ordered sleepers, woken one or all, with deadlines. */
#include "kernel/wait.h"
#include "kernel/thread.h"

void wait_queue_init(struct wait_queue *wq)
{
    spin_init(&wq->lock);
    list_init(&wq->waiters);
}

/* Caller holds wq->lock. Behind every waiter at least as important as the sleeper. */
static void wait_insert(struct wait_queue *wq, struct wait_entry *entry)
{
    int prio = entry->thread->rq_link.prio;
    struct list_node *pos;

    for (pos = wq->waiters.next; pos != &wq->waiters; pos = pos->next) {
        if (list_entry(pos, struct wait_entry, link)->thread->rq_link.prio < prio)
            break;
    }
    list_insert_between(&entry->link, pos->prev, pos);
}

bool wait_wake_one_locked(struct wait_queue *wq)
{
    if (list_empty(&wq->waiters))
        return false;
    struct wait_entry *e = list_entry(wq->waiters.next, struct wait_entry, link);
    struct thread *t = e->thread;

    /* Unlinked first: the sleeper reads "no longer queued" as "a waker chose me". */
    list_del(&e->link);
    sched_wake(t);
    return true;
}

unsigned int wait_wake_all_locked(struct wait_queue *wq)
{
    unsigned int n = 0;

    while (wait_wake_one_locked(wq))
        n++;
    return n;
}

bool wait_wake_one(struct wait_queue *wq)
{
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    bool woke = wait_wake_one_locked(wq);

    spin_unlock_irqrestore(&wq->lock, flags);
    return woke;
}

unsigned int wait_wake_all(struct wait_queue *wq)
{
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    unsigned int n = wait_wake_all_locked(wq);

    spin_unlock_irqrestore(&wq->lock, flags);
    return n;
}

int wait_sleep_locked(struct wait_queue *wq, unsigned long *flags, uint64_t deadline)
{
    struct wait_entry entry = {.thread = thread_current()};

    wait_insert(wq, &entry);
    for (;;) {
        /* Blocking is announced before the lock drops, so a wake-up in between is kept. */
        sched_prepare_block();
        spin_unlock_irqrestore(&wq->lock, *flags);
        bool expired = sched_block_until(deadline);
        *flags = spin_lock_irqsave(&wq->lock);
        if (list_empty(&entry.link))
            return 0;
        if (expired) {
            list_del(&entry.link);
            return -ETIMEDOUT;
        }
    }
}

void wait_prepare(struct wait_queue *wq, struct wait_entry *entry)
{
    unsigned long flags = spin_lock_irqsave(&wq->lock);

    if (list_empty(&entry->link)) {
        entry->thread = thread_current();
        wait_insert(wq, entry);
    }
    sched_prepare_block();
    spin_unlock_irqrestore(&wq->lock, flags);
}

bool wait_finish(struct wait_queue *wq, struct wait_entry *entry)
{
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    bool woken = list_empty(&entry->link);

    list_del(&entry->link);
    /* It may not have slept at all (the condition held): it is running, say so. */
    entry->thread->state = THREAD_RUNNING;
    spin_unlock_irqrestore(&wq->lock, flags);
    return woken;
}
