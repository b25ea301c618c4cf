/* mutex.c - sleeping mutex with an owner, direct hand-off and priority inheritance. */
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"

#define PI_CHAIN_MAX 16 /* owners followed when boosting: A waits for B, who waits for C, ... */

/*
 * The lock of every slow path. It protects, for each mutex with waiters, its waiters, pi_link and
 * owner changes; for each thread, pi_mutexes, blocked_on and base_prio; and it serialises the
 * priority changes made for inheritance. One lock for all mutexes keeps chains simple; the fast
 * paths never take it. Order: pi_lock, then wait queues and run queues.
 */
static spinlock_t pi_lock = SPINLOCK_INIT;

static struct thread *owner_thread(uintptr_t owner)
{
    return (struct thread *)(owner & ~MUTEX_WAITERS);
}

void mutex_init(struct mutex *m)
{
    m->owner = 0;
    list_init(&m->waiters);
    list_init(&m->pi_link);
}

struct thread *mutex_owner(const struct mutex *m)
{
    return owner_thread(__atomic_load_n(&m->owner, __ATOMIC_ACQUIRE));
}

/* pi_lock held. t's own priority, or its most important waiter's if that is higher. */
static int pi_wanted_prio(const struct thread *t)
{
    int prio = t->base_prio;

    for (const struct list_node *p = t->pi_mutexes.next; p != &t->pi_mutexes; p = p->next) {
        const struct mutex *m = list_entry(p, struct mutex, pi_link);
        for (const struct list_node *w = m->waiters.next; w != &m->waiters; w = w->next) {
            int wp = list_entry(w, struct wait_entry, link)->thread->rq_link.prio;
            if (wp > prio)
                prio = wp;
        }
    }
    return prio;
}

/* pi_lock held. Raise t, and the owner of whatever t waits for, and so on, to at least prio. */
static void pi_boost(struct thread *t, int prio)
{
    for (int depth = 0; t && depth < PI_CHAIN_MAX; depth++) {
        if (t->rq_link.prio >= prio)
            return;
        sched_set_prio(t, prio);
        if (!t->blocked_on)
            return;
        t = mutex_owner(t->blocked_on);
    }
}

static void mutex_lock_slow(struct mutex *m, struct thread *self)
{
    struct wait_entry entry = WAIT_ENTRY_INIT(entry);
    unsigned long flags = spin_lock_irqsave(&pi_lock);

    entry.thread = self;
    for (;;) {
        uintptr_t v = __atomic_load_n(&m->owner, __ATOMIC_ACQUIRE);

        if (owner_thread(v) == self)
            break; /* handed over by mutex_unlock() */
        if (v == 0) {
            if (__atomic_compare_exchange_n(&m->owner, &v, (uintptr_t)self, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                break;
            continue;
        }
        /* With the flag set the owner's fast unlock fails and it comes here to hand over. */
        if (!(v & MUTEX_WAITERS) &&
            !__atomic_compare_exchange_n(&m->owner, &v, v | MUTEX_WAITERS, false, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED))
            continue;
        struct thread *owner = owner_thread(v);
        if (list_empty(&entry.link)) {
            if (list_empty(&m->waiters))
                list_add_tail(&owner->pi_mutexes, &m->pi_link);
            list_add_tail(&m->waiters, &entry.link);
            self->blocked_on = m;
        }
        pi_boost(owner, self->rq_link.prio);
        sched_prepare_block();
        spin_unlock_irqrestore(&pi_lock, flags);
        sched_block();
        flags = spin_lock_irqsave(&pi_lock);
    }
    spin_unlock_irqrestore(&pi_lock, flags);
}

void mutex_lock(struct mutex *m)
{
    struct thread *self = thread_current();
    uintptr_t expect = 0;

    if (__atomic_compare_exchange_n(&m->owner, &expect, (uintptr_t)self, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
        return;
    if (owner_thread(expect) == self)
        panic("mutex_lock: thread %u (%s) already holds the mutex", self->id, self->name);
    mutex_lock_slow(m, self);
}

bool mutex_trylock(struct mutex *m)
{
    uintptr_t expect = 0;

    return __atomic_compare_exchange_n(&m->owner, &expect, (uintptr_t)thread_current(), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void mutex_unlock(struct mutex *m)
{
    struct thread *self = thread_current();
    uintptr_t expect = (uintptr_t)self;

    if (__atomic_compare_exchange_n(&m->owner, &expect, 0, false, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED))
        return;
    if (owner_thread(expect) != self)
        panic("mutex_unlock: thread %u (%s) does not hold the mutex", self->id, self->name);

    unsigned long flags = spin_lock_irqsave(&pi_lock);
    struct wait_entry *next = NULL;
    for (struct list_node *p = m->waiters.next; p != &m->waiters; p = p->next) {
        struct wait_entry *e = list_entry(p, struct wait_entry, link);
        if (!next || e->thread->rq_link.prio > next->thread->rq_link.prio)
            next = e;
    }
    struct thread *t = next->thread;
    uintptr_t v = (uintptr_t)t;
    list_del(&next->link);
    list_del(&m->pi_link);
    t->blocked_on = NULL;
    if (!list_empty(&m->waiters)) {
        v |= MUTEX_WAITERS;
        list_add_tail(&t->pi_mutexes, &m->pi_link);
    }
    __atomic_store_n(&m->owner, v, __ATOMIC_RELEASE);
    sched_set_prio(t, pi_wanted_prio(t));
    sched_wake(t);
    sched_set_prio(self, pi_wanted_prio(self)); /* gives up what it inherited through m */
    spin_unlock_irqrestore(&pi_lock, flags);
}

void mutex_set_base_priority(struct thread *t, int prio)
{
    unsigned long flags = spin_lock_irqsave(&pi_lock);

    t->base_prio = prio;
    int effective = pi_wanted_prio(t);
    sched_set_prio(t, effective);
    if (t->blocked_on)
        pi_boost(mutex_owner(t->blocked_on), effective);
    spin_unlock_irqrestore(&pi_lock, flags);
}
