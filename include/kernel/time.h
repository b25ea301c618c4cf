/* time.h - the system counter, the tick and one-shot deadlines on every CPU, and uptime. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

#include "lib/fdt.h"

#define HZ 100

/* Register the tick interrupt and start it on the boot CPU. */
int timer_init(const struct fdt_platform *plat);
/* Start the tick on a secondary CPU. */
void timer_cpu_init(void);
uint64_t timer_counter(void);   /* CNTPCT_EL0 */
uint64_t timer_frequency(void); /* CNTFRQ_EL0, Hz */
uint64_t timer_ticks_to_ns(uint64_t ticks);
uint64_t timer_ns_to_ticks(uint64_t ns);
/* Program this CPU's timer for its next tick or earliest deadline (IRQs masked). */
void timer_reprogram(void);
/*
 * The idle loop, IRQs masked: stop this CPU's tick while it sleeps (only deadlines and other
 * interrupts wake it), and start it again on the same grid afterwards. An idle CPU has nothing
 * to rotate or balance; waking it to look would be polling, and under QEMU's icount every
 * such tick would move virtual time on while the machine waits for a device.
 */
void timer_idle_enter(void);
void timer_idle_exit(void);
uint64_t time_now_ns(void);

#endif
