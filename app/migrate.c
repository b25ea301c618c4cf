/* migrate.c - a thread moved to another CPU runs there at once: a new thread leaves its creator's
 * CPU by its own sched_setaffinity, or its creator moves it, while the creator keeps its own CPU
 * busy in sched_yield; the target CPU is idle and must be woken. A thread left queued on an idle
 * CPU fails the round after a bounded wait. Usage: migrate [rounds] */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "avtest.h"

#define WAIT_NS 2000000000ULL /* far beyond a wake-up: only a stranded thread waits this long */

/* One round: the mover starts on `from` (the creator's CPU) and must end up running on `to`. */
struct round {
    int from, to;
    atomic_int tid;    /* the mover's, once it runs on `from` */
    atomic_int before; /* CPU the mover saw before the move */
    atomic_int after;  /* CPU it saw after it, -1 until then */
    atomic_int give_up;
};

static int pin_thread(int tid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

/* Spin in sched_yield until *flag is not -1 or WAIT_NS has passed; its value, or -1. */
static int wait_for(atomic_int *flag)
{
    uint64_t start = now_ns();

    while (atomic_load(flag) == -1 && now_ns() - start < WAIT_NS)
        sched_yield();
    return atomic_load(flag);
}

/* The mover joins its creator's CPU, then removes that CPU from its own affinity. */
static void *self_mover(void *arg)
{
    struct round *r = arg;

    if (pin_to_cpu(r->from))
        return NULL;
    atomic_store(&r->before, current_cpu());
    if (pin_to_cpu(r->to))
        return NULL;
    atomic_store(&r->after, current_cpu());
    return NULL;
}

/* The mover joins its creator's CPU and yields it until the creator has moved it away. */
static void *moved(void *arg)
{
    struct round *r = arg;

    if (pin_to_cpu(r->from))
        return NULL;
    atomic_store(&r->before, current_cpu());
    atomic_store(&r->tid, gettid());
    int cpu;
    while ((cpu = current_cpu()) != r->to && !atomic_load(&r->give_up))
        sched_yield();
    atomic_store(&r->after, cpu);
    return NULL;
}

/* One round of either kind; 0 or a line saying what went wrong in err. */
static int run_round(struct round *r, bool creator_moves, char *err, size_t len)
{
    pthread_t t;

    if (pin_to_cpu(r->from)) {
        snprintf(err, len, "the creator cannot pin itself to cpu%d", r->from);
        return -1;
    }
    if (pthread_create(&t, NULL, creator_moves ? moved : self_mover, r)) {
        snprintf(err, len, "pthread_create failed");
        return -1;
    }
    if (creator_moves) {
        int tid = wait_for(&r->tid);
        int e = tid > 0 ? pin_thread(tid, r->to) : -ESRCH;
        if (e) {
            atomic_store(&r->give_up, 1);
            snprintf(err, len, "the mover did not start on cpu%d, or pinning it failed (%d)",
                     r->from, e);
            pthread_join(t, NULL);
            return -1;
        }
    }
    int after = wait_for(&r->after);
    if (after != r->to) {
        /* Do not join: a stranded mover would hang us; the summary must still come out. */
        snprintf(err, len, "moved from cpu%d to cpu%d: not running there after %llu ms (saw %d)",
                 r->from, r->to, (unsigned long long)(WAIT_NS / 1000000), after);
        return -1;
    }
    pthread_join(t, NULL);
    if (atomic_load(&r->before) != r->from) {
        snprintf(err, len, "pinned to cpu%d but ran on cpu%d", r->from, atomic_load(&r->before));
        return -1;
    }
    return 0;
}

/* rounds rounds of one kind, over n CPUs; how many passed (it stops at the first failure). */
static int run_kind(const char *name, bool creator_moves, int rounds, int n)
{
    char err[160] = "";
    int done = 0;

    for (; done < rounds; done++) {
        struct round *r = calloc(1, sizeof(*r));
        if (!r) {
            snprintf(err, sizeof(err), "out of memory");
            break;
        }
        r->from = done % n;
        r->to = (done + 1 + done / n % (n - 1)) % n; /* every other CPU in turn */
        r->tid = -1;
        r->before = -1;
        r->after = -1;
        if (run_round(r, creator_moves, err, sizeof(err)))
            break; /* r may still be in use by a stranded mover: leak it */
        free(r);
    }
    test_check(done == rounds, name, "round %d of %d: %s", done + 1, rounds, err);
    return done;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    int n = ncpus();

    if (rounds < 1 || argc > 2) {
        printf("usage: migrate [rounds]\n");
        return 2;
    }
    if (!test_check(n >= 2, "migrate-needs-two-cpus", "%d CPU online", n))
        return test_done("migrate");
    int self = run_kind("migrate-thread-moves-itself", false, rounds, n);
    int moved = run_kind("migrate-creator-moves-thread", true, rounds, n);
    printf("migrate: %d + %d rounds passed over %d CPUs\n", self, moved, n);
    return test_done("migrate");
}
