/* cmd_sched.c - scheduler shell commands: ps (the threads), pin (affinity), load (spinners). */
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

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

/* The id of the one thread called name, or 0 after saying why there is none. */
static unsigned int pin_find(const char *name)
{
    unsigned int n = thread_snapshot(NULL, 0) + 8; /* room for threads created meanwhile */
    struct thread_info *info = kmalloc(n * sizeof(*info));
    unsigned int id = 0, matches = 0;

    if (!info) {
        kprintf("pin: out of memory\n");
        return 0;
    }
    unsigned int total = thread_snapshot(info, n);
    for (unsigned int k = 0; k < total && k < n; k++) {
        if (!strcmp(info[k].name, name) && info[k].state != THREAD_DEAD) {
            id = info[k].id;
            matches++;
        }
    }
    kfree(info);
    if (matches == 1)
        return id;
    if (matches)
        kprintf("pin: %u threads are called %s: give an id (ps)\n", matches, name);
    else
        kprintf("pin: no thread called %s\n", name);
    return 0;
}

static int cmd_pin(int argc, char **argv)
{
    cpumask_t online = sched_online_cpus();
    cpumask_t mask = CPUMASK_ALL;
    unsigned long id, cpu;

    if (argc != 3) {
        kprintf("usage: pin <thread id|name> <cpu|all>\n");
        return -1;
    }
    if (strcmp(argv[2], "all")) {
        if (!parse_uint(argv[2], &cpu) || cpu >= MAX_CPUS || !(online & CPUMASK_CPU(cpu))) {
            kprintf("pin: %s is not an online CPU (online: 0x%02lx)\n", argv[2],
                    (unsigned long)online);
            return -1;
        }
        mask = CPUMASK_CPU(cpu);
    }
    if (!parse_uint(argv[1], &id)) {
        id = pin_find(argv[1]);
        if (!id)
            return -1;
    }
    int err = thread_set_affinity_id((unsigned int)id, mask);
    if (err == -ESRCH) {
        kprintf("pin: no thread %lu\n", id);
        return -1;
    }
    if (err) {
        /* The mask names an online CPU: only an idle thread refuses it. */
        kprintf("pin: thread %lu is a CPU's idle thread: it stays there\n", id);
        return -1;
    }
    kprintf("pin: thread %lu may run on 0x%02lx\n", id, (unsigned long)(mask & online));
    return 0;
}
SHELL_COMMAND(pin, "pin", "<id|name> <cpu|all>", "restrict a thread to one CPU (or free it)",
              cmd_pin);

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
