/* preempt.h - the per-CPU preemption count: while it is non-zero the running thread stays on the
 * CPU. */
#ifndef KERNEL_PREEMPT_H
#define KERNEL_PREEMPT_H

#include <stdbool.h>

#ifdef AVATAR_HOST

static inline void preempt_disable(void)
{
}
static inline void preempt_enable(void)
{
}
static inline void preempt_disable_irqoff(void)
{
}
static inline void preempt_enable_irqrestore(unsigned long flags)
{
    (void)flags;
}

#else

#include "arch/cpu.h"
#include "arch/irqflags.h"

/* DAIF.I: IRQs masked (Arm ARM C5.2.2 "DAIF, Interrupt Mask Bits"). */
#define PREEMPT_DAIF_I (1UL << 7)

/* Switch to a more important thread now (kernel/sched.c); IRQs enabled, count zero. */
void sched_preempt(void);

/*
 * The count lives in struct percpu and is changed only with IRQs masked: a thread preempted between
 * reading TPIDR and writing the count could resume on another CPU and write the wrong one.
 */
static inline void preempt_disable_irqoff(void)
{
    this_cpu()->preempt_count++;
}

/* Drop the count, then restore the IRQ mask; switch if that made a pending reschedule possible. */
static inline void preempt_enable_irqrestore(unsigned long flags)
{
    struct percpu *c = this_cpu();
    bool resched = --c->preempt_count == 0 && c->need_resched;

    arch_irq_restore(flags);
    if (resched && !(flags & PREEMPT_DAIF_I))
        sched_preempt();
}

static inline void preempt_disable(void)
{
    unsigned long flags = arch_irq_save();

    preempt_disable_irqoff();
    arch_irq_restore(flags);
}

static inline void preempt_enable(void)
{
    preempt_enable_irqrestore(arch_irq_save());
}

#endif
#endif
