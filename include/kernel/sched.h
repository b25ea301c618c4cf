/* sched.h - the priority SMP scheduler: per-CPU run queues, preemption, blocking and waking. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/thread.h"

#define SCHED_SLICE_TICKS   3 /* round-robin turn within a priority level */
#define SCHED_BALANCE_TICKS 4 /* a busy CPU looks for imbalance this often */
#define SCHED_NO_DEADLINE   UINT64_MAX

/* Boot CPU, before the other CPUs start: run queues, idle threads, the reschedule SGI. */
void sched_init(void);
/* Every CPU once its timer and GIC are up (the boot CPU after creating the first threads). */
void sched_run_idle(void) __attribute__((noreturn));

/*
 * Blocking, the pattern every sleeping primitive follows (kernel/wait.c):
 *   publish "I am waiting" where a waker will find it (under that object's lock), then
 *   sched_prepare_block() before dropping the lock, then sched_block() or sched_block_until().
 * A wake-up between the two is not lost: sched_wake() turns the thread back to RUNNING and
 * sched_block() returns at once. Callers recheck their condition: a block may end early.
 * Never with IRQs masked or a spinlock held.
 */
void sched_prepare_block(void);
void sched_block(void);
/* Block with a deadline (system counter value, or SCHED_NO_DEADLINE); true if it has passed. */
bool sched_block_until(uint64_t deadline);
/* Make a BLOCKED thread runnable (from any context, IRQ handlers included); false if it was not. */
bool sched_wake(struct thread *t);
/* The running thread has exited (thread_exit): switch away for good. */
void sched_exit(void) __attribute__((noreturn));

#ifndef AVATAR_HOST /* host unit tests have POSIX's sched_yield, with another type */
/* Give the CPU to the next thread of the same priority, if any. */
void sched_yield(void);
#endif
/* Effective priority of t (base priority or an inherited one); requeues and preempts as needed. */
void sched_set_prio(struct thread *t, int prio);
/* Move t off CPUs its (already updated) affinity excludes. */
void sched_apply_affinity(struct thread *t);
/* Online CPUs, as a mask. */
cpumask_t sched_online_cpus(void);
/*
 * Counter time all CPUs together spent asleep in their idle loops. Under QEMU's icount with
 * sleep=off that time is skipped, not executed: benchmarks subtract it to count instructions.
 */
uint64_t sched_idle_ticks(void);
/* Another thread waits for this CPU (or a reschedule is asked): a spinning waiter should yield. */
bool sched_cpu_contended(void);
/* Threads running or queued on all CPUs now (the load average samples it). */
unsigned int sched_runnable(void);

/* The timer interrupt, once per tick on each CPU: round robin and periodic balancing. */
void sched_tick(void);
/* On the way out of an IRQ: switch if a more important thread is waiting and we may. */
void sched_irq_exit(void);
/* New thread's first code: finish the switch that started it and enable IRQs. */
void sched_finish_first_switch(struct thread *prev);

/* switch.S: save prev's callee-saved state, load next's; returns (in next) the thread left. */
struct thread *sched_switch_context(struct cpu_context *prev, struct cpu_context *next,
                                    struct thread *prev_thread);

#endif
