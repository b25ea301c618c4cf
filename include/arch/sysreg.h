/* sysreg.h - system register access, with names that follow the exception level the core runs at.
 */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

/*
 * The core runs at EL1 (native) or EL2 (hypervisor, nVHE). Registers that exist
 * per level are named through these macros so one code base serves both modes.
 */
#ifdef AVATAR_HV
#define EL_SUFFIX    el2
#define CUR_EL       2
#define SYSREG_ESR   esr_el2
#define SYSREG_FAR   far_el2
#define SYSREG_ELR   elr_el2
#define SYSREG_SPSR  spsr_el2
#define SYSREG_VBAR  vbar_el2
#define SYSREG_TPIDR tpidr_el2
#define SYSREG_SCTLR sctlr_el2
#define SYSREG_TCR   tcr_el2
#define SYSREG_MAIR  mair_el2
#define SYSREG_TTBR0 ttbr0_el2
/* The tick timer: EL2 physical ("hypervisor") timer, CNTHP. */
#define SYSREG_TICK_CTL  cnthp_ctl_el2
#define SYSREG_TICK_TVAL cnthp_tval_el2
#define SYSREG_TICK_CVAL cnthp_cval_el2
/* Its interrupt: entry 3 of the arm,armv8-timer node's interrupts (EL2 physical). */
#define TICK_TIMER_IRQ_INDEX 3
/* The kernel's translation table base, and the TLB invalidation of the whole EL2 regime. */
#define SYSREG_KERNEL_TTBR ttbr0_el2
#define TLBI_KERNEL_ALL    "tlbi alle2"
#else
#define EL_SUFFIX            el1
#define CUR_EL               1
#define SYSREG_ESR           esr_el1
#define SYSREG_FAR           far_el1
#define SYSREG_ELR           elr_el1
#define SYSREG_SPSR          spsr_el1
#define SYSREG_VBAR          vbar_el1
#define SYSREG_TPIDR         tpidr_el1
#define SYSREG_SCTLR         sctlr_el1
#define SYSREG_TCR           tcr_el1
#define SYSREG_MAIR          mair_el1
#define SYSREG_TTBR0         ttbr0_el1
/* The tick timer: EL1 non-secure physical timer, CNTP. */
#define SYSREG_TICK_CTL      cntp_ctl_el0
#define SYSREG_TICK_TVAL     cntp_tval_el0
#define SYSREG_TICK_CVAL     cntp_cval_el0
/* Its interrupt: entry 1 of the arm,armv8-timer node's interrupts (EL1 physical). */
#define TICK_TIMER_IRQ_INDEX 1
/* The kernel's (upper-half) translation table base, and the TLB invalidation of EL1&0, all CPUs. */
#define SYSREG_KERNEL_TTBR   ttbr1_el1
#define TLBI_KERNEL_ALL      "tlbi vmalle1is"
#endif

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "hw/esr.h"    /* the fields of SYSREG_ESR */
#include "hw/pstate.h" /* and of SYSREG_SPSR */

#define SR_STR2(x) #x
#define SR_STR(x)  SR_STR2(x)

#define read_sysreg(reg)                                                                           \
    ({                                                                                             \
        uint64_t _v;                                                                               \
        __asm__ volatile("mrs %0, " SR_STR(reg) : "=r"(_v));                                       \
        _v;                                                                                        \
    })

#define write_sysreg(reg, val)                                                                     \
    do {                                                                                           \
        uint64_t _v = (uint64_t)(val);                                                             \
        __asm__ volatile("msr " SR_STR(reg) ", %0" ::"r"(_v) : "memory");                          \
    } while (0)

static inline void isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

static inline void dsb_sy(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

static inline void dsb_ish(void)
{
    __asm__ volatile("dsb ish" ::: "memory");
}

static inline void wfi(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

#endif

#endif
