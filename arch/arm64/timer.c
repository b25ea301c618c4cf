/* timer.c - generic timer tick: CNTP at EL1, CNTHP at EL2 (Arm ARM D11 "The Generic Timer"). */
#include "arch/cpu.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/time.h"
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

static void timer_program_next(void)
{
    /* Absolute compare value: the tick does not drift with handler latency. */
    uint64_t next = read_sysreg(SYSREG_TICK_CVAL) + tick_period;
    uint64_t now = timer_counter();

    if (next <= now)
        next = now + tick_period;
    write_sysreg(SYSREG_TICK_CVAL, next);
}

static void timer_irq(unsigned int intid, void *arg)
{
    (void)intid;
    (void)arg;
    this_cpu()->ticks++;
    timer_program_next();
}

static void timer_start_local(void)
{
    write_sysreg(SYSREG_TICK_CVAL, timer_counter() + tick_period);
    write_sysreg(SYSREG_TICK_CTL, 1); /* ENABLE, not masked */
    isb();
}

int timer_init(const struct fdt_platform *plat)
{
    /* interrupts of arm,armv8-timer: [1] EL1 physical, [3] EL2 physical. */
#ifdef AVATAR_HV
    tick_intid = plat->timer_irq[3];
#else
    tick_intid = plat->timer_irq[1];
#endif
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
