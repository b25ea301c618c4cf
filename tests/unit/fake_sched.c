/* fake_sched.c - the scheduler's blocking interface on host pthreads, so the real sleeping
 * primitives (kernel/mutex.c, wait.c, semaphore.c, condvar.c) and what is built on them run in host
 * unit tests with real threads under ASan/UBSan. */
#define _POSIX_C_SOURCE 200809L
#include "fake_sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/time.h"

/*
 * A host thread's struct thread, with what it sleeps on. state follows the kernel's rules: the
 * thread itself writes BLOCKED (sched_prepare_block), a waker writes RUNNING under m; the sleeper
 * rechecks under m, so a wake-up between the two is never lost, as in kernel/sched.c.
 */
struct fake_thread {
    struct thread t;
    pthread_mutex_t m;
    pthread_cond_t cv;
};

static _Thread_local struct fake_thread *fake_self;
static unsigned int fake_next_id = 1;
static pthread_key_t fake_key; /* its destructor frees a thread's fake_thread when it ends */
static pthread_once_t fake_key_once = PTHREAD_ONCE_INIT;

static struct fake_thread *fake_of(struct thread *t)
{
    return (struct fake_thread *)((char *)t - offsetof(struct fake_thread, t));
}

static void fake_thread_free(void *arg)
{
    struct fake_thread *ft = arg;

    pthread_cond_destroy(&ft->cv);
    pthread_mutex_destroy(&ft->m);
    free(ft);
}

static void fake_key_create(void)
{
    if (pthread_key_create(&fake_key, fake_thread_free))
        abort();
}

struct thread *thread_current(void)
{
    if (!fake_self) {
        struct fake_thread *ft = calloc(1, sizeof(*ft));

        if (!ft)
            abort();
        pthread_mutex_init(&ft->m, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        /* Deadlines are timer_counter() values: CLOCK_MONOTONIC, not the default REALTIME. */
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&ft->cv, &attr);
        pthread_condattr_destroy(&attr);
        ft->t.state = THREAD_RUNNING;
        ft->t.base_prio = THREAD_PRIO_DEFAULT;
        ft->t.rq_link.prio = THREAD_PRIO_DEFAULT;
        ft->t.id = __atomic_fetch_add(&fake_next_id, 1, __ATOMIC_RELAXED);
        list_init(&ft->t.pi_mutexes);
        snprintf(ft->t.name, sizeof(ft->t.name), "host%u", ft->t.id);
        pthread_once(&fake_key_once, fake_key_create);
        pthread_setspecific(fake_key, ft); /* the main thread's stays: still reachable */
        fake_self = ft;
    }
    return &fake_self->t;
}

void fake_sched_set_prio(int prio)
{
    struct thread *t = thread_current();

    t->base_prio = prio;
    t->rq_link.prio = prio;
}

uint64_t timer_counter(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t timer_frequency(void)
{
    return 1000000000u;
}

uint64_t timer_ns_to_ticks(uint64_t ns)
{
    return ns;
}

uint64_t timer_ticks_to_ns(uint64_t ticks)
{
    return ticks;
}

void sched_prepare_block(void)
{
    __atomic_store_n(&thread_current()->state, THREAD_BLOCKED, __ATOMIC_SEQ_CST);
}

bool sched_block_until(uint64_t deadline)
{
    struct fake_thread *ft = fake_of(thread_current());
    struct timespec ts = {(time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u)};
    int err = 0;

    pthread_mutex_lock(&ft->m);
    while (ft->t.state == THREAD_BLOCKED && err != ETIMEDOUT) {
        if (deadline == SCHED_NO_DEADLINE)
            pthread_cond_wait(&ft->cv, &ft->m);
        else
            err = pthread_cond_timedwait(&ft->cv, &ft->m, &ts);
    }
    /* Timed out: undo sched_prepare_block(), as the kernel's timeout does. */
    ft->t.state = THREAD_RUNNING;
    pthread_mutex_unlock(&ft->m);
    return deadline != SCHED_NO_DEADLINE && timer_counter() >= deadline;
}

void sched_block(void)
{
    sched_block_until(SCHED_NO_DEADLINE);
}

bool sched_wake(struct thread *t)
{
    struct fake_thread *ft = fake_of(t);
    bool woken = false;

    pthread_mutex_lock(&ft->m);
    if (ft->t.state == THREAD_BLOCKED) {
        ft->t.state = THREAD_RUNNING;
        woken = true;
        pthread_cond_signal(&ft->cv);
    }
    pthread_mutex_unlock(&ft->m);
    return woken;
}

void sched_set_prio(struct thread *t, int prio)
{
    __atomic_store_n(&t->rq_link.prio, prio, __ATOMIC_RELAXED);
}

void panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "panic: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}
