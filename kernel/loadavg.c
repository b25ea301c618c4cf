/* loadavg.c - exponentially damped run-queue length (Linux kernel/sched/loadavg.c, calc_load). */
#include "kernel/loadavg.h"

/* exp(-5 s / 1, 5, 15 min) in fixed point. */
static const unsigned long loadavg_exp[3] = {1884, 2014, 2037};

/* Written by CPU 0's tick only; readers take a possibly torn-between-slots but sane copy. */
static unsigned long loadavg[3];
static unsigned int loadavg_ticks;

void loadavg_step(unsigned long avg[3], unsigned int active)
{
    unsigned long a = (unsigned long)active * LOADAVG_FIXED_1;

    for (int i = 0; i < 3; i++) {
        unsigned long next = avg[i] * loadavg_exp[i] + a * (LOADAVG_FIXED_1 - loadavg_exp[i]);
        if (a >= avg[i])
            next += LOADAVG_FIXED_1 - 1; /* round up while rising, so it reaches the load */
        avg[i] = next / LOADAVG_FIXED_1;
    }
}

bool loadavg_due(void)
{
    if (++loadavg_ticks < LOADAVG_INTERVAL_TICKS)
        return false;
    loadavg_ticks = 0;
    return true;
}

void loadavg_sample(unsigned int active)
{
    unsigned long avg[3];
    for (int i = 0; i < 3; i++)
        avg[i] = __atomic_load_n(&loadavg[i], __ATOMIC_RELAXED);
    loadavg_step(avg, active);
    for (int i = 0; i < 3; i++)
        __atomic_store_n(&loadavg[i], avg[i], __ATOMIC_RELAXED);
}

void loadavg_get(unsigned long avg[3])
{
    for (int i = 0; i < 3; i++)
        avg[i] = __atomic_load_n(&loadavg[i], __ATOMIC_RELAXED);
}
