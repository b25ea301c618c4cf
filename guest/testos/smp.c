/* smp.c - TestOS's CPUs: per-CPU state, PSCI CPU_ON, the secondaries' work, SGI ping-pong. */
#include "smp.h"
#include "exception.h"
#include "gic.h"
#include "platform.h"
#include "psci.h"
#include "timer.h"

struct cpu smp_cpus[TESTOS_MAX_CPUS];

extern const char secondary_entry[];

static void smp_sgi(struct frame *frame, unsigned int intid)
{
    struct cpu *me = smp_this_cpu();

    (void)frame;
    if (intid == SGI_PING) {
        me->pings++;
        __atomic_store_n(&smp_cpus[0].pong_from, me->index, __ATOMIC_RELEASE);
        gic_send_sgi(0, SGI_PONG);
    } else if (intid == SGI_SELF) {
        __atomic_store_n(&me->selfs, me->selfs + 1, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&me->pongs, me->pongs + 1, __ATOMIC_RELEASE);
    }
}

/* Per-CPU set-up shared by every CPU: vectors, GIC interface, SGIs, timers (IRQs still masked). */
static void smp_cpu_setup(unsigned int index)
{
    struct cpu *me = &smp_cpus[index];

    me->index = index;
    me->mpidr = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
    exception_init();
    gic_cpu_init();
    gic_enable_irq(SGI_PING);
    gic_enable_irq(SGI_PONG);
    gic_enable_irq(SGI_SELF);
    timer_cpu_init();
}

/** The boot CPU's share of smp_cpu_setup, after the distributor is up; IRQs stay masked. */
void smp_init_boot_cpu(void)
{
    exception_set_irq_handler(SGI_PING, smp_sgi);
    exception_set_irq_handler(SGI_PONG, smp_sgi);
    exception_set_irq_handler(SGI_SELF, smp_sgi);
    smp_cpu_setup(0);
}

/** PSCI CPU_ON for platform CPU index, entering secondary_entry with x0 = index. */
int64_t smp_start_cpu(unsigned int index)
{
    return psci_call(PSCI_CPU_ON, platform.mpidr[index], (uintptr_t)secondary_entry, index);
}

/** Spin (yielding with WFE) until *flag reaches value or timeout_ticks of CNTVCT pass. */
bool smp_wait_flag(volatile uint32_t *flag, uint32_t value, uint64_t timeout_ticks)
{
    uint64_t start = timer_virtual_count();

    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < value) {
        if (timer_virtual_count() - start > timeout_ticks)
            return false;
        wfe(); /* the event stream (timer_cpu_init) bounds the sleep */
    }
    return true;
}

bool smp_wait_online(unsigned int index, uint64_t timeout_ticks)
{
    return smp_wait_flag(&smp_cpus[index].online, 1, timeout_ticks);
}

/**
 * Sleep in WFI until an interrupt handler has brought *flag to value. Interrupts are masked
 * around the test so one arriving between the test and the WFI is not lost (WFI wakes on a
 * pending interrupt even while PSTATE.I masks it).
 */
void smp_wait_irq(volatile uint32_t *flag, uint32_t value)
{
    for (;;) {
        irq_disable();
        if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) >= value)
            break;
        wfi();
        irq_enable();
    }
    irq_enable();
}

/** Send SGI_PING to CPU index; its answer shows as smp_cpus[0].pongs. */
void smp_ping(unsigned int index)
{
    gic_send_sgi(index, SGI_PING);
}

/** C entry of a secondary CPU (head.S): set up, report in, run its checks, then serve SGIs. */
void smp_secondary_main(uint64_t index)
{
    struct cpu *me = &smp_cpus[index];

    smp_cpu_setup((unsigned int)index);
    __atomic_store_n(&me->online, 1, __ATOMIC_RELEASE);
    sev();
    irq_enable();
    if (platform.vtimer_irq)
        me->vtimer_error = timer_check(TIMER_VIRT, &me->vtimer_late);
    __atomic_store_n(&me->vtimer_done, 1, __ATOMIC_RELEASE);
    sev();
    for (;;) {
        irq_disable();
        wfi();
        irq_enable();
    }
}
