/* irqflags.h - mask/unmask IRQs on the local CPU (DAIF.I); no-ops in host unit-test builds. */
#ifndef ARCH_IRQFLAGS_H
#define ARCH_IRQFLAGS_H

#ifdef AVATAR_HOST
/* tests/unit/host_shim.c: yields the host CPU (not <sched.h>, whose sched_yield is not ours). */
void host_cpu_relax(void);

static inline unsigned long arch_irq_save(void)
{
    return 0;
}
static inline void arch_irq_restore(unsigned long flags)
{
    (void)flags;
}
static inline void arch_irq_enable(void)
{
}
static inline void arch_irq_disable(void)
{
}
/* Host threads outnumber CPUs: let the ticket holder run instead of spinning. */
static inline void arch_cpu_relax(void)
{
    host_cpu_relax();
}

#else

static inline unsigned long arch_irq_save(void)
{
    unsigned long flags;

    __asm__ volatile("mrs %0, daif\n msr daifset, #2" : "=r"(flags)::"memory");
    return flags;
}

static inline void arch_irq_restore(unsigned long flags)
{
    __asm__ volatile("msr daif, %0" ::"r"(flags) : "memory");
}

static inline void arch_irq_enable(void)
{
    __asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void arch_irq_disable(void)
{
    __asm__ volatile("msr daifset, #2" ::: "memory");
}

static inline void arch_cpu_relax(void)
{
    __asm__ volatile("yield" ::: "memory");
}

#endif
#endif
