/* ktest.c - the `ktest` command: runs the in-kernel self-tests, one PASS/FAIL line each. */
#include "kernel/ktest.h"
#include "arch/cpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/wait.h"
#include "lib/string.h"

static const struct {
    const char *name;
    ktest_fn fn;
} ktests[] = {
    {"threads", ktest_sched_threads},
    {"mutex", ktest_sync_mutex},
    {"semaphore", ktest_sync_semaphore},
    {"condvar", ktest_sync_condvar},
    {"pingpong", ktest_sync_pingpong},
    {"pi", ktest_sync_pi},
    {"preempt", ktest_sched_preempt},
    {"nopreempt", ktest_sched_nopreempt},
    {"rr", ktest_sched_rr},
    {"sleep", ktest_sched_sleep},
    {"balance", ktest_sched_balance},
    {"affinity", ktest_sched_affinity},
};

#define NR_KTESTS (sizeof(ktests) / sizeof(ktests[0]))

static struct wait_queue gate_wq = WAIT_QUEUE_INIT(gate_wq);
static volatile bool gate_open;

void ktest_gate_close(void)
{
    gate_open = false;
}

void ktest_gate_wait(void)
{
    wait_event(&gate_wq, gate_open);
}

void ktest_gate_open(void)
{
    gate_open = true;
    wait_wake_all(&gate_wq);
}

unsigned int ktest_ncpus(void)
{
    return (unsigned int)__builtin_popcountll(sched_online_cpus());
}

unsigned int ktest_last_cpu(void)
{
    return 63 - (unsigned int)__builtin_clzll(sched_online_cpus());
}

cpumask_t ktest_nth_cpu(unsigned int i)
{
    cpumask_t online = sched_online_cpus();

    i %= ktest_ncpus();
    for (unsigned int c = 0;; c++) {
        if ((online & CPUMASK_CPU(c)) && i-- == 0)
            return CPUMASK_CPU(c);
    }
}

uint64_t ktest_ms(uint64_t ms)
{
    return timer_ns_to_ticks(ms * 1000000);
}

uint64_t ktest_us(uint64_t ticks)
{
    return timer_ticks_to_ns(ticks) / 1000;
}

void ktest_note_cpu(volatile cpumask_t *mask)
{
    __atomic_fetch_or(mask, CPUMASK_CPU(cpu_id()), __ATOMIC_RELAXED);
}

unsigned int ktest_join(struct thread **threads, unsigned int n, uint64_t timeout_ms, int *codes)
{
    uint64_t deadline = timer_counter() + ktest_ms(timeout_ms);
    unsigned int failed = 0;

    for (unsigned int i = 0; i < n; i++) {
        uint64_t now = timer_counter();
        uint64_t left = now < deadline ? timer_ticks_to_ns(deadline - now) : 0;
        int code = 0;

        if (!threads[i]) {
            failed++;
        } else if (thread_join_timeout(threads[i], left, &code)) {
            thread_detach(threads[i]);
            failed++;
        } else if (codes) {
            codes[i] = code;
        }
    }
    return failed;
}

static int cmd_ktest(int argc, char **argv)
{
    static char detail[192];
    unsigned int passed = 0, failed = 0;

    if (argc > 2) {
        kprintf("usage: ktest [name]\n");
        return -1;
    }
    for (unsigned int i = 0; i < NR_KTESTS; i++) {
        if (argc == 2 && strcmp(argv[1], ktests[i].name))
            continue;
        detail[0] = '\0';
        bool ok = ktests[i].fn(detail, sizeof(detail));
        kprintf("ktest %s: %s %s\n", ktests[i].name, ok ? "PASS" : "FAIL", detail);
        ok ? passed++ : failed++;
    }
    if (passed + failed == 0) {
        kprintf("ktest: no test '%s'; tests:", argv[1]);
        for (unsigned int i = 0; i < NR_KTESTS; i++)
            kprintf(" %s", ktests[i].name);
        kprintf("\n");
        return -1;
    }
    kprintf("ktest: %u passed, %u failed\n", passed, failed);
    return failed ? -1 : 0;
}
SHELL_COMMAND(ktest, "ktest", "[name]", "scheduler and synchronisation self-tests", cmd_ktest);
