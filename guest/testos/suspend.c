/* suspend.c - bootargs cpususpend: PSCI CPU_SUSPEND standby and power-down on the boot CPU, each
 * woken by the virtual timer 1 ms ahead (IRQs masked, so the interrupt stays pending). */
#include "suspend.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "platform.h"
#include "psci.h"
#include "smp.h"
#include "timer.h"

#define PSCI_CPU_SUSPEND64 0xc4000001u
#define STANDBY            0u

int64_t suspend_powerdown(bool smc);

/* Arm the virtual timer 1 ms ahead with IRQs masked; returns the deadline. */
static uint64_t arm_wakeup(void)
{
    uint64_t deadline = timer_virtual_count() + timer_frequency() / 1000;

    irq_disable();
    timer_arm(TIMER_VIRT, deadline);
    return deadline;
}

/* Let the pending timer interrupt be taken (its handler turns the timer off). */
static void take_wakeup(uint32_t before)
{
    irq_enable();
    smp_wait_irq(&smp_this_cpu()->timer[TIMER_VIRT].count, before + 1);
}

void suspend_run(void)
{
    uint32_t before = smp_this_cpu()->timer[TIMER_VIRT].count;
    uint64_t deadline = arm_wakeup();
    int64_t r = psci_call(PSCI_CPU_SUSPEND64, STANDBY, 0, 0);
    uint64_t now = timer_virtual_count();

    take_wakeup(before);
    if (r != PSCI_SUCCESS || now < deadline)
        check_fail("cpu-suspend", "standby returned %ld, %ld ticks before the wake-up", r,
                   (long)(deadline - now));
    before = smp_this_cpu()->timer[TIMER_VIRT].count;
    deadline = arm_wakeup();
    r = suspend_powerdown(platform.conduit == PSCI_SMC);
    now = timer_virtual_count();
    exception_init();
    take_wakeup(before);
    if ((r != 1 && r != PSCI_SUCCESS) || now < deadline)
        check_fail("cpu-suspend", "power-down returned %ld, %ld ticks before the wake-up", r,
                   (long)(deadline - now));
    check_pass("cpu-suspend", "standby returned after the wake-up; power-down %s",
               r == 1 ? "resumed at the entry point with the context_id"
                      : "returned SUCCESS (taken as standby)");
    console_printf("TESTOS SUSPEND done\n");
}
