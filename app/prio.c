/* prio.c - priority preemption seen from user space: a high-priority thread that wakes from a
 * sleep runs at once (well within one 10 ms tick) although a low-priority thread spins on the
 * same CPU, and the low one still gets the CPU while the high one sleeps. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "avtest.h"

#define TICK_NS 10000000ULL
#define ROUNDS  20
#define NAP_NS  2000000ULL

static atomic_long spins;
static atomic_int stop;
static atomic_int spinner_tid;

static void *spinner(void *arg)
{
    int nice = (int)(long)arg;

    atomic_store(&spinner_tid, gettid());
    setpriority(PRIO_PROCESS, 0, nice);
    while (!atomic_load(&stop))
        atomic_fetch_add(&spins, 1);
    return NULL;
}

/* Worst lateness of ROUNDS naps of the calling thread while a spinner of nice runs. */
static uint64_t worst_wakeup(int spinner_nice, long *spun)
{
    pthread_t t;
    uint64_t worst = 0;

    atomic_store(&stop, 0);
    atomic_store(&spins, 0);
    pthread_create(&t, NULL, spinner, (void *)(long)spinner_nice);
    while (!atomic_load(&spinner_tid))
        sched_yield();
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec nap = {0, (long)NAP_NS};
        uint64_t start = now_ns();
        nanosleep(&nap, NULL);
        uint64_t late = now_ns() - start - NAP_NS;
        if (late > worst)
            worst = late;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    atomic_store(&spinner_tid, 0);
    *spun = atomic_load(&spins);
    return worst;
}

int main(void)
{
    long spun;

    /* Everything on one CPU, so the spinner and this thread compete. */
    CHECK(pin_to_cpu(0) == 0, "prio-pin-cpu0");
    CHECK(setpriority(PRIO_PROCESS, 0, -10) == 0, "prio-setpriority-self");
    CHECK(getpriority(PRIO_PROCESS, 0) == -10, "prio-getpriority-self");
    CHECK_RET(raw_syscall(SYS_getpriority, PRIO_PROCESS, 0, 0, 0, 0, 0), 30,
              "prio-raw-getpriority-20-minus-nice");
    uint64_t high = worst_wakeup(10, &spun);
    test_check(high < TICK_NS, "prio-high-preempts-low-within-a-tick", "woke up to %llu us late",
               (unsigned long long)(high / 1000));
    test_check(spun > 0, "prio-low-runs-while-high-sleeps", "spinner made %ld turns", spun);
    printf("prio: high priority wakes at most %llu us late over a spinning low one\n",
           (unsigned long long)(high / 1000));

    CHECK(setpriority(PRIO_PROCESS, 0, 0) == 0, "prio-back-to-nice-0");
    CHECK(setpriority(PRIO_PROCESS, 0, -100) == 0 && getpriority(PRIO_PROCESS, 0) == -20,
          "prio-nice-clamped-to-minus-20");
    CHECK(setpriority(PRIO_PROCESS, 0, 0) == 0, "prio-reset");
    CHECK_RET(raw_syscall(SYS_setpriority, 1 /* PRIO_PGRP */, 0, 0, 0, 0, 0), -EINVAL,
              "prio-pgrp-einval");
    CHECK_RET(raw_syscall(SYS_setpriority, PRIO_PROCESS, 30000, 0, 0, 0, 0), -ESRCH,
              "prio-unknown-thread-esrch");
    CHECK_RET(raw_syscall(SYS_getpriority, PRIO_PROCESS, -5, 0, 0, 0, 0), -ESRCH,
              "prio-negative-who-esrch");
    return test_done("prio");
}
