/* threads.c - many threads on every CPU increment shared counters under a mutex and a raw futex
 * lock; the totals must be exact. Each thread also keeps floating-point/SIMD sums and a TLS
 * variable going across all those switches: the kernel must keep every thread's registers
 * apart. Usage: threads [threads] [increments] */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "avtest.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static long mutex_counter;
static long futex_counter;
static atomic_int futex_word; /* 0 free, 1 taken, 2 taken with sleepers (Drepper's mutex) */
static atomic_ulong cpus_seen;
static int increments;
static atomic_int fp_errors, tls_errors;
static __thread long tls_id;

typedef double v2df __attribute__((vector_size(16)));

static void futex_lock(void)
{
    int c = 0;

    if (atomic_compare_exchange_strong(&futex_word, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&futex_word, 2);
    while (c != 0) {
        raw_syscall(SYS_futex, (long)&futex_word, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0);
        c = atomic_exchange(&futex_word, 2);
    }
}

static void futex_unlock(void)
{
    if (atomic_exchange(&futex_word, 0) == 2)
        raw_syscall(SYS_futex, (long)&futex_word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    double acc = 0;
    v2df vacc = {0, 0};

    tls_id = id;
    for (int i = 0; i < increments; i++) {
        acc += (double)(i % 7 + id);
        vacc += (v2df){(double)id, (double)(i % 3)};
        pthread_mutex_lock(&mutex);
        long v = mutex_counter;
        if ((i & 63) == 0)
            sched_yield(); /* hold the lock across a switch now and then: others must wait */
        mutex_counter = v + 1;
        pthread_mutex_unlock(&mutex);
        futex_lock();
        futex_counter++;
        futex_unlock();
        atomic_fetch_or(&cpus_seen, 1UL << current_cpu());
    }
    /* Exact in double: small integers summed. */
    double want = 0, want_v1 = 0;
    for (int i = 0; i < increments; i++) {
        want += (double)(i % 7) + (double)id;
        want_v1 += (double)(i % 3);
    }
    if (acc != want || vacc[0] != (double)id * increments || vacc[1] != want_v1)
        atomic_fetch_add(&fp_errors, 1);
    if (tls_id != id)
        atomic_fetch_add(&tls_errors, 1);
    return (void *)(long)gettid();
}

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 16;
    pthread_t t[63];
    int started = 0, joined = 0;

    increments = argc > 2 ? atoi(argv[2]) : 2000;
    if (nthreads < 1 || nthreads > 63 || increments < 1) {
        printf("usage: threads [1-63 threads] [increments]\n");
        return 2;
    }
    for (int i = 0; i < nthreads && started == i; i++)
        started += pthread_create(&t[i], NULL, worker, (void *)(long)(i + 1)) == 0;
    for (int i = 0; i < started; i++) {
        void *ret;
        joined += pthread_join(t[i], &ret) == 0 && (long)ret > 0;
    }
    long want = (long)started * increments;
    test_check(started == nthreads && joined == nthreads, "threads-create-join",
               "%d started, %d joined of %d", started, joined, nthreads);
    test_check(mutex_counter == want, "threads-mutex-counter", "%ld, expected %ld", mutex_counter,
               want);
    test_check(futex_counter == want, "threads-futex-counter", "%ld, expected %ld", futex_counter,
               want);
    test_check(!atomic_load(&fp_errors), "threads-fp-simd-registers-kept",
               "%d threads saw their FP/SIMD sums change", atomic_load(&fp_errors));
    test_check(!atomic_load(&tls_errors), "threads-tls-kept", "%d threads lost their TLS",
               atomic_load(&tls_errors));
    int used = __builtin_popcountl(atomic_load(&cpus_seen));
    test_check(used == ncpus(), "threads-on-every-cpu", "ran on %d of %d CPUs (mask 0x%lx)", used,
               ncpus(), atomic_load(&cpus_seen));
    printf("threads: %d threads x %d increments = %ld on %d CPUs\n", nthreads, increments,
           mutex_counter, used);
    return test_done("threads");
}
