/* vcpu_inject.h - exceptions the hypervisor makes a guest take at its EL1. */
#ifndef VMM_VCPU_INJECT_H
#define VMM_VCPU_INJECT_H

#include "arch/trap.h"

/*
 * The trapped instruction at tf->elr is UNDEFINED for the guest: it takes an Undefined
 * Instruction exception (ESR_EL1.EC 0, unknown reason) at its EL1, as the hardware would give it
 * for a register that does not exist.
 * The vCPU must be loaded (its EL1 registers in the CPU).
 */
void vcpu_inject_undef(struct trap_frame *tf);

#endif
