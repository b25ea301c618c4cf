/* timeout.c - per-CPU deadline queues, sorted, expired by the CPU's one-shot timer (timer.c). */
#include "kernel/timeout.h"
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

/**
 * Threads with a deadline on one CPU. lock protects the list and the tq fields of the threads on
 * it (struct thread). Lock order: a timeout queue, then run queues (expiry wakes under the lock,
 * so timeout_cancel() can promise that no wake-up for the thread is still in flight).
 */
struct timeout_queue {
    spinlock_t lock;
    struct list_node threads; /* by deadline, earliest first */
};

static struct timeout_queue queues[MAX_CPUS];

void timeout_init(void)
{
    for (unsigned int i = 0; i < MAX_CPUS; i++) {
        spin_init(&queues[i].lock);
        list_init(&queues[i].threads);
    }
}

void timeout_arm(struct thread *t, uint64_t deadline)
{
    /* IRQs masked first: the CPU read must stay the CPU whose timer we program. */
    unsigned long flags = arch_irq_save();
    unsigned int cpu = cpu_id();
    struct timeout_queue *q = &queues[cpu];
    struct list_node *pos;

    spin_lock(&q->lock);
    t->deadline = deadline;
    t->timeout_cpu = cpu;
    for (pos = q->threads.next; pos != &q->threads; pos = pos->next) {
        if (list_entry(pos, struct thread, timeout_link)->deadline > deadline)
            break;
    }
    list_insert_between(&t->timeout_link, pos->prev, pos);
    bool earliest = q->threads.next == &t->timeout_link;
    spin_unlock(&q->lock);
    if (earliest)
        timer_reprogram();
    arch_irq_restore(flags);
}

void timeout_cancel(struct thread *t)
{
    struct timeout_queue *q = &queues[t->timeout_cpu];
    unsigned long flags = spin_lock_irqsave(&q->lock);

    /* A stale hardware deadline is harmless: the interrupt finds nothing and reprograms. */
    list_del(&t->timeout_link);
    spin_unlock_irqrestore(&q->lock, flags);
}

void timeout_expire(uint64_t now)
{
    struct timeout_queue *q = &queues[cpu_id()];

    spin_lock(&q->lock);
    while (!list_empty(&q->threads)) {
        struct thread *t = list_entry(q->threads.next, struct thread, timeout_link);

        if (t->deadline > now)
            break;
        list_del(&t->timeout_link);
        sched_wake(t);
    }
    spin_unlock(&q->lock);
}

uint64_t timeout_next(void)
{
    struct timeout_queue *q = &queues[cpu_id()];
    uint64_t next = UINT64_MAX;

    spin_lock(&q->lock);
    if (!list_empty(&q->threads))
        next = list_entry(q->threads.next, struct thread, timeout_link)->deadline;
    spin_unlock(&q->lock);
    return next;
}
