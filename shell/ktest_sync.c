/* ktest_sync.c - self-tests of the mutex, semaphore, condition variable and priority inheritance.
 */
#include "arch/cpu.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/time.h"
#include "lib/printf.h"
#include "lib/string.h"

/*
 * Test state is static, not on the test's stack: a worker that outlives a failed test (it is
 * detached, see ktest_join) must not write into a stack frame that is gone.
 */

#define MUTEX_ITERS 5000

static struct {
    struct mutex lock;
    volatile unsigned long counter;
    volatile cpumask_t cpus;
} mx;

static int mutex_worker(void *arg)
{
    (void)arg;
    ktest_gate_wait();
    for (int i = 0; i < MUTEX_ITERS; i++) {
        mutex_lock(&mx.lock);
        unsigned long v = mx.counter;
        /* Widen the read-modify-write window: without mutual exclusion updates get lost. */
        for (volatile int d = 0; d < 16; d++)
            ;
        mx.counter = v + 1;
        mutex_unlock(&mx.lock);
        ktest_note_cpu(&mx.cpus);
    }
    return 0;
}

bool ktest_sync_mutex(char *detail, size_t size)
{
    unsigned int n = 4 * ktest_ncpus();
    struct thread *t[KTEST_MAX_THREADS];

    if (n > KTEST_MAX_THREADS)
        n = KTEST_MAX_THREADS;
    mutex_init(&mx.lock);
    mx.counter = 0;
    mx.cpus = 0;
    ktest_gate_close();
    /* Half are pinned round the CPUs, half go where the scheduler puts them. */
    for (unsigned int i = 0; i < n; i++)
        t[i] = thread_create("ktest-mutex", mutex_worker, NULL, KTEST_PRIO,
                             i % 2 ? CPUMASK_ALL : ktest_nth_cpu(i / 2));
    ktest_gate_open();
    unsigned int failed = ktest_join(t, n, 20000, NULL);
    unsigned long want = (unsigned long)n * MUTEX_ITERS;
    snprintf(detail, size, "counter %lu of %lu (%u threads x %d) on cpus 0x%lx", mx.counter, want,
             n, MUTEX_ITERS, (unsigned long)mx.cpus);
    return !failed && mx.counter == want && mx.cpus == sched_online_cpus() &&
           !mutex_owner(&mx.lock);
}

/*
 * Producers and consumers on all CPUs through an 8-slot ring, with the flow control done by a
 * semaphore pair or by a mutex and two condition variables. Every value is checked in once.
 */
#define PC_RING    8
#define PC_ITEMS   400
#define PC_MAX     8
#define PC_WAIT_MS 2000

struct channel {
    bool (*put)(uint32_t v);
    bool (*get)(uint32_t *v);
};

static struct {
    uint32_t ring[PC_RING];
    unsigned int head, tail, count;
    spinlock_t ring_lock; /* semaphore channel: head, tail */
    struct semaphore slots, items;
    struct mutex lock; /* condvar channel: head, tail, count */
    struct condvar not_full, not_empty;
    const struct channel *ch;
    unsigned int producers;
    uint8_t seen[PC_MAX][PC_ITEMS];            /* atomic increments */
    volatile unsigned long sum, received, bad; /* atomic */
    volatile cpumask_t cpus;
} pc;

static bool sem_put(uint32_t v)
{
    if (semaphore_down_timeout_ns(&pc.slots, PC_WAIT_MS * 1000000ULL))
        return false;
    spin_lock(&pc.ring_lock);
    pc.ring[pc.head++ % PC_RING] = v;
    spin_unlock(&pc.ring_lock);
    semaphore_up(&pc.items);
    return true;
}

static bool sem_get(uint32_t *v)
{
    if (semaphore_down_timeout_ns(&pc.items, PC_WAIT_MS * 1000000ULL))
        return false;
    spin_lock(&pc.ring_lock);
    *v = pc.ring[pc.tail++ % PC_RING];
    spin_unlock(&pc.ring_lock);
    semaphore_up(&pc.slots);
    return true;
}

static const struct channel sem_channel = {sem_put, sem_get};

static bool cv_put(uint32_t v)
{
    uint64_t deadline = timer_counter() + ktest_ms(PC_WAIT_MS);

    mutex_lock(&pc.lock);
    while (pc.count == PC_RING) {
        if (condvar_wait_until(&pc.not_full, &pc.lock, deadline) && pc.count == PC_RING) {
            mutex_unlock(&pc.lock);
            return false;
        }
    }
    pc.ring[pc.head++ % PC_RING] = v;
    pc.count++;
    condvar_signal(&pc.not_empty);
    mutex_unlock(&pc.lock);
    return true;
}

static bool cv_get(uint32_t *v)
{
    uint64_t deadline = timer_counter() + ktest_ms(PC_WAIT_MS);

    mutex_lock(&pc.lock);
    while (pc.count == 0) {
        if (condvar_wait_until(&pc.not_empty, &pc.lock, deadline) && pc.count == 0) {
            mutex_unlock(&pc.lock);
            return false;
        }
    }
    *v = pc.ring[pc.tail++ % PC_RING];
    pc.count--;
    condvar_signal(&pc.not_full);
    mutex_unlock(&pc.lock);
    return true;
}

static const struct channel cv_channel = {cv_put, cv_get};

static int pc_producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;

    ktest_gate_wait();
    for (uint32_t i = 0; i < PC_ITEMS; i++) {
        if (!pc.ch->put(id << 16 | i))
            return 1;
        ktest_note_cpu(&pc.cpus);
    }
    return 0;
}

static int pc_consumer(void *arg)
{
    (void)arg;
    ktest_gate_wait();
    for (uint32_t i = 0; i < PC_ITEMS; i++) {
        uint32_t v;

        if (!pc.ch->get(&v))
            return 1;
        uint32_t p = v >> 16, n = v & 0xffff;
        if (p >= pc.producers || n >= PC_ITEMS ||
            __atomic_fetch_add(&pc.seen[p][n], 1, __ATOMIC_RELAXED))
            __atomic_fetch_add(&pc.bad, 1, __ATOMIC_RELAXED); /* unknown or duplicate */
        __atomic_fetch_add(&pc.sum, v, __ATOMIC_RELAXED);
        __atomic_fetch_add(&pc.received, 1, __ATOMIC_RELAXED);
        ktest_note_cpu(&pc.cpus);
    }
    return 0;
}

static bool pc_run(const struct channel *ch, char *detail, size_t size)
{
    unsigned int n = ktest_ncpus() < 2 ? 2 : ktest_ncpus(); /* producers, and as many consumers */
    struct thread *t[2 * PC_MAX];
    int codes[2 * PC_MAX];
    unsigned long want_sum = 0;

    if (n > PC_MAX)
        n = PC_MAX;
    memset(&pc, 0, sizeof(pc));
    spin_init(&pc.ring_lock);
    semaphore_init(&pc.slots, PC_RING);
    semaphore_init(&pc.items, 0);
    mutex_init(&pc.lock);
    condvar_init(&pc.not_full);
    condvar_init(&pc.not_empty);
    pc.ch = ch;
    pc.producers = n;
    ktest_gate_close();
    for (unsigned int i = 0; i < n; i++) {
        /* Consumer i on the CPU after producer i's: every item crosses CPUs (if there are 2). */
        t[i] = thread_create("ktest-cons", pc_consumer, NULL, KTEST_PRIO, ktest_nth_cpu(i + 1));
        t[n + i] = thread_create("ktest-prod", pc_producer, (void *)(uintptr_t)i, KTEST_PRIO,
                                 ktest_nth_cpu(i));
        for (uint32_t k = 0; k < PC_ITEMS; k++)
            want_sum += (unsigned long)(i << 16 | k);
    }
    ktest_gate_open();
    unsigned int failed = ktest_join(t, 2 * n, 20000, codes);
    unsigned int missing = 0;
    for (unsigned int p = 0; p < n; p++) {
        for (unsigned int k = 0; k < PC_ITEMS; k++)
            missing += pc.seen[p][k] != 1;
    }
    for (unsigned int i = 0; i < 2 * n && !failed; i++)
        failed += codes[i] != 0; /* a put or get timed out */
    snprintf(detail, size,
             "%lu of %u items through %d slots, %u producers and consumers on cpus 0x%lx, "
             "checksum %s, %u missing or duplicated",
             pc.received, n * PC_ITEMS, PC_RING, n, (unsigned long)pc.cpus,
             pc.sum == want_sum ? "ok" : "WRONG", missing);
    return !failed && pc.received == n * PC_ITEMS && pc.sum == want_sum && !missing && !pc.bad &&
           pc.cpus == sched_online_cpus();
}

bool ktest_sync_semaphore(char *detail, size_t size)
{
    return pc_run(&sem_channel, detail, size);
}

bool ktest_sync_condvar(char *detail, size_t size)
{
    return pc_run(&cv_channel, detail, size);
}

/* Two threads on the first and last CPU hand a token back and forth through two semaphores. */
#define PINGPONG_ROUNDS 1000

static struct {
    struct semaphore ping, pong;
} pp;

static int pingpong_responder(void *arg)
{
    (void)arg;
    for (int i = 0; i < PINGPONG_ROUNDS; i++) {
        if (semaphore_down_timeout_ns(&pp.ping, 2000000000ULL))
            return 1;
        semaphore_up(&pp.pong);
    }
    return 0;
}

static int pingpong_initiator(void *arg)
{
    (void)arg;
    for (int i = 0; i < PINGPONG_ROUNDS; i++) {
        semaphore_up(&pp.ping);
        if (semaphore_down_timeout_ns(&pp.pong, 2000000000ULL))
            return 1;
    }
    return 0;
}

bool ktest_sync_pingpong(char *detail, size_t size)
{
    unsigned int last = ktest_last_cpu();
    struct thread *t[2];
    int codes[2] = {1, 1};

    semaphore_init(&pp.ping, 0);
    semaphore_init(&pp.pong, 0);
    uint64_t start = timer_counter();
    t[0] = thread_create("ktest-pong", pingpong_responder, NULL, KTEST_PRIO, CPUMASK_CPU(last));
    t[1] = thread_create("ktest-ping", pingpong_initiator, NULL, KTEST_PRIO, CPUMASK_CPU(0));
    unsigned int failed = ktest_join(t, 2, 20000, codes);
    uint64_t us = ktest_us(timer_counter() - start);
    snprintf(detail, size, "%d round trips cpu0 <-> cpu%u, %lu us each", PINGPONG_ROUNDS, last,
             (unsigned long)(us / PINGPONG_ROUNDS));
    return !failed && !codes[0] && !codes[1];
}

/*
 * Priority inheritance, all on one CPU: low takes the mutex and has work to do once high waits
 * for it; mid (more important than low) spins for PI_MID_MS; high wants the mutex. Without
 * inheritance mid starves low and high waits for mid; with it low runs at high's priority,
 * finishes and hands over.
 */
#define PI_LOW      10
#define PI_MID      20
#define PI_HIGH     30
#define PI_MID_MS   100
#define PI_LOW_WORK 200000

static struct {
    struct mutex m;
    struct semaphore low_locked, mid_started;
    volatile int low_max_prio, low_prio_after;
    volatile bool mid_done, high_before_mid_done;
    volatile uint64_t start, high_got;
} pi;

static int pi_low(void *arg)
{
    struct thread *self = thread_current();
    unsigned int n = 0;

    (void)arg;
    mutex_lock(&pi.m);
    semaphore_up(&pi.low_locked);
    /* Hold on until high waits: only inheritance gets low past mid to see that. */
    while (!(__atomic_load_n(&pi.m.owner, __ATOMIC_RELAXED) & MUTEX_WAITERS))
        ktest_spin_hint(&n);
    for (volatile int i = 0; i < PI_LOW_WORK; i++) {
        if (self->rq_link.prio > pi.low_max_prio)
            pi.low_max_prio = self->rq_link.prio;
        ktest_spin_hint(&n);
    }
    mutex_unlock(&pi.m);
    pi.low_prio_after = self->rq_link.prio;
    return 0;
}

static int pi_mid(void *arg)
{
    (void)arg;
    uint64_t end = timer_counter() + ktest_ms(PI_MID_MS);
    unsigned int n = 0;

    semaphore_up(&pi.mid_started);
    while (timer_counter() < end)
        ktest_spin_hint(&n);
    pi.mid_done = true;
    return 0;
}

static int pi_high(void *arg)
{
    (void)arg;
    mutex_lock(&pi.m);
    pi.high_got = timer_counter();
    pi.high_before_mid_done = !pi.mid_done;
    mutex_unlock(&pi.m);
    return 0;
}

bool ktest_sync_pi(char *detail, size_t size)
{
    cpumask_t cpu = CPUMASK_CPU(ktest_last_cpu());
    struct thread *t[3] = {NULL, NULL, NULL};
    unsigned int failed;

    memset(&pi, 0, sizeof(pi));
    mutex_init(&pi.m);
    semaphore_init(&pi.low_locked, 0);
    semaphore_init(&pi.mid_started, 0);
    pi.start = timer_counter();
    t[0] = thread_create("ktest-pi-low", pi_low, NULL, PI_LOW, cpu);
    if (t[0] && !semaphore_down_timeout_ns(&pi.low_locked, 1000000000ULL)) {
        t[1] = thread_create("ktest-pi-mid", pi_mid, NULL, PI_MID, cpu);
        if (t[1] && !semaphore_down_timeout_ns(&pi.mid_started, 1000000000ULL))
            t[2] = thread_create("ktest-pi-high", pi_high, NULL, PI_HIGH, cpu);
    }
    failed = ktest_join(t, 3, 5000, NULL);
    snprintf(detail, size,
             "low ran at %d (base %d) holding the mutex; high got it after %lu us, %s mid "
             "(%d, spinning %d ms) finished; low back to %d",
             pi.low_max_prio, PI_LOW, (unsigned long)ktest_us(pi.high_got - pi.start),
             pi.high_before_mid_done ? "before" : "AFTER", PI_MID, PI_MID_MS, pi.low_prio_after);
    return !failed && pi.low_max_prio == PI_HIGH && pi.high_before_mid_done &&
           pi.low_prio_after == PI_LOW;
}
