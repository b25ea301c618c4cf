/* runqueue.h - priority run queue (bitmap + FIFO per level) and the CPU choices made from queue
 * loads. */
#ifndef KERNEL_RUNQUEUE_H
#define KERNEL_RUNQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/list.h"

/* Priorities 0 (lowest) .. RUNQUEUE_NR_PRIO - 1 (highest). RUNQUEUE_IDLE: below every thread. */
#define RUNQUEUE_NR_PRIO 64
#define RUNQUEUE_IDLE    (-1)

/* CPU sets: bit n is logical CPU n. */
typedef uint64_t cpumask_t;
#define CPUMASK_ALL    (~(cpumask_t)0)
#define CPUMASK_CPU(n) ((cpumask_t)1 << (n))

/** An entry: embedded in what is queued (a thread); prio is read only while queued or by the owner.
 */
struct rq_link {
    struct list_node node;
    int prio;
};

/** The queued (runnable, not running) entries of one CPU. Caller provides the locking. */
struct runqueue {
    uint64_t bitmap; /* bit p set <=> level[p] is not empty */
    unsigned int nr_queued;
    struct list_node level[RUNQUEUE_NR_PRIO];
};

void runqueue_init(struct runqueue *rq);
/* Queue at the back (round robin) or at the front (a preempted entry keeps its turn). */
void runqueue_push_tail(struct runqueue *rq, struct rq_link *link);
void runqueue_push_head(struct runqueue *rq, struct rq_link *link);
void runqueue_remove(struct runqueue *rq, struct rq_link *link);
/* Highest priority level's first entry, or NULL. */
struct rq_link *runqueue_first(const struct runqueue *rq);
/* Priority of runqueue_first(), or RUNQUEUE_IDLE when empty. */
int runqueue_top_prio(const struct runqueue *rq);
/* Same, from a bitmap read without the lock (a hint for another CPU). */
int runqueue_bitmap_top(uint64_t bitmap);
/* First entry in priority then FIFO order with prio >= min_prio that accept() takes, or NULL. */
struct rq_link *runqueue_find(const struct runqueue *rq, int min_prio,
                              bool (*accept)(const struct rq_link *link, void *ctx), void *ctx);

/** What one CPU looks like to the others, read without its lock (decisions are hints). */
struct rq_load {
    bool online;
    int curr_prio;           /* running thread, RUNQUEUE_IDLE when idle */
    int top_prio;            /* best queued thread, RUNQUEUE_IDLE when none */
    unsigned int nr_running; /* queued + running (the idle thread does not count) */
};

/*
 * Where a thread of priority prio that last ran on prev should be queued: prev if it would run
 * there at once (nothing as important running or queued), else the allowed CPU whose running and
 * queued work is least important and below prio (then fewest runnable), else the allowed CPU with
 * the fewest runnable threads (prev on a tie). -1 if allowed names no online CPU.
 */
int runqueue_select_cpu(const struct rq_load *load, unsigned int ncpus, cpumask_t allowed,
                        unsigned int prev, int prio);

/*
 * The CPU self should pull a queued thread from, or -1. First by priority: the CPU whose best
 * queued thread beats my_best (the best self would otherwise run). With balance, also by count: the
 * busiest CPU with a queued thread and at least two more runnable threads than self.
 */
int runqueue_pull_source(const struct rq_load *load, unsigned int ncpus, unsigned int self,
                         int my_best, bool balance);

#endif
