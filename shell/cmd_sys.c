/* cmd_sys.c - system shell commands: help, version, cpus, mem, uptime, date, poweroff,
 * panic-test. */
#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/psci.h"
#include "drivers/gic.h"
#include "drivers/pl031.h"
#include "block/bcache.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/version.h"
#include "lib/errno.h"
#include "lib/string.h"

static int cmd_help(int argc, char **argv)
{
    const struct shell_cmd *last = NULL;

    (void)argc;
    (void)argv;
    kprintf("commands:\n");
    /* Alphabetical: pick the next name after the last one printed (the table is short). */
    for (;;) {
        const struct shell_cmd *next = NULL;
        for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++) {
            if ((!last || strcmp(c->name, last->name) > 0) &&
                (!next || strcmp(c->name, next->name) < 0))
                next = c;
        }
        if (!next)
            return 0;
        kprintf("  %-10s  %s%s%s\n", next->name, next->args, *next->args ? "  " : "", next->help);
        last = next;
    }
}
SHELL_COMMAND(help, "help", "", "list commands", cmd_help);

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("Avatar " AVATAR_VERSION " " AVATAR_MODE " at EL%d, built with GCC " __VERSION__ "\n",
            CUR_EL);
    return 0;
}
SHELL_COMMAND(version, "version", "", "show the version and build", cmd_version);

static int cmd_cpus(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (unsigned int i = 0; i < cpus_possible; i++) {
        struct percpu *c = &percpu_data[i];
        const char *ipi = "";

        if (!c->online) {
            kprintf("cpu%u: offline mpidr 0x%lx\n", i, (unsigned long)c->mpidr);
            continue;
        }
        if (i != cpu_id())
            ipi = smp_ping(i) == 0 ? " ipi ok" : " ipi TIMEOUT";
        kprintf("cpu%u: online mpidr 0x%lx ticks %lu ipis %lu%s\n", i, (unsigned long)c->mpidr,
                (unsigned long)c->ticks, (unsigned long)c->ipis, ipi);
    }
    kprintf("%u/%u CPUs online\n", cpu_online_count(), cpus_possible);
    return 0;
}
SHELL_COMMAND(cpus, "cpus", "", "CPUs, their timer ticks, and an IPI round trip to each", cmd_cpus);

static int cmd_mem(int argc, char **argv)
{
    struct page_stats ps;
    struct kmalloc_stats ks;

    (void)argc;
    (void)argv;
    kprintf("RAM: %lu MiB\n", (unsigned long)(platform_ram_bytes() >> 20));
    for (int i = 0; i < platform.nmem; i++)
        kprintf("  region %d: 0x%lx-0x%lx\n", i, (unsigned long)platform.mem[i].base,
                (unsigned long)(platform.mem[i].base + platform.mem[i].size));
    kprintf("kernel image: 0x%lx-0x%lx (%lu KiB)\n", (unsigned long)virt_to_phys(_kernel_start),
            (unsigned long)virt_to_phys(_kernel_end),
            (unsigned long)((_kernel_end - _kernel_start) >> 10));
    page_alloc_stats(&ps);
    kprintf("pages: %lu total, %lu free (%lu KiB free); %lu allocations, %lu frees, %lu failed\n",
            (unsigned long)ps.total_pages, (unsigned long)ps.free_pages,
            (unsigned long)(ps.free_pages * (PAGE_SIZE >> 10)), (unsigned long)ps.alloc_calls,
            (unsigned long)ps.free_calls, (unsigned long)ps.failed_calls);
    kmalloc_stats(&ks);
    uint64_t objects = ks.large_in_use, bytes = ks.large_pages * PAGE_SIZE;
    uint64_t pages = ks.large_pages;
    for (int i = 0; i < KMALLOC_NR_CLASSES; i++) {
        objects += ks.classes[i].in_use;
        bytes += ks.classes[i].in_use * ks.classes[i].size;
        pages += ks.classes[i].slabs;
    }
    kprintf("kmalloc: %lu objects (%lu bytes) in use, %lu pages held, %lu failed, %lu bad frees\n",
            (unsigned long)objects, (unsigned long)bytes, (unsigned long)pages,
            (unsigned long)ks.failed_calls, (unsigned long)ks.bad_frees);
    return 0;
}
SHELL_COMMAND(mem, "mem", "", "memory map and allocator counters", cmd_mem);

static int cmd_uptime(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("uptime: %lu ns; first prompt at %lu ns; CPUs idle %lu ns\n",
            (unsigned long)time_now_ns(),
            (unsigned long)timer_ticks_to_ns(shell_first_prompt_counter),
            (unsigned long)timer_ticks_to_ns(sched_idle_ticks()));
    return 0;
}
SHELL_COMMAND(uptime, "uptime", "", "time since reset and time all CPUs spent idle (counter time)",
              cmd_uptime);

static int cmd_date(int argc, char **argv)
{
    uint64_t now = rtc_seconds();
    struct rtc_time t;

    (void)argc;
    (void)argv;
    if (!now) {
        kprintf("date: no real-time clock\n");
        return -ENODEV;
    }
    rtc_to_date(now, &t);
    kprintf("date: %lu s since the epoch, %04u-%02u-%02u %02u:%02u:%02u UTC\n", (unsigned long)now,
            t.year, t.month, t.day, t.hour, t.minute, t.second);
    return 0;
}
SHELL_COMMAND(date, "date", "", "wall-clock time from the real-time clock", cmd_date);

static int cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Nothing written may be lost: file systems first, then every block cache. */
    int err = vfs_sync_all();
    int err2 = bcache_sync_all();
    if (err || err2)
        kprintf("poweroff: sync failed: %s\n", errno_str(err ? err : err2));
    kprintf("powering off\n");
    psci_system_off();
}
SHELL_COMMAND(poweroff, "poweroff", "", "switch the machine off (PSCI SYSTEM_OFF)", cmd_poweroff);

/* An instruction (RET) placed in writable data: executing it must fault (W^X). */
static uint32_t panic_test_data_code[1] = {0xd65f03c0};

static int cmd_panic_test(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "null";
    uintptr_t addr;

    if (!strcmp(what, "null")) {
        /* An address no kernel map covers; hidden from the optimiser so the store happens. */
        addr = 0x10;
        __asm__ volatile("" : "+r"(addr));
        kprintf("panic-test: writing to 0x%lx\n", (unsigned long)addr);
        *(volatile uint64_t *)addr = 0xdead;
    } else if (!strcmp(what, "text")) {
        addr = (uintptr_t)cmd_panic_test;
        __asm__ volatile("" : "+r"(addr));
        kprintf("panic-test: writing to kernel text at 0x%lx\n", (unsigned long)addr);
        *(volatile uint32_t *)addr = 0;
    } else if (!strcmp(what, "data")) {
        void (*fn)(void) = (void (*)(void))(uintptr_t)panic_test_data_code;
        __asm__ volatile("" : "+r"(fn));
        kprintf("panic-test: executing data at 0x%lx\n", (unsigned long)(uintptr_t)fn);
        fn();
    } else {
        kprintf("usage: panic-test [null|text|data]\n");
        return -1;
    }
    kprintf("panic-test: %s did not fault\n", what);
    return -1;
}
SHELL_COMMAND(panic_test, "panic-test", "[null|text|data]",
              "fault on purpose: NULL store, write to kernel text, execute data", cmd_panic_test);
