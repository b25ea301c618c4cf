/* timer.h - TestOS's generic timer use: the EL1 virtual (CNTV) and physical (CNTP) timers. */
#ifndef TESTOS_TIMER_H
#define TESTOS_TIMER_H

#include "arch.h"
#include "hw/timer.h"

enum timer_kind { TIMER_VIRT, TIMER_PHYS };

static inline uint64_t timer_virtual_count(void)
{
    isb();
    return read_sysreg(cntvct_el0);
}

uint64_t timer_frequency(void);
void timer_init(void);
void timer_cpu_init(void);
void timer_arm(enum timer_kind kind, uint64_t deadline);
const char *timer_check(enum timer_kind kind, uint64_t *late_ticks);

#endif
