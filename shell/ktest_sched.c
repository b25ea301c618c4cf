/* ktest_sched.c - self-tests of threads, preemption, round robin, sleep, load balance, affinity. */
#include "arch/cpu.h"
#include "kernel/kmalloc.h"
#include "kernel/ktest.h"
#include "kernel/page_alloc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/time.h"
#include "lib/printf.h"
#include "lib/string.h"

/* As in ktest_sync.c, state shared with workers is static so a straggler never hits a dead frame.
 */

#define ONE_TICK_NS (1000000000ULL / HZ)
#define SPIN_PRIO   10 /* spinners: below ordinary threads and the shell */

/* Thread life cycle: exit codes reach the joiner; joined and detached threads are all freed. */
#define THREADS_JOINED   32
#define THREADS_DETACHED 16

static struct semaphore threads_exited;

static int threads_ret(void *arg)
{
    return (int)(uintptr_t)arg * 7 + 1;
}

static int threads_detached(void *arg)
{
    (void)arg;
    semaphore_up(&threads_exited);
    return 0;
}

bool ktest_sched_threads(char *detail, size_t size)
{
    struct thread *t[THREADS_JOINED];
    int codes[THREADS_JOINED];
    struct page_stats before, after;
    unsigned int failed, wrong = 0, lost = 0;

    kmalloc_shrink();
    page_alloc_stats(&before);
    unsigned int baseline = thread_snapshot(NULL, 0);
    for (unsigned int i = 0; i < THREADS_JOINED; i++)
        t[i] =
            thread_create("ktest-join", threads_ret, (void *)(uintptr_t)i, KTEST_PRIO, CPUMASK_ALL);
    failed = ktest_join(t, THREADS_JOINED, 5000, codes);
    for (unsigned int i = 0; i < THREADS_JOINED && !failed; i++)
        wrong += codes[i] != (int)i * 7 + 1;
    semaphore_init(&threads_exited, 0);
    for (unsigned int i = 0; i < THREADS_DETACHED; i++) {
        struct thread *d =
            thread_create("ktest-detach", threads_detached, NULL, KTEST_PRIO, CPUMASK_ALL);
        if (d)
            thread_detach(d);
        else
            lost++;
    }
    for (unsigned int i = lost; i < THREADS_DETACHED; i++)
        lost += semaphore_down_timeout_ns(&threads_exited, 2000000000ULL) != 0;
    /* A detached thread frees itself once off its CPU, just after its last semaphore_up(). */
    uint64_t deadline = timer_counter() + ktest_ms(1000);
    while (thread_snapshot(NULL, 0) != baseline && timer_counter() < deadline)
        thread_sleep_ns(1000000);
    unsigned int now = thread_snapshot(NULL, 0);
    kmalloc_shrink();
    page_alloc_stats(&after);
    snprintf(detail, size,
             "%d joined with %u wrong exit codes, %d detached; %u threads before and %u after, "
             "%lu free pages before and %lu after",
             THREADS_JOINED, wrong, THREADS_DETACHED, baseline, now,
             (unsigned long)before.free_pages, (unsigned long)after.free_pages);
    return !failed && !wrong && !lost && now == baseline && after.free_pages == before.free_pages;
}

/*
 * Preemption, on the last CPU: low spins and counts; high (more important, same CPU) sleeps and
 * must run as soon as its timer fires, not at low's next tick; then high blocks on a semaphore
 * that a waker on CPU 0 posts: the wake-up crosses CPUs with SGI_RESCHEDULE.
 */
#define PREEMPT_LOW  5
#define PREEMPT_HIGH 50

static struct {
    volatile bool stop, high_waiting;
    volatile unsigned long low_count;
    struct semaphore wake;
    volatile uint64_t deadline, timer_latency, posted, ipi_latency;
    volatile unsigned long low_during_sleep, low_at_post, low_after_post;
} pr;

static int preempt_low(void *arg)
{
    unsigned int n = 0;

    (void)arg;
    while (!pr.stop) {
        pr.low_count++;
        ktest_spin_hint(&n);
    }
    return 0;
}

static int preempt_high(void *arg)
{
    bool cross_cpu = arg != NULL;
    unsigned long before = pr.low_count;

    pr.deadline = timer_counter() + ktest_ms(20);
    thread_sleep_until(pr.deadline);
    pr.timer_latency = timer_counter() - pr.deadline;
    pr.low_during_sleep = pr.low_count - before;
    if (!cross_cpu)
        return 0;
    pr.high_waiting = true;
    if (semaphore_down_timeout_ns(&pr.wake, 2000000000ULL))
        return 1;
    uint64_t now = timer_counter();
    pr.ipi_latency = now - pr.posted;
    pr.low_after_post = pr.low_count - pr.low_at_post;
    return 0;
}

static int preempt_waker(void *arg)
{
    (void)arg;
    uint64_t give_up = timer_counter() + ktest_ms(2000);

    while (!pr.high_waiting && timer_counter() < give_up)
        thread_sleep_ns(1000000);
    thread_sleep_ns(5000000); /* let high block and low spin */
    pr.low_at_post = pr.low_count;
    pr.posted = timer_counter();
    semaphore_up(&pr.wake);
    return 0;
}

bool ktest_sched_preempt(char *detail, size_t size)
{
    unsigned int cpu = ktest_last_cpu();
    bool cross_cpu = cpu != 0;
    struct thread *t[3] = {NULL, NULL, NULL};
    int codes[3] = {1, 1, 1};
    char ipi[96] = "cross-CPU wake-up: one CPU only";

    memset(&pr, 0, sizeof(pr));
    semaphore_init(&pr.wake, 0);
    struct thread *low =
        thread_create("ktest-low", preempt_low, NULL, PREEMPT_LOW, CPUMASK_CPU(cpu));
    t[0] = thread_create("ktest-high", preempt_high, cross_cpu ? &pr : NULL, PREEMPT_HIGH,
                         CPUMASK_CPU(cpu));
    if (cross_cpu)
        t[1] = thread_create("ktest-waker", preempt_waker, NULL, KTEST_PRIO, CPUMASK_CPU(0));
    unsigned int failed = ktest_join(t, cross_cpu ? 2 : 1, 5000, codes);
    pr.stop = true;
    failed += ktest_join(&low, 1, 5000, NULL);
    bool ok = !failed && !codes[0] && pr.low_during_sleep > 0 &&
              timer_ticks_to_ns(pr.timer_latency) < ONE_TICK_NS;
    if (cross_cpu) {
        ok = ok && timer_ticks_to_ns(pr.ipi_latency) < ONE_TICK_NS;
        snprintf(ipi, sizeof(ipi),
                 "cross-CPU wake-up from cpu0 ran it after %lu us (low: %lu more)",
                 (unsigned long)ktest_us(pr.ipi_latency), pr.low_after_post);
    }
    snprintf(detail, size,
             "on cpu%u low (%d) counted %lu while high (%d) slept; timer wake-up ran high after "
             "%lu us; %s; limit one tick (%llu us)",
             cpu, PREEMPT_LOW, pr.low_during_sleep, PREEMPT_HIGH,
             (unsigned long)ktest_us(pr.timer_latency), ipi, ONE_TICK_NS / 1000);
    return ok;
}

/*
 * No preemption under a spinlock: high's timer fires while low holds one; high runs when low
 * drops it (preempt_enable switches at once), not before and not a tick later.
 */
#define NOPREEMPT_HOLD_MS 10

static struct {
    spinlock_t lock;
    volatile bool in_lock, high_saw_lock;
    volatile uint64_t wake_at, locked_at, unlocked_at, high_ran;
} np;

static int nopreempt_high(void *arg)
{
    (void)arg;
    thread_sleep_until(np.wake_at);
    np.high_ran = timer_counter();
    np.high_saw_lock = np.in_lock;
    return 0;
}

static int nopreempt_low(void *arg)
{
    unsigned int n = 0;

    (void)arg;
    spin_lock(&np.lock);
    np.locked_at = timer_counter();
    np.in_lock = true;
    while (timer_counter() < np.wake_at + ktest_ms(NOPREEMPT_HOLD_MS))
        ktest_spin_hint(&n);
    np.in_lock = false;
    np.unlocked_at = timer_counter();
    spin_unlock(&np.lock);
    return 0;
}

bool ktest_sched_nopreempt(char *detail, size_t size)
{
    cpumask_t cpu = CPUMASK_CPU(ktest_last_cpu());
    struct thread *t[2];

    memset(&np, 0, sizeof(np));
    spin_init(&np.lock);
    np.wake_at = timer_counter() + ktest_ms(20);
    t[0] = thread_create("ktest-high", nopreempt_high, NULL, PREEMPT_HIGH, cpu);
    t[1] = thread_create("ktest-locker", nopreempt_low, NULL, PREEMPT_LOW, cpu);
    unsigned int failed = ktest_join(t, 2, 5000, NULL);
    uint64_t after_unlock = np.high_ran - np.unlocked_at;
    snprintf(detail, size,
             "high's timer fired %lu us into low's spinlock section; high ran %lu us after "
             "the unlock%s",
             (unsigned long)ktest_us(np.wake_at - np.locked_at),
             (unsigned long)ktest_us(after_unlock), np.high_saw_lock ? ", INSIDE it" : "");
    return !failed && np.locked_at < np.wake_at && !np.high_saw_lock &&
           np.high_ran >= np.unlocked_at && timer_ticks_to_ns(after_unlock) < ONE_TICK_NS;
}

/* Round robin: two spinners of one priority on one CPU take turns of SCHED_SLICE_TICKS. */
#define RR_MS 180

static struct {
    volatile uint64_t end;
    volatile unsigned long count[2];
    volatile unsigned int turns[2];
    volatile int last;
} rr;

static int rr_spin(void *arg)
{
    int me = (int)(uintptr_t)arg;
    unsigned int n = 0;

    while (timer_counter() < rr.end) {
        rr.count[me]++;
        if (rr.last != me) {
            rr.last = me;
            rr.turns[me]++;
        }
        ktest_spin_hint(&n);
    }
    return 0;
}

bool ktest_sched_rr(char *detail, size_t size)
{
    unsigned int cpu = ktest_last_cpu();
    struct thread *t[2];

    memset(&rr, 0, sizeof(rr));
    rr.last = -1;
    rr.end = timer_counter() + ktest_ms(RR_MS);
    for (uintptr_t i = 0; i < 2; i++)
        t[i] = thread_create("ktest-rr", rr_spin, (void *)i, SPIN_PRIO, CPUMASK_CPU(cpu));
    unsigned int failed = ktest_join(t, 2, 5000, NULL);
    unsigned long total = rr.count[0] + rr.count[1];
    unsigned long share0 = total ? rr.count[0] * 100 / total : 0;
    snprintf(detail, size, "two spinners at %d on cpu%u for %d ms: %u and %u turns, %lu%% / %lu%%",
             SPIN_PRIO, cpu, RR_MS, rr.turns[0], rr.turns[1], share0, total ? 100 - share0 : 0);
    return !failed && rr.turns[0] >= 2 && rr.turns[1] >= 2 && share0 >= 25 && share0 <= 75;
}

/* Sleep accuracy: a 50 ms sleep, sleepers on every CPU, wait-queue and semaphore timeouts. */
static struct {
    volatile uint64_t overshoot[MAX_CPUS];
    volatile int64_t early[MAX_CPUS];
} sl;

static int sleep_worker(void *arg)
{
    unsigned int i = (unsigned int)(uintptr_t)arg;
    uint64_t deadline = timer_counter() + ktest_ms(10 * (i + 1));

    thread_sleep_until(deadline);
    uint64_t now = timer_counter();
    sl.overshoot[i] = now >= deadline ? now - deadline : 0;
    sl.early[i] = now < deadline;
    return 0;
}

/* Overshoot of a timed wait that started at start and was meant to last ms, or UINT64_MAX. */
static uint64_t sleep_overshoot_ns(uint64_t start, uint64_t ms)
{
    uint64_t took = timer_ticks_to_ns(timer_counter() - start);

    return took < ms * 1000000 ? UINT64_MAX : took - ms * 1000000;
}

bool ktest_sched_sleep(char *detail, size_t size)
{
    struct thread *t[MAX_CPUS] = {NULL};
    unsigned int n = 0;
    uint64_t worst = 0;
    bool early = false;

    memset(&sl, 0, sizeof(sl));
    uint64_t start = timer_counter();
    thread_sleep_ns(50000000);
    uint64_t took = timer_ticks_to_ns(timer_counter() - start);

    for (unsigned int c = 0; c < cpus_possible; c++) {
        if (sched_online_cpus() & CPUMASK_CPU(c))
            t[n++] = thread_create("ktest-sleep", sleep_worker, (void *)(uintptr_t)c, KTEST_PRIO,
                                   CPUMASK_CPU(c));
    }
    unsigned int failed = ktest_join(t, n, 5000, NULL);
    for (unsigned int c = 0; c < cpus_possible; c++) {
        early |= sl.early[c];
        worst = sl.overshoot[c] > worst ? sl.overshoot[c] : worst;
    }
    worst = timer_ticks_to_ns(worst);

    static struct wait_queue wq = WAIT_QUEUE_INIT(wq);
    static volatile bool never;
    start = timer_counter();
    int wq_err = wait_event_timeout_ns(&wq, never, 20000000);
    uint64_t wq_over = sleep_overshoot_ns(start, 20);

    struct semaphore sem;
    semaphore_init(&sem, 0);
    start = timer_counter();
    int sem_err = semaphore_down_timeout_ns(&sem, 15000000);
    uint64_t sem_over = sleep_overshoot_ns(start, 15);

    snprintf(detail, size,
             "50 ms sleep took %lu us; %u sleepers (10..%u0 ms, one per CPU) overshot %lu us at "
             "most%s; wait-queue timeout %s +%lu us, semaphore timeout %s +%lu us",
             (unsigned long)(took / 1000), n, n, (unsigned long)(worst / 1000),
             early ? ", one EARLY" : "", wq_err == -ETIMEDOUT ? "ok" : "MISSED",
             (unsigned long)(wq_over == UINT64_MAX ? 0 : wq_over / 1000),
             sem_err == -ETIMEDOUT ? "ok" : "MISSED",
             (unsigned long)(sem_over == UINT64_MAX ? 0 : sem_over / 1000));
    return !failed && !early && took >= 50000000 && took < 50000000 + ONE_TICK_NS &&
           worst < ONE_TICK_NS && wq_err == -ETIMEDOUT && wq_over < ONE_TICK_NS &&
           sem_err == -ETIMEDOUT && sem_over < ONE_TICK_NS;
}

/*
 * Load balance: 2 spinners per CPU start on CPU 0 alone, then may run anywhere. Idle CPUs pull
 * at once, busy ones even out every SCHED_BALANCE_TICKS: all CPUs run some, and the placement
 * (this thread included, it runs somewhere too) becomes even: at most one runnable thread apart.
 * Placement is sampled a few times because under emulation a CPU can lose its host time slice
 * for a while (QEMU runs all virtual CPUs on one host thread with -icount) and balance late.
 */
#define BALANCE_SPIN_MS         300
#define BALANCE_FIRST_SAMPLE_MS 100
#define BALANCE_SAMPLES         8
#define BALANCE_SAMPLE_EVERY_MS 20

static struct {
    volatile uint64_t end;
    volatile cpumask_t ran[KTEST_MAX_THREADS];
} bal;

static int balance_spin(void *arg)
{
    unsigned int i = (unsigned int)(uintptr_t)arg, n = 0;

    while (timer_counter() < bal.end) {
        ktest_note_cpu(&bal.ran[i]);
        ktest_spin_hint(&n);
    }
    return 0;
}

/* Threads per CPU now, and how far apart the busiest and idlest CPU are. */
static unsigned int balance_sample(struct thread **t, unsigned int n, unsigned int *placed)
{
    unsigned int lo = ~0u, hi = 0;

    memset(placed, 0, MAX_CPUS * sizeof(*placed));
    placed[__atomic_load_n(&thread_current()->cpu, __ATOMIC_RELAXED)]++;
    for (unsigned int i = 0; i < n; i++) {
        if (t[i])
            placed[__atomic_load_n(&t[i]->cpu, __ATOMIC_RELAXED)]++;
    }
    for (unsigned int c = 0; c < cpus_possible; c++) {
        if (sched_online_cpus() & CPUMASK_CPU(c)) {
            lo = placed[c] < lo ? placed[c] : lo;
            hi = placed[c] > hi ? placed[c] : hi;
        }
    }
    return hi - lo;
}

bool ktest_sched_balance(char *detail, size_t size)
{
    unsigned int n = 2 * ktest_ncpus();
    struct thread *t[KTEST_MAX_THREADS];
    unsigned int placed[MAX_CPUS], best[MAX_CPUS], ran_on[MAX_CPUS] = {0};
    unsigned int spread = ~0u, at_ms = 0;
    bool all_ran = true;
    size_t used;

    if (n > KTEST_MAX_THREADS)
        n = KTEST_MAX_THREADS;
    memset(&bal, 0, sizeof(bal));
    uint64_t start = timer_counter();
    bal.end = start + ktest_ms(BALANCE_SPIN_MS);
    for (unsigned int i = 0; i < n; i++)
        t[i] = thread_create("ktest-spin", balance_spin, (void *)(uintptr_t)i, SPIN_PRIO,
                             CPUMASK_CPU(0));
    for (unsigned int i = 0; i < n; i++) {
        if (t[i])
            thread_set_affinity(t[i], CPUMASK_ALL);
    }
    for (unsigned int k = 0; k < BALANCE_SAMPLES && spread > 1; k++) {
        thread_sleep_until(start + ktest_ms(BALANCE_FIRST_SAMPLE_MS + k * BALANCE_SAMPLE_EVERY_MS));
        unsigned int s = balance_sample(t, n, placed);
        if (s < spread) {
            spread = s;
            at_ms = (unsigned int)ktest_us(timer_counter() - start) / 1000;
            memcpy(best, placed, sizeof(best));
        }
    }
    unsigned int failed = ktest_join(t, n, 5000, NULL);
    snprintf(detail, size,
             "%u spinners from cpu0; spinners that ran on / threads placed at %u ms:", n, at_ms);
    for (unsigned int c = 0; c < cpus_possible; c++) {
        if (!(sched_online_cpus() & CPUMASK_CPU(c)))
            continue;
        for (unsigned int i = 0; i < n; i++)
            ran_on[c] += (bal.ran[i] & CPUMASK_CPU(c)) != 0;
        all_ran &= ran_on[c] > 0;
        used = strnlen(detail, size);
        snprintf(detail + used, size - used, " cpu%u %u/%u", c, ran_on[c], best[c]);
    }
    return !failed && all_ran && spread <= 1;
}

/*
 * Affinity: a thread pinned to each CPU runs only there; a thread moves itself CPU by CPU; a
 * running spinner moved by another thread leaves its CPU at once and stays where it was sent.
 */
static struct {
    volatile cpumask_t pinned_ran[MAX_CPUS];
    volatile uint64_t end;
    volatile unsigned int self_wrong;
    volatile bool stop;
    volatile int where;
    volatile cpumask_t moved_ran;
} af;

static int affinity_pinned(void *arg)
{
    unsigned int c = (unsigned int)(uintptr_t)arg, n = 0;

    while (timer_counter() < af.end) {
        ktest_note_cpu(&af.pinned_ran[c]);
        ktest_spin_hint(&n);
    }
    return 0;
}

static int affinity_self(void *arg)
{
    (void)arg;
    cpumask_t online = sched_online_cpus();

    for (unsigned int c = 0; c < cpus_possible; c++) {
        if (!(online & CPUMASK_CPU(c)))
            continue;
        thread_set_affinity(thread_current(), CPUMASK_CPU(c));
        af.self_wrong += cpu_id() != c;
    }
    return 0;
}

static int affinity_moved(void *arg)
{
    unsigned int n = 0;

    (void)arg;
    while (!af.stop) {
        af.where = (int)cpu_id();
        ktest_note_cpu(&af.moved_ran);
        ktest_spin_hint(&n);
    }
    return 0;
}

bool ktest_sched_affinity(char *detail, size_t size)
{
    struct thread *t[MAX_CPUS + 1];
    unsigned int n = 0, strays = 0, target = 0;
    bool moved = true;

    memset(&af, 0, sizeof(af));
    af.end = timer_counter() + ktest_ms(20);
    for (unsigned int c = 0; c < cpus_possible; c++) {
        if (sched_online_cpus() & CPUMASK_CPU(c))
            t[n++] = thread_create("ktest-pinned", affinity_pinned, (void *)(uintptr_t)c, SPIN_PRIO,
                                   CPUMASK_CPU(c));
    }
    t[n++] = thread_create("ktest-hopper", affinity_self, NULL, KTEST_PRIO, CPUMASK_ALL);
    unsigned int failed = ktest_join(t, n, 5000, NULL);
    for (unsigned int c = 0; c < cpus_possible; c++)
        strays += af.pinned_ran[c] && af.pinned_ran[c] != CPUMASK_CPU(c);

    if (ktest_ncpus() > 1) {
        af.where = -1;
        struct thread *s =
            thread_create("ktest-moved", affinity_moved, NULL, SPIN_PRIO, CPUMASK_ALL);
        uint64_t give_up = timer_counter() + ktest_ms(1000);
        while (s && af.where < 0 && timer_counter() < give_up)
            thread_sleep_ns(1000000);
        /* Send it to the next online CPU after the one it is on. */
        target = (unsigned int)(af.where + 1) % cpus_possible;
        while (!(sched_online_cpus() & CPUMASK_CPU(target)))
            target = (target + 1) % cpus_possible;
        if (s)
            thread_set_affinity(s, CPUMASK_CPU(target));
        while (s && af.where != (int)target && timer_counter() < give_up)
            thread_sleep_ns(1000000);
        af.moved_ran = 0;
        thread_sleep_ns(20000000);
        af.stop = true;
        moved = af.where == (int)target && af.moved_ran == CPUMASK_CPU(target);
        failed += ktest_join(&s, 1, 5000, NULL);
    }
    snprintf(detail, size,
             "%u pinned threads, %u ran elsewhere; self-migration to each CPU, %u wrong; "
             "running spinner sent to cpu%u: %s",
             ktest_ncpus(), strays, af.self_wrong, target,
             ktest_ncpus() > 1 ? (moved ? "moved and stayed" : "DID NOT MOVE") : "one CPU only");
    return !failed && !strays && !af.self_wrong && moved;
}
