/* timer.c - TestOS's generic timers: program a deadline, take its PPI, check when it came. */
#include "timer.h"
#include "exception.h"
#include "gic.h"
#include "platform.h"
#include "smp.h"

/* CNTKCTL_EL1: an event stream on CNTVCT bit 12 (an event every 8192 ticks, 131 us at 62.5 MHz)
 * wakes WFE, so a WFE wait that nobody signals still checks its timeout (Arm ARM D11.2.3). */
#define CNTKCTL_EVNTEN   (1u << 2)
#define CNTKCTL_EVNTI(n) ((uint64_t)(n) << 4)

uint64_t timer_frequency(void)
{
    return read_sysreg(cntfrq_el0);
}

static uint64_t timer_count(enum timer_kind kind)
{
    isb();
    return kind == TIMER_VIRT ? read_sysreg(cntvct_el0) : read_sysreg(cntpct_el0);
}

static void timer_set_ctl(enum timer_kind kind, uint64_t ctl)
{
    if (kind == TIMER_VIRT)
        write_sysreg(cntv_ctl_el0, ctl);
    else
        write_sysreg(cntp_ctl_el0, ctl);
    isb();
}

static void timer_irq(struct frame *frame, unsigned int intid)
{
    enum timer_kind kind = intid == platform.vtimer_irq ? TIMER_VIRT : TIMER_PHYS;
    struct timer_event *ev = &smp_this_cpu()->timer[kind];

    ev->counter = timer_count(kind);
    ev->ctl = kind == TIMER_VIRT ? read_sysreg(cntv_ctl_el0) : read_sysreg(cntp_ctl_el0);
    ev->stamp = frame->stamp;
    /* The bench's round trip masks the timer, as Linux's handler does; the bench unmasks it. */
    if (ev->refire) {
        ev->refire--;
        timer_set_ctl(kind, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    } else {
        timer_set_ctl(kind, 0); /* the level drops before the EOI */
    }
    __atomic_store_n(&ev->count, ev->count + 1, __ATOMIC_RELEASE);
}

/** Register the timer handlers (boot CPU, once). */
void timer_init(void)
{
    if (platform.vtimer_irq)
        exception_set_irq_handler(platform.vtimer_irq, timer_irq);
    exception_set_irq_handler(platform.ptimer_irq, timer_irq);
}

/** This CPU: timers off, their PPIs enabled, the WFE event stream on. */
void timer_cpu_init(void)
{
    write_sysreg(cntkctl_el1, CNTKCTL_EVNTEN | CNTKCTL_EVNTI(12));
    if (platform.vtimer_irq) {
        timer_set_ctl(TIMER_VIRT, 0);
        gic_enable_irq(platform.vtimer_irq);
    }
    timer_set_ctl(TIMER_PHYS, 0);
    gic_enable_irq(platform.ptimer_irq);
}

/** Fire an interrupt when the kind's counter reaches deadline (absolute CVAL). */
void timer_arm(enum timer_kind kind, uint64_t deadline)
{
    if (kind == TIMER_VIRT)
        write_sysreg(cntv_cval_el0, deadline);
    else
        write_sysreg(cntp_cval_el0, deadline);
    timer_set_ctl(kind, CNT_CTL_ENABLE);
}

/**
 * Arm the timer 1 ms ahead, sleep in WFI until its interrupt, and check the handler ran at or
 * after the deadline with ISTATUS set. Returns NULL or what went wrong; *late_ticks is how far
 * past the deadline the handler read the counter.
 */
const char *timer_check(enum timer_kind kind, uint64_t *late_ticks)
{
    struct timer_event *ev = &smp_this_cpu()->timer[kind];
    uint32_t before = ev->count;
    uint64_t deadline = timer_count(kind) + timer_frequency() / 1000;

    timer_arm(kind, deadline);
    smp_wait_irq(&ev->count, before + 1);
    if (ev->counter < deadline)
        return "interrupt before the deadline";
    if (!(ev->ctl & CNT_CTL_ISTATUS))
        return "ISTATUS clear in the handler";
    *late_ticks = ev->counter - deadline;
    return NULL;
}
