/* smp.h - TestOS's per-CPU state, secondary start-up over PSCI, and waiting helpers. */
#ifndef TESTOS_SMP_H
#define TESTOS_SMP_H

#include "arch.h"
#include "config.h"

/* SGIs TestOS uses between CPUs. */
#define SGI_PING 1 /* boot CPU -> secondary: answer with SGI_PONG */
#define SGI_PONG 2 /* secondary -> boot CPU */
#define SGI_SELF 3 /* a CPU to itself: the bench's SGI round trip */

/** A timer interrupt as the handler saw it. */
struct timer_event {
    volatile uint32_t count; /* interrupts taken */
    uint64_t counter;        /* the timer's counter (CNTVCT or CNTPCT) in the handler */
    uint64_t ctl;            /* CNTx_CTL in the handler: ISTATUS must be set */
    uint64_t stamp;          /* CNTVCT at the exception vector */
    uint32_t refire;         /* interrupts to take with the timer left firing (bench) */
};

/**
 * One CPU. Written by that CPU, except `online`'s readers and the reports the boot CPU
 * collects after the secondary has published them (release/acquire on the flags).
 */
struct cpu {
    unsigned int index;
    uint64_t mpidr;
    uint32_t gic_target; /* GICv2 CPU interface mask (GICD_ITARGETSR0) */
    uintptr_t gicr;      /* GICv3 redistributor (RD_base) */
    uint64_t svc_count, brk_count;
    struct timer_event timer[2];
    volatile uint32_t online;      /* set by the secondary once it runs C with its GIC ready */
    volatile uint32_t vtimer_done; /* the secondary's virtual-timer check has finished */
    const char *vtimer_error;      /* NULL: passed */
    uint64_t vtimer_late;          /* ticks from the deadline to the handler */
    volatile uint32_t pings;       /* SGI_PING received */
    volatile uint32_t pongs;       /* boot CPU: SGI_PONG received */
    volatile uint32_t pong_from;   /* boot CPU: the index of the last CPU that answered */
    volatile uint32_t selfs;       /* SGI_SELF received */
} __attribute__((aligned(64)));

extern struct cpu smp_cpus[TESTOS_MAX_CPUS];

static inline struct cpu *smp_this_cpu(void)
{
    return &smp_cpus[read_sysreg(tpidr_el1)];
}

void smp_init_boot_cpu(void);
int64_t smp_start_cpu(unsigned int index);
bool smp_wait_online(unsigned int index, uint64_t timeout_ticks);
void smp_ping(unsigned int index);
bool smp_wait_flag(volatile uint32_t *flag, uint32_t value, uint64_t timeout_ticks);
void smp_wait_irq(volatile uint32_t *flag, uint32_t value);
void smp_secondary_main(uint64_t index);

#endif
