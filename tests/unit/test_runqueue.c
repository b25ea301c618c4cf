/* test_runqueue.c - host tests of the priority run queue and the CPU choices made from queue loads.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/runqueue.h"
#include "test.h"

#define NR_ENTRIES 256

struct entry {
    struct rq_link link;
    int id;
    cpumask_t allowed;
};

static struct entry entries[NR_ENTRIES];

static struct entry *entry_of(struct rq_link *link)
{
    return link ? list_entry(link, struct entry, link) : NULL;
}

static struct entry *mk(int id, int prio)
{
    struct entry *e = &entries[id];

    e->id = id;
    e->link.prio = prio;
    e->allowed = CPUMASK_ALL;
    list_init(&e->link.node);
    return e;
}

/* Remove and return the first entry, as the scheduler's pick does. */
static struct entry *pop(struct runqueue *rq)
{
    struct rq_link *link = runqueue_first(rq);

    if (link)
        runqueue_remove(rq, link);
    return entry_of(link);
}

static void test_empty(void)
{
    struct runqueue rq;

    runqueue_init(&rq);
    CHECK_EQ(runqueue_top_prio(&rq), RUNQUEUE_IDLE);
    CHECK(runqueue_first(&rq) == NULL);
    CHECK_EQ(rq.nr_queued, 0);
    CHECK_EQ(runqueue_bitmap_top(0), RUNQUEUE_IDLE);
}

static void test_fifo_within_level(void)
{
    struct runqueue rq;

    runqueue_init(&rq);
    for (int i = 0; i < 5; i++)
        runqueue_push_tail(&rq, &mk(i, 7)->link);
    CHECK_EQ(rq.nr_queued, 5);
    for (int i = 0; i < 5; i++) {
        struct entry *e = pop(&rq);
        CHECK(e && e->id == i);
    }
    CHECK_EQ(rq.bitmap, 0);
}

static void test_priority_order(void)
{
    static const int prios[] = {3, 40, 3, 63, 0, 40, 12};
    static const int order[] = {3, 1, 5, 6, 0, 2, 4}; /* by priority, then arrival */
    struct runqueue rq;

    runqueue_init(&rq);
    for (int i = 0; i < 7; i++)
        runqueue_push_tail(&rq, &mk(i, prios[i])->link);
    CHECK_EQ(runqueue_top_prio(&rq), 63);
    for (int i = 0; i < 7; i++) {
        struct entry *e = pop(&rq);
        CHECK(e && e->id == order[i]);
    }
    CHECK(pop(&rq) == NULL);
}

static void test_push_head_keeps_turn(void)
{
    struct runqueue rq;

    runqueue_init(&rq);
    runqueue_push_tail(&rq, &mk(0, 10)->link);
    runqueue_push_tail(&rq, &mk(1, 10)->link);
    runqueue_push_head(&rq, &mk(2, 10)->link); /* preempted: runs before the others */
    CHECK_EQ(pop(&rq)->id, 2);
    CHECK_EQ(pop(&rq)->id, 0);
    CHECK_EQ(pop(&rq)->id, 1);
}

static void test_remove_middle_and_bitmap(void)
{
    struct runqueue rq;

    runqueue_init(&rq);
    runqueue_push_tail(&rq, &mk(0, 5)->link);
    runqueue_push_tail(&rq, &mk(1, 5)->link);
    runqueue_push_tail(&rq, &mk(2, 9)->link);
    runqueue_remove(&rq, &entries[0].link);
    CHECK_EQ(rq.bitmap, (1ULL << 5) | (1ULL << 9));
    runqueue_remove(&rq, &entries[2].link);
    CHECK_EQ(rq.bitmap, 1ULL << 5);
    CHECK_EQ(runqueue_top_prio(&rq), 5);
    runqueue_remove(&rq, &entries[1].link);
    CHECK_EQ(rq.bitmap, 0);
    CHECK_EQ(rq.nr_queued, 0);
}

static void test_all_levels(void)
{
    struct runqueue rq;

    runqueue_init(&rq);
    for (int p = 0; p < RUNQUEUE_NR_PRIO; p++)
        runqueue_push_tail(&rq, &mk(p, p)->link);
    CHECK_EQ(rq.bitmap, ~0ULL);
    for (int p = RUNQUEUE_NR_PRIO - 1; p >= 0; p--) {
        CHECK_EQ(runqueue_top_prio(&rq), p);
        CHECK_EQ(pop(&rq)->id, p);
    }
    CHECK_EQ(rq.bitmap, 0);
}

static bool accept_cpu(const struct rq_link *link, void *ctx)
{
    const struct entry *e = list_entry(link, struct entry, link);

    return e->allowed & CPUMASK_CPU(*(unsigned int *)ctx);
}

static void test_find_with_affinity_and_min_prio(void)
{
    struct runqueue rq;
    unsigned int cpu = 2;

    runqueue_init(&rq);
    runqueue_push_tail(&rq, &mk(0, 30)->link);
    entries[0].allowed = CPUMASK_CPU(0); /* pinned elsewhere */
    runqueue_push_tail(&rq, &mk(1, 30)->link);
    entries[1].allowed = CPUMASK_CPU(1);
    runqueue_push_tail(&rq, &mk(2, 20)->link);
    runqueue_push_tail(&rq, &mk(3, 25)->link);
    entries[3].allowed = CPUMASK_CPU(2) | CPUMASK_CPU(3);
    /* Highest allowed first: 3 (25) before 2 (20); the pinned 30s are skipped. */
    CHECK_EQ(entry_of(runqueue_find(&rq, 0, accept_cpu, &cpu))->id, 3);
    CHECK(runqueue_find(&rq, 26, accept_cpu, &cpu) == NULL);
    cpu = 1;
    CHECK_EQ(entry_of(runqueue_find(&rq, 0, accept_cpu, &cpu))->id, 1);
    cpu = 3;
    CHECK_EQ(entry_of(runqueue_find(&rq, 21, accept_cpu, &cpu))->id, 3);
    CHECK_EQ(rq.nr_queued, 4); /* find does not remove */
}

/* A reference model: per level, ids in queue order. */
struct model {
    int ids[RUNQUEUE_NR_PRIO][NR_ENTRIES];
    int n[RUNQUEUE_NR_PRIO];
};

static void model_del(struct model *m, int prio, int id)
{
    for (int i = 0; i < m->n[prio]; i++) {
        if (m->ids[prio][i] == id) {
            memmove(&m->ids[prio][i], &m->ids[prio][i + 1],
                    (size_t)(m->n[prio] - i - 1) * sizeof(int));
            m->n[prio]--;
            return;
        }
    }
}

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void test_random_against_model(void)
{
    static struct model m;
    struct runqueue rq;
    bool queued[NR_ENTRIES] = {false};
    uint64_t seed = 42;
    int errors = 0;

    memset(&m, 0, sizeof(m));
    runqueue_init(&rq);
    for (int step = 0; step < 200000 && errors < 5; step++) {
        int id = (int)(rng(&seed) % NR_ENTRIES);
        unsigned int op = (unsigned int)(rng(&seed) % 4);

        if (!queued[id] && op < 2) {
            int prio = (int)(rng(&seed) % RUNQUEUE_NR_PRIO);
            mk(id, prio);
            if (op == 0) {
                runqueue_push_tail(&rq, &entries[id].link);
                m.ids[prio][m.n[prio]++] = id;
            } else {
                runqueue_push_head(&rq, &entries[id].link);
                memmove(&m.ids[prio][1], &m.ids[prio][0], (size_t)m.n[prio] * sizeof(int));
                m.ids[prio][0] = id;
                m.n[prio]++;
            }
            queued[id] = true;
        } else if (queued[id] && op == 2) {
            runqueue_remove(&rq, &entries[id].link);
            model_del(&m, entries[id].link.prio, id);
            queued[id] = false;
        } else if (op == 3) {
            struct entry *e = pop(&rq);
            int top = RUNQUEUE_IDLE;
            for (int p = 0; p < RUNQUEUE_NR_PRIO; p++)
                top = m.n[p] ? p : top;
            if (top == RUNQUEUE_IDLE) {
                errors += e != NULL;
            } else {
                errors += !e || e->id != m.ids[top][0];
                model_del(&m, top, m.ids[top][0]);
                if (e)
                    queued[e->id] = false;
            }
        }
        unsigned int total = 0;
        uint64_t bits = 0;
        for (int p = 0; p < RUNQUEUE_NR_PRIO; p++) {
            total += (unsigned int)m.n[p];
            bits |= m.n[p] ? 1ULL << p : 0;
        }
        errors += rq.nr_queued != total || rq.bitmap != bits;
    }
    CHECK_EQ(errors, 0);
}

/* A CPU as the other CPUs see it. */
static struct rq_load cpu_load(int curr, int top, unsigned int nr)
{
    return (struct rq_load){.online = true, .curr_prio = curr, .top_prio = top, .nr_running = nr};
}

static void test_select_cpu(void)
{
    struct rq_load l[4];

    /* prev runs something less important and has nothing queued: stay (cache warm). */
    l[0] = cpu_load(40, -1, 1);
    l[1] = cpu_load(10, -1, 1);
    l[2] = cpu_load(-1, -1, 0);
    l[3] = cpu_load(-1, -1, 0);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_ALL, 1, 20), 1);
    /* prev busy with something as important: the idle CPU with the lowest number wins. */
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_ALL, 0, 20), 2);
    /* Queued work counts: prev idle but with a 20 queued does not take another 20 at once. */
    l[1] = cpu_load(-1, 20, 1);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_ALL, 1, 20), 2);
    /* Affinity: only CPU 0 and 1 allowed, both too busy: the one with fewer runnable. */
    l[0] = cpu_load(40, 40, 3);
    l[1] = cpu_load(30, 30, 2);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_CPU(0) | CPUMASK_CPU(1), 0, 20), 1);
    /* ... and prev on a tie. */
    l[1] = cpu_load(30, 30, 3);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_CPU(0) | CPUMASK_CPU(1), 0, 20), 0);
    /* Below prio beats idle-ness of count: least important current work first. */
    l[0] = cpu_load(15, -1, 1);
    l[1] = cpu_load(5, -1, 1);
    l[2] = cpu_load(50, -1, 1);
    l[3] = cpu_load(50, -1, 1);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_ALL, 2, 20), 1);
    /* Offline CPUs and CPUs outside the mask are never chosen; nothing allowed: -1. */
    l[1].online = false;
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_CPU(1) | CPUMASK_CPU(3), 1, 20), 3);
    CHECK_EQ(runqueue_select_cpu(l, 4, CPUMASK_CPU(1), 1, 20), -1);
    CHECK_EQ(runqueue_select_cpu(l, 4, 0, 0, 20), -1);
}

static void test_pull_source(void)
{
    struct rq_load l[4];

    /* An idle CPU (my_best idle) pulls from whoever has something queued. */
    l[0] = cpu_load(-1, -1, 0);
    l[1] = cpu_load(10, -1, 1);
    l[2] = cpu_load(10, 10, 3);
    l[3] = cpu_load(10, -1, 1);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, RUNQUEUE_IDLE, false), 2);
    /* By priority: the CPU whose best queued thread beats mine, the best of them. */
    l[1] = cpu_load(50, 30, 2);
    l[3] = cpu_load(50, 40, 2);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 20, false), 3);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 40, false), -1); /* a tie is no reason to move */
    /* By count, only with balance: two or more runnable more than self. */
    l[0] = cpu_load(10, -1, 1);
    l[1] = cpu_load(10, 10, 2);
    l[2] = cpu_load(10, 10, 4);
    l[3] = cpu_load(10, 10, 3);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 10, false), -1);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 10, true), 2);
    /* Balanced within one: nothing to do. */
    l[2] = cpu_load(10, 10, 2);
    l[3] = cpu_load(10, 10, 2);
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 10, true), -1);
    /* Busy but nothing queued (all running) cannot give: ignored; offline ignored. */
    l[2] = cpu_load(10, -1, 5);
    l[3] = cpu_load(10, 10, 4);
    l[3].online = false;
    CHECK_EQ(runqueue_pull_source(l, 4, 0, 10, true), -1);
    /* Self is never the source. */
    CHECK_EQ(runqueue_pull_source(l, 2, 1, RUNQUEUE_IDLE, true), -1);
}

static const struct test_case cases[] = {
    {"kernel/runqueue/empty", test_empty},
    {"kernel/runqueue/fifo_within_level", test_fifo_within_level},
    {"kernel/runqueue/priority_order", test_priority_order},
    {"kernel/runqueue/push_head_keeps_turn", test_push_head_keeps_turn},
    {"kernel/runqueue/remove_middle_and_bitmap", test_remove_middle_and_bitmap},
    {"kernel/runqueue/all_levels", test_all_levels},
    {"kernel/runqueue/find_with_affinity_and_min_prio", test_find_with_affinity_and_min_prio},
    {"kernel/runqueue/random_against_model", test_random_against_model},
    {"kernel/runqueue/select_cpu", test_select_cpu},
    {"kernel/runqueue/pull_source", test_pull_source},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
