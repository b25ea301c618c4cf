/*
 * bench.c - TestOS's benchmarks: each operation runs in a loop of BENCH_ITERS, timed with
 * CNTVCT, minus the same loop without the operation. Under -icount shift=0 one instruction is
 * one nanosecond, so ticks * (1e9 / CNTFRQ) / iterations is instructions per operation
 * (docs/design.md, "Benchmarks": 1 tick = 16 instructions at QEMU virt's 62.5 MHz).
 */
#include "bench.h"
#include "console.h"
#include "gic.h"
#include "platform.h"
#include "smp.h"
#include "timer.h"

#define BENCH_ITERS     1024
#define TIMER_SAMPLES   256
#define SGI_ROUND_TRIPS 256
#define IRQ_ROUND_TRIPS 256

#define PSCI_CLOBBERS                                                                              \
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", \
        "x15", "x16", "x17", "memory"

/* One timed loop: `body` then a decrement and branch, n times; arg is in %1. */
#define BENCH_LOOP(fn, body, ...)                                                                  \
    static uint64_t fn(uint64_t n, uintptr_t arg)                                                  \
    {                                                                                              \
        __asm__ volatile("hint #42" ::: "memory"); /* bench_mark() */                              \
        uint64_t t0 = timer_virtual_count();                                                       \
        __asm__ volatile("1:\n" body "\n\tsubs %0, %0, #1\n\tb.ne 1b"                              \
                         : "+r"(n)                                                                 \
                         : "r"(arg)                                                                \
                         : __VA_ARGS__);                                                           \
        uint64_t t = timer_virtual_count() - t0;                                                   \
        __asm__ volatile("hint #42" ::: "memory");                                                 \
        return t;                                                                                  \
    }

/* PSCI_VERSION (0x84000000) is one MOVZ; the baseline keeps it and drops the call. */
BENCH_LOOP(loop_psci_base, "\tmovz w0, #0x8400, lsl #16", "x0", "cc")
BENCH_LOOP(loop_psci_hvc, "\tmovz w0, #0x8400, lsl #16\n\thvc #0", PSCI_CLOBBERS, "cc")
BENCH_LOOP(loop_psci_smc, "\tmovz w0, #0x8400, lsl #16\n\tsmc #0", PSCI_CLOBBERS, "cc")
BENCH_LOOP(loop_empty, "", "cc")
BENCH_LOOP(loop_mmio_read, "\tldr w9, [%1]", "x9", "memory", "cc")
/* ACTLR_EL1: harmless to read bare; hypervisors trap it with HCR_EL2.TACR (KVM and Xen do). */
BENCH_LOOP(loop_actlr_read, "\tmrs x9, actlr_el1", "x9", "cc")

/* `hint #42`: a NOP that starts a new window of an instruction-count profiler (insnprof). */
static inline void bench_mark(void)
{
    __asm__ volatile("hint #42" ::: "memory");
}

static uint64_t ticks_to_instructions(uint64_t ticks, uint64_t ops)
{
    return (ticks * 1000000000ULL / timer_frequency() + ops / 2) / ops;
}

static void bench_report(const char *name, uint64_t ticks, uint64_t base_ticks, uint64_t ops)
{
    uint64_t net = ticks > base_ticks ? ticks - base_ticks : 0;

    console_printf("TESTOS BENCH %s %lu\n", name, ticks_to_instructions(net, ops));
}

/* Median of n samples (sorted in place). */
static uint64_t median(uint64_t *s, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++)
        for (unsigned int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            uint64_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    return s[n / 2];
}

/*
 * Deadline to the exception vector's CNTVCT stamp, in ticks, for TIMER_SAMPLES interrupts: the
 * timer armed delay ticks ahead, then a busy loop with IRQs unmasked (wfi false) or WFI.
 */
static uint64_t timer_latency(uint64_t delay, bool wfi_wait)
{
    static uint64_t samples[TIMER_SAMPLES];
    struct timer_event *ev = &smp_this_cpu()->timer[TIMER_VIRT];

    bench_mark();
    for (unsigned int i = 0; i < TIMER_SAMPLES; i++) {
        uint32_t before = __atomic_load_n(&ev->count, __ATOMIC_ACQUIRE);
        uint64_t deadline = timer_virtual_count() + delay;

        timer_arm(TIMER_VIRT, deadline);
        if (wfi_wait)
            smp_wait_irq(&ev->count, before + 1);
        else
            while (__atomic_load_n(&ev->count, __ATOMIC_ACQUIRE) == before)
                ;
        samples[i] = ev->stamp - deadline;
    }
    bench_mark();
    return median(samples, TIMER_SAMPLES);
}

/*
 * One timer interrupt after another: the handler masks the expired timer (IMASK) and returns,
 * the loop unmasks it and the next interrupt comes at once (fire, vector, handler, EOI and
 * deactivation, unmask, per interrupt).
 */
static uint64_t bench_vtimer_round_trip(void)
{
    struct timer_event *ev = &smp_this_cpu()->timer[TIMER_VIRT];
    uint32_t start = __atomic_load_n(&ev->count, __ATOMIC_ACQUIRE);

    ev->refire = IRQ_ROUND_TRIPS;
    bench_mark();
    uint64_t t0 = timer_virtual_count();
    timer_arm(TIMER_VIRT, 0); /* long past: asserted at once */
    for (uint32_t n = 1; n <= IRQ_ROUND_TRIPS; n++) {
        while (__atomic_load_n(&ev->count, __ATOMIC_ACQUIRE) - start < n)
            ;
        write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    }
    uint64_t t = timer_virtual_count() - t0;
    bench_mark();
    write_sysreg(cntv_ctl_el0, 0);
    ev->refire = 0;
    return t;
}

/* SGI to itself, taken, EOI; the next is sent once the handler has run. */
static uint64_t bench_sgi_self_round_trip(void)
{
    struct cpu *me = smp_this_cpu();
    bench_mark();
    uint64_t t0 = timer_virtual_count();

    for (unsigned int i = 0; i < IRQ_ROUND_TRIPS; i++) {
        uint32_t before = me->selfs;

        gic_send_sgi(me->index, SGI_SELF);
        while (__atomic_load_n(&me->selfs, __ATOMIC_ACQUIRE) == before)
            ;
    }
    uint64_t t = timer_virtual_count() - t0;
    bench_mark();
    return t;
}

/* cpu0 -> cpu1 -> cpu0, the boot CPU sleeping in WFI for the answer. */
static uint64_t bench_sgi_round_trip(void)
{
    struct cpu *boot = &smp_cpus[0];
    bench_mark();
    uint64_t t0 = timer_virtual_count();

    for (unsigned int i = 0; i < SGI_ROUND_TRIPS; i++) {
        uint32_t pongs = boot->pongs;
        smp_ping(1);
        smp_wait_irq(&boot->pongs, pongs + 1);
    }
    uint64_t t = timer_virtual_count() - t0;
    bench_mark();
    return t;
}

/** Print one `TESTOS BENCH <name> <instructions per operation>` line per figure. */
void bench_run(void)
{
    uint64_t base = loop_psci_base(BENCH_ITERS, 0), empty = loop_empty(BENCH_ITERS, 0);

    if (platform.conduit == PSCI_SMC)
        bench_report("smc_psci_version", loop_psci_smc(BENCH_ITERS, 0), base, BENCH_ITERS);
    else
        bench_report("hvc_psci_version", loop_psci_hvc(BENCH_ITERS, 0), base, BENCH_ITERS);
    bench_report("gicd_typer_read", loop_mmio_read(BENCH_ITERS, platform.gicd + 0x4), empty,
                 BENCH_ITERS);
    bench_report("pl011_fr_read", loop_mmio_read(BENCH_ITERS, platform.uart + 0x18), empty,
                 BENCH_ITERS);
    bench_report("sysreg_trap_read", loop_actlr_read(BENCH_ITERS, 0), empty, BENCH_ITERS);
    uint64_t f = timer_frequency();

    bench_report("vtimer_round_trip", bench_vtimer_round_trip(), 0, IRQ_ROUND_TRIPS);
    bench_report("sgi_self_round_trip", bench_sgi_self_round_trip(), 0, IRQ_ROUND_TRIPS);
    bench_report("vtimer_irq_latency", timer_latency(f / 50000, false), 0, 1); /* 20 us ahead */
    bench_report("wfi_wake_100us", timer_latency(f / 10000, true), 0, 1);
    bench_report("wfi_wake_1ms", timer_latency(f / 1000, true), 0, 1);
    if (platform.ncpus > 1)
        bench_report("sgi_round_trip", bench_sgi_round_trip(), 0, SGI_ROUND_TRIPS);
    console_printf("TESTOS BENCH done\n");
}
