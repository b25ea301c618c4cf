/* timer.c - generic timer tick: CNTP at EL1, CNTHP at EL2 (Arm ARM D11 "The Generic Timer"). */
#include "arch/cpu.h"
#include "arch/sysreg.h"
#include "hw/timer.h"
#include "kernel/irq.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/timeout.h"
#include "lib/errno.h"

static unsigned int tick_intid;
static uint64_t tick_period; /* counter ticks per scheduler tick */

uint64_t timer_counter(void)
{
    isb(); /* the counter read must not be speculated ahead of earlier code */
    return read_sysreg(cntpct_el0);
}

uint64_t timer_frequency(void)
{
    return read_sysreg(cntfrq_el0);
}

uint64_t timer_ticks_to_ns(uint64_t ticks)
{
    uint64_t f = timer_frequency();

    return (ticks / f) * 1000000000ULL + (ticks % f) * 1000000000ULL / f;
}

uint64_t time_now_ns(void)
{
    return timer_ticks_to_ns(timer_counter());
}

uint64_t timer_ns_to_ticks(uint64_t ns)
{
    uint64_t f = timer_frequency();

    return (ns / 1000000000ULL) * f + (ns % 1000000000ULL) * f / 1000000000ULL;
}

/*
 * One compare value serves both the periodic tick and the earliest sleeper's deadline
 * (kernel/timeout.c), so a sleep ends when it should rather than at the next tick.
 */
void timer_reprogram(void)
{
    uint64_t next = this_cpu()->next_tick;
    uint64_t deadline = timeout_next();
    uint64_t guest = this_cpu()->guest_deadline;

    if (guest && guest < next)
        next = guest;

    write_sysreg(SYSREG_TICK_CVAL, deadline < next ? deadline : next);
}

/*
 * The first tick of this CPU after now. CPUs tick at evenly staggered phases of one grid: their
 * tick work (run-queue locks, balancing) does not collide, and under QEMU -icount, whose single
 * host thread runs the virtual CPUs in turn up to the earliest timer deadline, no CPU is left
 * with an expired tick every time its turn comes (which starves it in its tick handler).
 */
static uint64_t timer_next_tick(uint64_t now)
{
    uint64_t phase = this_cpu()->id * tick_period / cpus_possible;

    if (now < phase)
        return phase;
    return ((now - phase) / tick_period + 1) * tick_period + phase;
}

static void timer_irq(unsigned int intid, void *arg)
{
    struct percpu *c = this_cpu();
    uint64_t now = timer_counter();

    (void)intid;
    (void)arg;
    if (now >= c->next_tick) {
        c->ticks++;
        /* Ticks stay on a fixed grid: they do not drift with interrupt latency. */
        c->next_tick += tick_period;
        if (c->next_tick <= now)
            c->next_tick = timer_next_tick(now);
        sched_tick();
    }
    timeout_expire(now);
    /*
     * A guest deadline that has come did its job: the guest was interrupted, and the vCPU's way
     * back in (vmm/vtimer.c) sets a new one. Left in place it would keep the compare value in
     * the past, and this level-triggered interrupt would fire again for ever.
     */
    if (c->guest_deadline && c->guest_deadline <= now)
        c->guest_deadline = 0;
    timer_reprogram();
}

static void timer_start_local(void)
{
    this_cpu()->next_tick = timer_next_tick(timer_counter());
    write_sysreg(SYSREG_TICK_CVAL, this_cpu()->next_tick);
    write_sysreg(SYSREG_TICK_CTL, CNT_CTL_ENABLE); /* not masked */
    isb();
}

int timer_init(const struct fdt_platform *plat)
{
    tick_intid = plat->timer_irq[TICK_TIMER_IRQ_INDEX];
    if (tick_intid < 16 || tick_intid >= 32)
        return -ENODEV;
    tick_period = timer_frequency() / HZ;
    timer_start_local();
    return irq_register(tick_intid, timer_irq, NULL);
}

void timer_cpu_init(void)
{
    timer_start_local();
    irq_enable_local(tick_intid);
}
