/* cpu.h - per-CPU data, CPU numbering and the boot-time CPU entry points. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#define MAX_CPUS        8
#define BOOT_STACK_SIZE 16384
#define PERCPU_SIZE     128

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "arch/sysreg.h"

struct thread;

/* Per-CPU state. Each field is written only by its own CPU unless noted. */
struct __attribute__((aligned(PERCPU_SIZE))) percpu {
    unsigned int id;         /* logical CPU number, 0 = boot CPU */
    uint64_t mpidr;          /* affinity from the device tree */
    volatile bool online;    /* set by the CPU itself once it takes interrupts */
    volatile uint64_t ticks; /* scheduler ticks taken (HZ per second) */
    volatile uint64_t ipis;  /* SGIs taken */
    uint64_t stack_top;      /* boot stack, used for backtrace bounds */
    unsigned int gic_cpu_if; /* GICv2 CPU interface number (ITARGETSR bit) */
    /* Scheduler (kernel/sched.c). Read and written by this CPU with IRQs masked, except: */
    struct thread *current;     /* the running thread */
    unsigned int preempt_count; /* > 0: the running thread must not be switched out */
    volatile bool need_resched; /* any CPU may set it (then sends SGI_RESCHEDULE) */
    bool balance_due;           /* the tick asks the next schedule to balance load */
    uint64_t next_tick;         /* counter value of the next scheduler tick (timer.c) */
    uint64_t guest_deadline;    /* hypervisor: the loaded vCPU's emulated timer, 0 = none */
    uint64_t idle_ticks;        /* counter time this CPU slept in its idle loop (other CPUs read) */
    void *guest; /* hypervisor: the vCPU whose state is in this CPU (loaded), else NULL */
};

extern struct percpu percpu_data[MAX_CPUS];
extern unsigned int cpus_possible; /* CPUs described by the device tree (<= MAX_CPUS) */

/* this_cpu(): the running CPU's data, found through TPIDR_ELx (set at CPU bring-up). */
static inline struct percpu *this_cpu(void)
{
    return (struct percpu *)read_sysreg(SYSREG_TPIDR);
}

static inline unsigned int cpu_id(void)
{
    return this_cpu()->id;
}

unsigned int cpu_online_count(void);
void smp_boot_secondaries(void);
void cpu_halt(void) __attribute__((noreturn));
#endif

#endif
