/* ktest.h - in-kernel self-tests behind the `ktest` shell command, and helpers they share. */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/irqflags.h"
#include "kernel/thread.h"

#define KTEST_MAX_THREADS 32
#define KTEST_PRIO        THREAD_PRIO_DEFAULT /* below the shell, which runs the tests */

/* A test: true for PASS; writes what it measured into detail (one line, no newline). */
typedef bool (*ktest_fn)(char *detail, size_t size);

/* Scheduler tests (ktest_sched.c). */
bool ktest_sched_threads(char *detail, size_t size);
bool ktest_sched_preempt(char *detail, size_t size);
bool ktest_sched_nopreempt(char *detail, size_t size);
bool ktest_sched_rr(char *detail, size_t size);
bool ktest_sched_sleep(char *detail, size_t size);
bool ktest_sched_balance(char *detail, size_t size);
bool ktest_sched_affinity(char *detail, size_t size);

/* Synchronisation tests (ktest_sync.c). */
bool ktest_sync_mutex(char *detail, size_t size);
bool ktest_sync_semaphore(char *detail, size_t size);
bool ktest_sync_condvar(char *detail, size_t size);
bool ktest_sync_pingpong(char *detail, size_t size);
bool ktest_sync_pi(char *detail, size_t size);

/*
 * Call once per round of every spinning loop (n: the loop's own counter). Every 65536th call
 * executes YIELD: a hint on hardware, but QEMU's single-threaded TCG (as with -icount) then runs
 * the other virtual CPUs, which a CPU spinning without it can keep waiting for its whole budget.
 */
static inline void ktest_spin_hint(unsigned int *n)
{
    if ((++*n & 0xffff) == 0)
        arch_cpu_relax();
}

unsigned int ktest_ncpus(void);    /* online CPUs */
unsigned int ktest_last_cpu(void); /* highest online CPU number */
/* The (i mod ktest_ncpus())-th online CPU, as a mask: spreads workers over the CPUs. */
cpumask_t ktest_nth_cpu(unsigned int i);
uint64_t ktest_ms(uint64_t ms);    /* milliseconds in system counter ticks */
uint64_t ktest_us(uint64_t ticks); /* system counter ticks in microseconds */
/* Record the running CPU in *mask (statistics: the thread may move right after). */
void ktest_note_cpu(volatile cpumask_t *mask);
/* A start line: workers created one by one wait at it, then all start together. */
void ktest_gate_close(void);
void ktest_gate_wait(void);
void ktest_gate_open(void);
/*
 * Join n threads (NULL entries count as failures) within timeout_ms in all; exit codes go to codes
 * if not NULL. Returns how many failed; a thread still running is detached so it frees itself.
 */
unsigned int ktest_join(struct thread **threads, unsigned int n, uint64_t timeout_ms, int *codes);

#endif
