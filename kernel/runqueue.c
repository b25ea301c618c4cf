/* runqueue.c - priority run queue and CPU selection: pure logic, also built for host unit tests. */
#include "kernel/runqueue.h"

void runqueue_init(struct runqueue *rq)
{
    rq->bitmap = 0;
    rq->nr_queued = 0;
    for (int p = 0; p < RUNQUEUE_NR_PRIO; p++)
        list_init(&rq->level[p]);
}

void runqueue_push_tail(struct runqueue *rq, struct rq_link *link)
{
    list_add_tail(&rq->level[link->prio], &link->node);
    rq->bitmap |= (uint64_t)1 << link->prio;
    rq->nr_queued++;
}

void runqueue_push_head(struct runqueue *rq, struct rq_link *link)
{
    list_add(&rq->level[link->prio], &link->node);
    rq->bitmap |= (uint64_t)1 << link->prio;
    rq->nr_queued++;
}

void runqueue_remove(struct runqueue *rq, struct rq_link *link)
{
    list_del(&link->node);
    if (list_empty(&rq->level[link->prio]))
        rq->bitmap &= ~((uint64_t)1 << link->prio);
    rq->nr_queued--;
}

int runqueue_bitmap_top(uint64_t bitmap)
{
    return bitmap ? 63 - __builtin_clzll(bitmap) : RUNQUEUE_IDLE;
}

int runqueue_top_prio(const struct runqueue *rq)
{
    return runqueue_bitmap_top(rq->bitmap);
}

struct rq_link *runqueue_first(const struct runqueue *rq)
{
    int p = runqueue_top_prio(rq);

    return p < 0 ? NULL : list_entry(rq->level[p].next, struct rq_link, node);
}

struct rq_link *runqueue_find(const struct runqueue *rq, int min_prio,
                              bool (*accept)(const struct rq_link *link, void *ctx), void *ctx)
{
    uint64_t levels = rq->bitmap;

    if (min_prio > 0)
        levels &= ~(((uint64_t)1 << min_prio) - 1);
    while (levels) {
        int p = runqueue_bitmap_top(levels);

        for (struct list_node *n = rq->level[p].next; n != &rq->level[p]; n = n->next) {
            struct rq_link *link = list_entry(n, struct rq_link, node);
            if (accept(link, ctx))
                return link;
        }
        levels &= ~((uint64_t)1 << p);
    }
    return NULL;
}

static bool cpu_allowed(const struct rq_load *load, cpumask_t allowed, unsigned int cpu)
{
    return cpu < 64 && (allowed & ((cpumask_t)1 << cpu)) && load[cpu].online;
}

/* The priority a newcomer has to beat to run on cpu at once: its running or best queued thread. */
static int busy_prio(const struct rq_load *l)
{
    return l->curr_prio > l->top_prio ? l->curr_prio : l->top_prio;
}

int runqueue_select_cpu(const struct rq_load *load, unsigned int ncpus, cpumask_t allowed,
                        unsigned int prev, int prio)
{
    int lowest = -1; /* allowed CPU busy with the least important work below prio */
    int emptiest = -1;

    if (prev < ncpus && cpu_allowed(load, allowed, prev) && busy_prio(&load[prev]) < prio)
        return (int)prev;
    for (unsigned int i = 0; i < ncpus; i++) {
        if (!cpu_allowed(load, allowed, i))
            continue;
        int busy = busy_prio(&load[i]);
        if (busy < prio &&
            (lowest < 0 || busy < busy_prio(&load[lowest]) ||
             (busy == busy_prio(&load[lowest]) && load[i].nr_running < load[lowest].nr_running)))
            lowest = (int)i;
        if (emptiest < 0 || load[i].nr_running < load[emptiest].nr_running)
            emptiest = (int)i;
    }
    if (lowest >= 0)
        return lowest;
    if (emptiest >= 0 && prev < ncpus && cpu_allowed(load, allowed, prev) &&
        load[prev].nr_running == load[emptiest].nr_running)
        return (int)prev;
    return emptiest;
}

int runqueue_pull_source(const struct rq_load *load, unsigned int ncpus, unsigned int self,
                         int my_best, bool balance)
{
    int best = -1;

    for (unsigned int i = 0; i < ncpus; i++) {
        if (i == self || !load[i].online || load[i].top_prio <= my_best)
            continue;
        if (best < 0 || load[i].top_prio > load[best].top_prio)
            best = (int)i;
    }
    if (best >= 0 || !balance)
        return best;
    for (unsigned int i = 0; i < ncpus; i++) {
        if (i == self || !load[i].online || load[i].top_prio == RUNQUEUE_IDLE ||
            load[i].nr_running < load[self].nr_running + 2)
            continue;
        if (best < 0 || load[i].nr_running > load[best].nr_running)
            best = (int)i;
    }
    return best;
}
