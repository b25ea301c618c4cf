/* thread.h - kernel threads: creation, exit and join, priority, CPU affinity, sleeping. */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/runqueue.h"
#include "lib/list.h"

struct thread;

/**
 * Switch hooks of an upper layer that runs its own state on a thread (like KVM's preempt
 * notifiers): the vmm's vCPU threads carry a guest's EL1 registers, the process layer's user
 * threads their process. The scheduler calls sched_out just before it switches away from the
 * thread and sched_in just after it switched to it, on that CPU, IRQs masked and run-queue lock
 * held: they must not sleep or take a lock. Either may be NULL.
 */
struct thread_ops {
    void (*sched_in)(struct thread *t);
    void (*sched_out)(struct thread *t);
};

/* Priorities: a larger number is more important. The idle threads sit below THREAD_PRIO_MIN. */
#define THREAD_PRIO_MIN     0
#define THREAD_PRIO_MAX     (RUNQUEUE_NR_PRIO - 1)
#define THREAD_PRIO_DEFAULT 20
#define THREAD_PRIO_SHELL   40 /* above ordinary work, so the console answers under load */

#define THREAD_NAME_MAX    16
#define THREAD_STACK_ORDER 2 /* 16 KiB kernel stack (page_alloc order) */

enum thread_state {
    THREAD_RUNNING, /* wants a CPU: running (on_cpu) or queued */
    THREAD_BLOCKED, /* waits for sched_wake(): wait queue, sync object, sleep, not started yet */
    THREAD_DEAD,    /* exited; freed once off the CPU and joined (or detached) */
};

/** Callee-saved registers and SP: all a thread needs to resume inside sched (switch.S). */
struct cpu_context {
    uint64_t x19, x20, x21, x22, x23, x24, x25, x26, x27, x28;
    uint64_t fp; /* x29 */
    uint64_t lr; /* x30: where the switch returns to */
    uint64_t sp;
};

/**
 * A thread. Locks: "rq" is the run-queue lock of the CPU in `cpu` (sched.c); "pi" the priority-
 * inheritance lock (mutex.c); "tq" the timeout queue lock of `timeout_cpu` (timeout.c).
 */
struct thread {
    struct cpu_context ctx; /* switch.S, on the CPU switching the thread */
    struct rq_link rq_link; /* rq; rq_link.prio is the effective priority (PI may raise it) */
    volatile int state;     /* rq; only the thread itself sets BLOCKED or DEAD, while running */
    unsigned int cpu;       /* rq (held for the old CPU when it changes) */
    bool on_rq;             /* rq: queued on or running on `cpu` */
    bool on_cpu;            /* rq: its registers are live on a CPU (or being saved) */
    bool migrating;         /* rq: switched out to be queued on an allowed CPU */
    bool idle;              /* a CPU's idle thread: never queued, never exits */
    unsigned int slice;     /* rq: ticks left in its round-robin turn */
    cpumask_t affinity;     /* CPUs it may run on; written by thread_set_affinity */
    int base_prio;          /* pi: priority it was given; rq_link.prio >= base_prio */
    struct list_node pi_mutexes;   /* pi: mutexes it owns that have waiters */
    struct mutex *blocked_on;      /* pi: mutex it waits for */
    uint64_t deadline;             /* tq: counter value to wake at */
    struct list_node timeout_link; /* tq */
    unsigned int timeout_cpu;      /* tq: queue it is armed on */
    volatile int join_state;       /* atomic: THREAD_JOINABLE / _DETACHED / _EXITED (thread.c) */
    int exit_code;
    uint64_t run_ticks; /* rq: ticks it was running for */
    uint64_t cpus_run;  /* rq: CPUs it has run on (statistics, ps) */
    unsigned int id;
    char name[THREAD_NAME_MAX];
    int (*entry)(void *arg);
    void *arg;
    uintptr_t stack;           /* base (lowest address) of its kernel stack; 0 for a boot stack */
    struct list_node all_link; /* thread list lock (thread.c) */
    const struct thread_ops *ops; /* its owner's hooks, or NULL; set by the thread itself */
    void *ops_ctx;                /* its owner's context (a vCPU, a user thread), with ops */
};

/** One line of `ps`: a copy, so the thread may go away meanwhile. */
struct thread_info {
    unsigned int id;
    char name[THREAD_NAME_MAX];
    int state;
    bool on_cpu;
    bool idle;
    bool timed; /* blocked with a timeout (sleeping) */
    int prio;
    int base_prio;
    unsigned int cpu;
    cpumask_t affinity;
    uint64_t run_ticks;
    uint64_t cpus_run;
};

/*
 * Create a thread running entry(arg) at priority prio on the CPUs in affinity, and start it.
 * Returning from entry is thread_exit(return value). The thread must be joined or detached.
 * NULL: out of memory, bad priority, or no online CPU in affinity.
 */
struct thread *thread_create(const char *name, int (*entry)(void *arg), void *arg, int prio,
                             cpumask_t affinity);
void thread_exit(int code) __attribute__((noreturn));
/* Wait for t to exit, free it and return its exit code. */
int thread_join(struct thread *t);
/* Same with a limit: 0 and *code set, or -ETIMEDOUT (t is still joinable). */
int thread_join_timeout(struct thread *t, uint64_t timeout_ns, int *code);
/* Free t by itself when it exits; t must not be used afterwards. */
void thread_detach(struct thread *t);

struct thread *thread_current(void);
/* Base priority; a thread holding a mutex may run higher while a more important one waits. */
int thread_set_priority(struct thread *t, int prio);
/* Restrict t to the online CPUs in mask (it moves at once if it runs elsewhere); -EINVAL if none.
 */
int thread_set_affinity(struct thread *t, cpumask_t mask);
/* The same by thread id (the shell's `pin`); -ESRCH if no live thread has it. */
int thread_set_affinity_id(unsigned int id, cpumask_t mask);
void thread_yield(void);
/* Sleep for at least ns (one-shot timer: microsecond accuracy, not tick granularity). */
void thread_sleep_ns(uint64_t ns);
/* Sleep until the system counter reaches deadline. */
void thread_sleep_until(uint64_t deadline);

/* Copy up to max threads into out; returns how many there are in total. */
unsigned int thread_snapshot(struct thread_info *out, unsigned int max);

/*
 * Give the current thread to an upper layer: ops are called on every switch from now on, and ctx
 * (ops_ctx) says which of that layer's objects the thread runs (thread_ctx_of). Only the thread
 * itself sets them, once, before it does the layer's work.
 */
void thread_set_ops(const struct thread_ops *ops, void *ctx);
/* t's context if t belongs to the layer with ops, else NULL. */
static inline void *thread_ctx_of(const struct thread *t, const struct thread_ops *ops)
{
    return t->ops == ops ? t->ops_ctx : NULL;
}

/* The idle thread of cpu: it runs on that CPU's boot stack, in sched_run_idle() (sched.c). */
struct thread *thread_create_idle(unsigned int cpu);
/* False if t has overrun its kernel stack (the canary at the bottom is gone). */
bool thread_stack_intact(const struct thread *t);
/* After an exited thread has left its CPU (sched.c): free it or hand it to its joiner. */
void thread_reap(struct thread *t);
/* The first code a new thread runs, on its own stack (switch.S returns into it). */
void thread_start(struct thread *prev) __attribute__((noreturn));

#endif
