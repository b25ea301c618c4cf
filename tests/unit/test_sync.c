/* test_sync.c - the sleeping primitives (mutex, semaphore, condvar, wait queues) under real host
 * threads that contend, on the fake scheduler (fake_sched.c): exclusion, hand-off order, priority
 * inheritance, counts, producer/consumer, timeouts, and no lost wake-ups. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "fake_sched.h"
#include "kernel/sync.h"
#include "kernel/wait.h"
#include "test.h"

#define STUCK_S      30         /* a thread still running by then lost a wake-up */
#define MS           1000000ULL /* fake timer_counter() counts nanoseconds */
#define SHORT_WAIT   (20 * MS)
#define SLEEP_WAIT   (200 * MS)
#define TIMEOUT_SLOP (2000 * MS) /* a timed wait may end this late on a loaded host */
#define MAX_THREADS  8

static uint64_t now(void)
{
    return timer_counter();
}

/* CPU time the calling thread has used, in nanoseconds. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000 * MS + (uint64_t)ts.tv_nsec;
}

static void start(pthread_t *t, int n, void *(*fn)(void *))
{
    for (long i = 0; i < n; i++) {
        if (pthread_create(&t[i], NULL, fn, (void *)i)) {
            printf("FAIL %s: pthread_create\n", test_current);
            exit(1);
        }
    }
}

/* A thread that never ends lost a wake-up: report it and stop, as joining would hang. */
static void join_all(pthread_t *t, int n)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += STUCK_S;
    for (int i = 0; i < n; i++) {
        if (pthread_timedjoin_np(t[i], NULL, &deadline)) {
            printf("FAIL %s: thread %d still blocked after %d s (a lost wake-up)\n", test_current,
                   i, STUCK_S);
            fflush(stdout);
            _exit(1);
        }
    }
}

/* Wait until *slot names a thread that has gone to sleep (sched_prepare_block() ran). */
static void wait_blocked(struct thread *const *slot)
{
    uint64_t limit = now() + STUCK_S * 1000 * MS;
    struct thread *t;

    while (!(t = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) ||
           __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != THREAD_BLOCKED) {
        if (now() > limit) {
            printf("FAIL %s: a thread never blocked\n", test_current);
            fflush(stdout);
            _exit(1);
        }
        sched_yield();
    }
}

/* Mutual exclusion: 8 threads (half of them trying trylock first) bump a plain counter. */
#define MX_ROUNDS 4000
static struct mutex mx_lock = MUTEX_INIT(mx_lock);
static long mx_counter;
static atomic_int mx_inside, mx_overlaps;

static void *mx_worker(void *arg)
{
    bool try_first = (long)arg & 1;

    for (int i = 0; i < MX_ROUNDS; i++) {
        if (!try_first || !mutex_trylock(&mx_lock))
            mutex_lock(&mx_lock);
        if (atomic_fetch_add(&mx_inside, 1))
            atomic_fetch_add(&mx_overlaps, 1);
        long v = mx_counter;
        if (i % 128 == 0)
            sched_yield(); /* hold the mutex across a host switch now and then */
        mx_counter = v + 1;
        atomic_fetch_sub(&mx_inside, 1);
        mutex_unlock(&mx_lock);
    }
    return NULL;
}

static void test_mutex_exclusion(void)
{
    pthread_t t[MAX_THREADS];

    start(t, MAX_THREADS, mx_worker);
    join_all(t, MAX_THREADS);
    CHECK_EQ(mx_counter, (long)MAX_THREADS * MX_ROUNDS);
    CHECK_EQ(atomic_load(&mx_overlaps), 0);
    CHECK(mutex_owner(&mx_lock) == NULL);
    CHECK_EQ(mx_lock.owner, 0);
    CHECK(list_empty(&mx_lock.waiters));
}

/*
 * Hand-off: four waiters of different priorities queue behind the holder, which inherits the
 * highest; each unlock hands the mutex to the most important waiter left, so they get it in
 * priority order whatever order they queued in.
 */
#define HO_WAITERS 4
static const int ho_prio[HO_WAITERS] = {5, 30, 10, 25};
static struct mutex ho_lock;
static struct thread *ho_thread[HO_WAITERS];
static int ho_order[HO_WAITERS];
static atomic_int ho_next;

static void *ho_worker(void *arg)
{
    long i = (long)arg;

    fake_sched_set_prio(ho_prio[i]);
    __atomic_store_n(&ho_thread[i], thread_current(), __ATOMIC_RELEASE);
    mutex_lock(&ho_lock);
    ho_order[atomic_fetch_add(&ho_next, 1)] = ho_prio[i];
    mutex_unlock(&ho_lock);
    return NULL;
}

static void test_mutex_handoff_priority(void)
{
    pthread_t t[HO_WAITERS];
    struct thread *self = thread_current();

    mutex_init(&ho_lock);
    mutex_lock(&ho_lock);
    /* One at a time, so the queue order (5, 30, 10, 25) differs from the priority order. */
    for (int i = 0; i < HO_WAITERS; i++) {
        if (pthread_create(&t[i], NULL, ho_worker, (void *)(long)i))
            exit(1);
        wait_blocked(&ho_thread[i]);
    }
    CHECK(ho_lock.owner & MUTEX_WAITERS);
    CHECK_EQ(self->rq_link.prio, 30); /* inherited from its most important waiter */
    CHECK_EQ(self->base_prio, THREAD_PRIO_DEFAULT);
    mutex_unlock(&ho_lock);
    CHECK_EQ(self->rq_link.prio, THREAD_PRIO_DEFAULT); /* and given back */
    CHECK(mutex_owner(&ho_lock) != self);
    join_all(t, HO_WAITERS);
    CHECK_EQ(ho_order[0], 30);
    CHECK_EQ(ho_order[1], 25);
    CHECK_EQ(ho_order[2], 10);
    CHECK_EQ(ho_order[3], 5);
    CHECK_EQ(ho_lock.owner, 0);
}

/* Ping-pong through two mutex-protected turns: each side sleeps on the other's hand-off. */
#define PP_ROUNDS 5000
static struct mutex pp_lock = MUTEX_INIT(pp_lock);
static struct condvar pp_cv;
static int pp_turn, pp_done[2];

static void *pp_worker(void *arg)
{
    int me = (int)(long)arg;

    for (int i = 0; i < PP_ROUNDS; i++) {
        mutex_lock(&pp_lock);
        while (pp_turn != me)
            condvar_wait(&pp_cv, &pp_lock);
        pp_done[me]++;
        pp_turn = !me;
        condvar_signal(&pp_cv);
        mutex_unlock(&pp_lock);
    }
    return NULL;
}

static void test_condvar_pingpong(void)
{
    pthread_t t[2];

    condvar_init(&pp_cv);
    start(t, 2, pp_worker);
    join_all(t, 2);
    CHECK_EQ(pp_done[0], PP_ROUNDS);
    CHECK_EQ(pp_done[1], PP_ROUNDS);
    CHECK(list_empty(&pp_cv.wq.waiters));
}

/* Semaphore counts: trydown takes exactly the count; up gives back one at a time. */
static void test_semaphore_counts(void)
{
    struct semaphore s;

    semaphore_init(&s, 3);
    CHECK(semaphore_trydown(&s));
    CHECK(semaphore_trydown(&s));
    CHECK(semaphore_trydown(&s));
    CHECK(!semaphore_trydown(&s));
    semaphore_up(&s);
    semaphore_up(&s);
    CHECK(semaphore_trydown(&s));
    CHECK(semaphore_trydown(&s));
    CHECK(!semaphore_trydown(&s));
    CHECK_EQ(s.count, 0);
}

/* A semaphore of 3 admits at most 3 of 8 contending threads at a time; the count comes back. */
#define SL_CAPACITY 3
#define SL_ROUNDS   3000
static struct semaphore sl_sem;
static atomic_int sl_inside, sl_max;

static void *sl_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < SL_ROUNDS; i++) {
        semaphore_down(&sl_sem);
        int in = atomic_fetch_add(&sl_inside, 1) + 1;
        for (int m = atomic_load(&sl_max);
             in > m && !atomic_compare_exchange_weak(&sl_max, &m, in);)
            ;
        if (i % 64 == 0)
            sched_yield();
        atomic_fetch_sub(&sl_inside, 1);
        semaphore_up(&sl_sem);
    }
    return NULL;
}

static void test_semaphore_limits(void)
{
    pthread_t t[MAX_THREADS];

    semaphore_init(&sl_sem, SL_CAPACITY);
    start(t, MAX_THREADS, sl_worker);
    join_all(t, MAX_THREADS);
    CHECK(atomic_load(&sl_max) <= SL_CAPACITY);
    CHECK(atomic_load(&sl_max) >= 1);
    CHECK_EQ(sl_sem.count, SL_CAPACITY);
    CHECK(list_empty(&sl_sem.wq.waiters));
}

/* Producers up, consumers down, the same number of times: every down returns, the count ends 0. */
#define SP_PAIRS  4
#define SP_ROUNDS 5000
static struct semaphore sp_sem;
static atomic_long sp_taken;

static void *sp_worker(void *arg)
{
    bool producer = (long)arg < SP_PAIRS;

    for (int i = 0; i < SP_ROUNDS; i++) {
        if (producer) {
            semaphore_up(&sp_sem);
        } else {
            semaphore_down(&sp_sem);
            atomic_fetch_add(&sp_taken, 1);
        }
    }
    return NULL;
}

static void test_semaphore_no_lost_wakeups(void)
{
    pthread_t t[2 * SP_PAIRS];

    semaphore_init(&sp_sem, 0);
    start(t, 2 * SP_PAIRS, sp_worker);
    join_all(t, 2 * SP_PAIRS);
    CHECK_EQ(atomic_load(&sp_taken), (long)SP_PAIRS * SP_ROUNDS);
    CHECK_EQ(sp_sem.count, 0);
    CHECK(list_empty(&sp_sem.wq.waiters));
}

/* A down on an empty semaphore times out no earlier than asked; an up in time ends it with 0. */
static struct semaphore st_sem;
static struct thread *st_sleeper;

static void *st_upper(void *arg)
{
    (void)arg;
    wait_blocked(&st_sleeper);
    semaphore_up(&st_sem);
    return NULL;
}

static void test_semaphore_timeout(void)
{
    pthread_t t;

    semaphore_init(&st_sem, 0);
    uint64_t start_ns = now();
    CHECK_EQ(semaphore_down_timeout_ns(&st_sem, SHORT_WAIT), -ETIMEDOUT);
    uint64_t took = now() - start_ns;
    CHECK(took >= SHORT_WAIT && took < SHORT_WAIT + TIMEOUT_SLOP);
    CHECK(list_empty(&st_sem.wq.waiters));

    __atomic_store_n(&st_sleeper, thread_current(), __ATOMIC_RELEASE);
    start(&t, 1, st_upper);
    CHECK_EQ(semaphore_down_until(&st_sem, now() + STUCK_S * 1000 * MS), 0);
    join_all(&t, 1);
    CHECK_EQ(st_sem.count, 0);
}

/* Condvar producer/consumer over a ring of 8: every item is consumed once, none lost. */
#define PC_THREADS 3
#define PC_ITEMS   8000
#define PC_TOTAL   (PC_THREADS * PC_ITEMS)
#define PC_RING    8
static struct mutex pc_lock = MUTEX_INIT(pc_lock);
static struct condvar pc_not_full, pc_not_empty;
static int pc_ring[PC_RING], pc_head, pc_count, pc_consumed;
static unsigned char pc_seen[PC_TOTAL];

static void pc_produce(int id)
{
    for (int i = 0; i < PC_ITEMS; i++) {
        mutex_lock(&pc_lock);
        while (pc_count == PC_RING)
            condvar_wait(&pc_not_full, &pc_lock);
        pc_ring[(pc_head + pc_count++) % PC_RING] = id * PC_ITEMS + i;
        condvar_signal(&pc_not_empty);
        mutex_unlock(&pc_lock);
    }
}

static void pc_consume(void)
{
    for (;;) {
        mutex_lock(&pc_lock);
        while (pc_count == 0 && pc_consumed < PC_TOTAL)
            condvar_wait(&pc_not_empty, &pc_lock);
        if (pc_count == 0) { /* all consumed: let the other consumers see it too */
            condvar_broadcast(&pc_not_empty);
            mutex_unlock(&pc_lock);
            return;
        }
        int v = pc_ring[pc_head];
        pc_head = (pc_head + 1) % PC_RING;
        pc_count--;
        pc_consumed++;
        condvar_signal(&pc_not_full);
        mutex_unlock(&pc_lock);
        if (v >= 0 && v < PC_TOTAL)
            __atomic_fetch_add(&pc_seen[v], 1, __ATOMIC_RELAXED);
    }
}

static void *pc_worker(void *arg)
{
    long i = (long)arg;

    if (i < PC_THREADS)
        pc_produce((int)i);
    else
        pc_consume();
    return NULL;
}

static void test_condvar_producer_consumer(void)
{
    pthread_t t[2 * PC_THREADS];
    int missing = 0, twice = 0;

    condvar_init(&pc_not_full);
    condvar_init(&pc_not_empty);
    start(t, 2 * PC_THREADS, pc_worker);
    join_all(t, 2 * PC_THREADS);
    for (int v = 0; v < PC_TOTAL; v++) {
        missing += pc_seen[v] == 0;
        twice += pc_seen[v] > 1;
    }
    CHECK_EQ(pc_consumed, PC_TOTAL);
    CHECK_EQ(missing, 0);
    CHECK_EQ(twice, 0);
    CHECK_EQ(pc_count, 0);
}

/* condvar_wait_until: times out with the mutex held again; a signal in time ends it with 0. */
static struct mutex ct_lock = MUTEX_INIT(ct_lock);
static struct condvar ct_cv;
static bool ct_flag;
static struct thread *ct_sleeper;

static void *ct_signaller(void *arg)
{
    (void)arg;
    wait_blocked(&ct_sleeper);
    mutex_lock(&ct_lock);
    ct_flag = true;
    condvar_signal(&ct_cv);
    mutex_unlock(&ct_lock);
    return NULL;
}

static void test_condvar_timeout(void)
{
    pthread_t t;
    struct thread *self = thread_current();

    condvar_init(&ct_cv);
    mutex_lock(&ct_lock);
    uint64_t start_ns = now();
    CHECK_EQ(condvar_wait_until(&ct_cv, &ct_lock, start_ns + SHORT_WAIT), -ETIMEDOUT);
    uint64_t took = now() - start_ns;
    CHECK(took >= SHORT_WAIT && took < SHORT_WAIT + TIMEOUT_SLOP);
    CHECK(mutex_owner(&ct_lock) == self);
    CHECK(list_empty(&ct_cv.wq.waiters));

    __atomic_store_n(&ct_sleeper, self, __ATOMIC_RELEASE);
    start(&t, 1, ct_signaller);
    int err = 0;
    while (!ct_flag && !err)
        err = condvar_wait_until(&ct_cv, &ct_lock, now() + STUCK_S * 1000 * MS);
    CHECK_EQ(err, 0);
    CHECK(ct_flag);
    CHECK(mutex_owner(&ct_lock) == self);
    mutex_unlock(&ct_lock);
    join_all(&t, 1);
}

/* wait_event_until: true at once, a timeout, and six sleepers all woken by one wake_all. */
#define WE_SLEEPERS 6
static struct wait_queue we_wq = WAIT_QUEUE_INIT(we_wq);
static atomic_int we_go;
static struct thread *we_thread[WE_SLEEPERS];
static int we_ret[WE_SLEEPERS];

static void *we_sleeper(void *arg)
{
    long i = (long)arg;

    __atomic_store_n(&we_thread[i], thread_current(), __ATOMIC_RELEASE);
    we_ret[i] = wait_event_until(&we_wq, atomic_load(&we_go), now() + STUCK_S * 1000 * MS);
    return NULL;
}

static void test_wait_event(void)
{
    pthread_t t[WE_SLEEPERS];
    int one = 1;

    uint64_t start_ns = now();
    CHECK_EQ(wait_event_until(&we_wq, one == 1, start_ns + SHORT_WAIT), 0);
    CHECK(now() - start_ns < SHORT_WAIT);
    start_ns = now();
    CHECK_EQ(wait_event_until(&we_wq, atomic_load(&we_go), start_ns + SHORT_WAIT), -ETIMEDOUT);
    uint64_t took = now() - start_ns;
    CHECK(took >= SHORT_WAIT && took < SHORT_WAIT + TIMEOUT_SLOP);
    CHECK(list_empty(&we_wq.waiters));
    /* A timed wait sleeps: it does not spin until its deadline. */
    uint64_t cpu = cpu_ns();
    CHECK_EQ(wait_event_until(&we_wq, atomic_load(&we_go), now() + SLEEP_WAIT), -ETIMEDOUT);
    CHECK(cpu_ns() - cpu < SLEEP_WAIT / 4);

    start(t, WE_SLEEPERS, we_sleeper);
    for (int i = 0; i < WE_SLEEPERS; i++)
        wait_blocked(&we_thread[i]);
    atomic_store(&we_go, 1);
    CHECK_EQ(wait_wake_all(&we_wq), WE_SLEEPERS);
    join_all(t, WE_SLEEPERS);
    for (int i = 0; i < WE_SLEEPERS; i++)
        CHECK_EQ(we_ret[i], 0);
    CHECK(list_empty(&we_wq.waiters));
}

/*
 * A wake-up racing the deadline: the waker sets the condition and wakes at about the moment the
 * sleeper's 1 ms deadline passes. Either the sleeper saw the condition (0) or its deadline had
 * passed (-ETIMEDOUT); it never sleeps on, and it always leaves the queue.
 */
#define RACE_ROUNDS 300
static struct wait_queue race_wq = WAIT_QUEUE_INIT(race_wq);
static atomic_int race_flag, race_round = -1;

static void *race_waker(void *arg)
{
    (void)arg;
    for (int r = 0; r < RACE_ROUNDS; r++) {
        while (atomic_load(&race_round) != r)
            sched_yield();
        uint64_t at = now() + MS / 2 + (uint64_t)(r % 10) * MS / 10;
        while (now() < at)
            ;
        atomic_store(&race_flag, 1);
        wait_wake_all(&race_wq);
    }
    return NULL;
}

static void test_wait_event_timeout_races_wake(void)
{
    pthread_t t;
    int woken = 0, timed_out = 0, wrong = 0;

    start(&t, 1, race_waker);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        atomic_store(&race_flag, 0);
        uint64_t deadline = now() + MS;
        atomic_store(&race_round, r);
        int ret = wait_event_until(&race_wq, atomic_load(&race_flag), deadline);
        if (ret == 0)
            woken++;
        else if (ret == -ETIMEDOUT && now() >= deadline)
            timed_out++;
        else
            wrong++;
        /* The waker finishes its round before the next one starts. */
        while (!atomic_load(&race_flag))
            sched_yield();
        CHECK(list_empty(&race_wq.waiters));
    }
    join_all(&t, 1);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(woken + timed_out, RACE_ROUNDS);
}

static const struct test_case cases[] = {
    {"kernel/sync/mutex_exclusion", test_mutex_exclusion},
    {"kernel/sync/mutex_handoff_priority", test_mutex_handoff_priority},
    {"kernel/sync/condvar_pingpong", test_condvar_pingpong},
    {"kernel/sync/semaphore_counts", test_semaphore_counts},
    {"kernel/sync/semaphore_limits", test_semaphore_limits},
    {"kernel/sync/semaphore_no_lost_wakeups", test_semaphore_no_lost_wakeups},
    {"kernel/sync/semaphore_timeout", test_semaphore_timeout},
    {"kernel/sync/condvar_producer_consumer", test_condvar_producer_consumer},
    {"kernel/sync/condvar_timeout", test_condvar_timeout},
    {"kernel/sync/wait_event", test_wait_event},
    {"kernel/sync/wait_event_timeout_races_wake", test_wait_event_timeout_races_wake},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
