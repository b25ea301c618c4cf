/* futex.c - futex(2): threads sleep on a user word keyed by (address space, address). */
#include "kernel/futex.h"
#include "kernel/proc.h"
#include "kernel/time.h"
#include "lib/errno.h"

#define FUTEX_WAIT           0
#define FUTEX_WAKE           1
#define FUTEX_REQUEUE        3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_PRIVATE_FLAG   128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BUCKETS        64
#define NSEC_PER_SEC         1000000000ULL

/*
 * Processes share no writable memory (fork copies on write), so a private and a shared futex are
 * the same thing here: the key is the address space and the user address.
 */
struct futex_waiter {
    struct list_node link; /* bucket lock */
    struct aspace *as;
    uint64_t addr;
    bool woken; /* set by the waker under the bucket lock, when it unlinks the waiter */
};

/** Sleepers whose key hashes here. lock protects waiters; sleepers wait on wq. */
struct futex_bucket {
    spinlock_t lock;
    struct list_node waiters;
    struct wait_queue wq;
};

static struct futex_bucket buckets[FUTEX_BUCKETS];

void futex_init(void)
{
    for (int i = 0; i < FUTEX_BUCKETS; i++) {
        spin_init(&buckets[i].lock);
        list_init(&buckets[i].waiters);
        wait_queue_init(&buckets[i].wq);
    }
}

static struct futex_bucket *futex_bucket(struct aspace *as, uint64_t addr)
{
    uint64_t h = (addr >> 2) ^ ((uintptr_t)as >> 6);

    h ^= h >> 17;
    return &buckets[h % FUTEX_BUCKETS];
}

int futex_wake(struct aspace *as, uint64_t addr, int n)
{
    struct futex_bucket *b = futex_bucket(as, addr);
    int woken = 0;

    unsigned long flags = spin_lock_irqsave(&b->lock);
    for (struct list_node *l = b->waiters.next; l != &b->waiters && woken < n;) {
        struct futex_waiter *w = list_entry(l, struct futex_waiter, link);
        l = l->next;
        if (w->as == as && w->addr == addr) {
            list_del(&w->link);
            __atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
            woken++;
        }
    }
    spin_unlock_irqrestore(&b->lock, flags);
    /* Everyone in the bucket wakes; those not picked see woken false and sleep again. */
    if (woken)
        wait_wake_all(&b->wq);
    return woken;
}

/* Deadline from a user timespec: relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET. */
static int futex_deadline(uint64_t uts, bool absolute, bool realtime, uint64_t *deadline)
{
    struct {
        int64_t sec, nsec;
    } ts;

    *deadline = SCHED_NO_DEADLINE;
    if (!uts)
        return 0;
    if (uvm_copy_in(proc_current()->as->uvm, &ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
        return -EINVAL;
    uint64_t ns = (uint64_t)ts.sec > UINT64_MAX / NSEC_PER_SEC / 2
                      ? UINT64_MAX / 2
                      : (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
    if (absolute) {
        /* Monotonic time is time since boot; the real-time clock is counted the same way. */
        uint64_t now = time_now_ns();
        (void)realtime;
        ns = ns > now ? ns - now : 0;
    }
    *deadline = timer_counter() + timer_ns_to_ticks(ns);
    return 0;
}

static int futex_wait(struct aspace *as, uint64_t addr, uint32_t val, uint64_t deadline)
{
    struct uthread *self = uthread_current();
    struct futex_bucket *b = futex_bucket(as, addr);
    struct futex_waiter w = {{&w.link, &w.link}, as, addr, false};
    uint32_t cur;

    /* Check and queue under the bucket lock: a waker changes the word first, then takes it. */
    unsigned long flags = spin_lock_irqsave(&b->lock);
    int err = uvm_read_u32(as->uvm, addr, &cur);
    if (!err && cur != val)
        err = -EAGAIN;
    if (!err)
        list_add_tail(&b->waiters, &w.link);
    spin_unlock_irqrestore(&b->lock, flags);
    if (err)
        return err;
    err = uthread_wait_until(self, &b->wq, __atomic_load_n(&w.woken, __ATOMIC_ACQUIRE), deadline);
    flags = spin_lock_irqsave(&b->lock);
    if (!w.woken)
        list_del(&w.link);
    else
        err = 0;
    spin_unlock_irqrestore(&b->lock, flags);
    return err;
}

int64_t futex_syscall(uint64_t addr, int op, uint32_t val, uint64_t timeout, uint64_t addr2,
                      uint32_t val3)
{
    struct aspace *as = proc_current()->as;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    uint64_t deadline;
    uint32_t cur;
    int err;

    int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

    if ((addr & 3) || !uvm_range_ok(addr, 4))
        return -EINVAL;
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
        err = futex_deadline(timeout, cmd == FUTEX_WAIT_BITSET, realtime, &deadline);
        return err ? err : futex_wait(as, addr, val, deadline);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: return futex_wake(as, addr, (int)(val > INT32_MAX ? INT32_MAX : val));
    case FUTEX_CMP_REQUEUE:
        if ((err = uvm_read_u32(as->uvm, addr, &cur)))
            return err;
        if (cur != val3)
            return -EAGAIN;
        /* fall through */
    case FUTEX_REQUEUE:
        /*
         * Waking the waiters instead of moving them to addr2 is allowed: a futex sleeper must
         * expect spurious wake-ups and recheck (it then waits on addr2 by itself).
         */
        (void)addr2;
        return futex_wake(as, addr,
                          (int)(val > INT32_MAX / 2 ? INT32_MAX / 2 : val) +
                              (int)(timeout > INT32_MAX / 2 ? INT32_MAX / 2 : timeout));
    default: return -ENOSYS;
    }
}
