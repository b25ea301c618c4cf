/* loadavg.h - 1, 5 and 15 minute load averages, sampled every 5 seconds as Linux does. */
#ifndef KERNEL_LOADAVG_H
#define KERNEL_LOADAVG_H

#include <stdbool.h>

#define LOADAVG_FSHIFT         11 /* fixed point: 1.0 is 1 << 11 */
#define LOADAVG_FIXED_1        (1UL << LOADAVG_FSHIFT)
#define LOADAVG_INTERVAL_TICKS (5 * 100) /* 5 s of scheduler ticks (HZ 100) */

/* One 5-second step of avg[3] (fixed point) with active runnable threads (pure, host-tested). */
void loadavg_step(unsigned long avg[3], unsigned int active);
/* CPU 0's tick: true every LOADAVG_INTERVAL_TICKS, when loadavg_sample is due. */
bool loadavg_due(void);
/* A step with the threads runnable now (running or queued, on all CPUs). */
void loadavg_sample(unsigned int active);
/* The averages now (fixed point, LOADAVG_FSHIFT). */
void loadavg_get(unsigned long avg[3]);

#endif
