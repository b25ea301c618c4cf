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
uint64_t time_now_ns(void);

#endif
