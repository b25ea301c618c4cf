/* cmd_sched.c - scheduler shell commands: ps (the threads) and load (background spinners). */
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/printf.h"

static const char *ps_state(const struct thread_info *i)
{
    if (i->idle)
        return i->on_cpu ? "running" : "idle";
    switch (i->state) {
    case THREAD_RUNNING: return i->on_cpu ? "running" : "ready";
    case THREAD_BLOCKED: return i->timed ? "sleeping" : "blocked";
    default: return "dead";
    }
}

static int cmd_ps(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    unsigned int n = thread_snapshot(NULL, 0) + 8; /* room for threads created meanwhile */
    struct thread_info *info = kmalloc(n * sizeof(*info));
    cpumask_t possible = (CPUMASK_CPU(cpus_possible) - 1);

    if (!info) {
        kprintf("ps: out of memory\n");
        return -1;
    }
    unsigned int total = thread_snapshot(info, n);
    kprintf("  ID NAME             STATE     PRI  CPU  AFFINITY     TICKS  RAN-ON\n");
    for (unsigned int k = 0; k < total && k < n; k++) {
        const struct thread_info *i = &info[k];
        char prio[8] = "idle";

        if (!i->idle && i->prio != i->base_prio)
            snprintf(prio, sizeof(prio), "%d^", i->prio); /* inherited through a mutex */
        else if (!i->idle)
            snprintf(prio, sizeof(prio), "%d", i->prio);
        kprintf("%4u %-16s %-8s %4s %4u  0x%02lx %12lu  0x%02lx\n", i->id, i->name, ps_state(i),
                prio, i->cpu, (unsigned long)(i->affinity & possible), (unsigned long)i->run_ticks,
                (unsigned long)i->cpus_run);
    }
    kprintf("%u threads\n", total);
    kfree(info);
    return 0;
}
SHELL_COMMAND(ps, "ps", "", "threads: id, name, state, priority, CPU, affinity", cmd_ps);

/* Burn CPU until end. A YIELD now and then lets single-threaded QEMU run the other CPUs. */
static int load_spin(void *arg)
{
    uint64_t end = (uint64_t)(uintptr_t)arg;

    for (unsigned int n = 0; timer_counter() < end; n++) {
        if ((n & 0xffff) == 0)
            arch_cpu_relax();
    }
    return 0;
}

static bool parse_uint(const char *s, unsigned long *out)
{
    unsigned long v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return true;
}

static int cmd_load(int argc, char **argv)
{
    unsigned long n, ms, prio = 10;

    if (argc < 3 || argc > 4 || !parse_uint(argv[1], &n) || !parse_uint(argv[2], &ms) ||
        (argc == 4 && !parse_uint(argv[3], &prio)) || n == 0 || n > 64 || ms > 600000 ||
        prio > THREAD_PRIO_MAX) {
        kprintf("usage: load <threads 1-64> <ms> [priority 0-%d]\n", THREAD_PRIO_MAX);
        return -1;
    }
    uint64_t end = timer_counter() + timer_ns_to_ticks(ms * 1000000);
    for (unsigned long i = 0; i < n; i++) {
        struct thread *t =
            thread_create("load", load_spin, (void *)(uintptr_t)end, (int)prio, CPUMASK_ALL);
        if (!t) {
            kprintf("load: could only start %lu threads\n", i);
            return -1;
        }
        thread_detach(t);
    }
    kprintf("load: %lu threads spinning for %lu ms at priority %lu\n", n, ms, prio);
    return 0;
}
SHELL_COMMAND(load, "load", "<n> <ms> [prio]", "start n threads that spin for ms (background)",
              cmd_load);
