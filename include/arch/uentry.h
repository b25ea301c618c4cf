/* uentry.h - the EL0 side of a thread: first entry to user mode, TLS registers. */
#ifndef ARCH_UENTRY_H
#define ARCH_UENTRY_H

#include <stdint.h>

#include "arch/fpsimd.h"
#include "arch/sysreg.h"
#include "arch/trap.h"

/* SPSR_EL1 for a return to EL0 with AArch64 and all interrupts unmasked (Arm ARM C5.2.18). */
#define UENTRY_SPSR_EL0T 0x0UL

/*
 * Leave for EL0 with the registers in src (not on this stack), copied to tf, which must be the
 * top of the running thread's kernel stack: every later entry from EL0 lands on that frame.
 * IRQs masked.
 */
void uentry_return(const struct trap_frame *src, struct trap_frame *tf) __attribute__((noreturn));

/* TPIDR_EL0: the user thread pointer (TLS), which EL0 sets itself. */
static inline uint64_t uentry_tls_get(void)
{
    return read_sysreg(tpidr_el0);
}

static inline void uentry_tls_set(uint64_t v)
{
    write_sysreg(tpidr_el0, v);
}

#endif
