/* vcpu_exc.h - where and how a synchronous exception enters a guest's EL1 (pure, host-tested). */
#ifndef VMM_VCPU_EXC_H
#define VMM_VCPU_EXC_H

#include <stdbool.h>
#include <stdint.h>

/* What the guest's CPU does on taking an exception to EL1, beyond the registers it saves. */
struct vcpu_exc_features {
    bool pan;  /* FEAT_PAN: PSTATE.PAN is set when SCTLR_EL1.SPAN is 0 */
    bool ssbs; /* FEAT_SSBS: PSTATE.SSBS becomes SCTLR_EL1.DSSBS */
};

/* The guest's PC and PSTATE after an exception is taken to its EL1. */
struct vcpu_exc_entry {
    uint64_t pc;
    uint64_t pstate;
};

/*
 * Offset of the synchronous vector in VBAR_EL1 for an exception taken from the state in spsr
 * (Arm ARM D1.10.2): 0x000 EL1 with SP_EL0, 0x200 EL1 with SP_EL1, 0x400 lower EL in AArch64,
 * 0x600 lower EL in AArch32. Add 0x80/0x100/0x180 for IRQ/FIQ/SError.
 */
uint64_t vcpu_exc_vector_offset(uint64_t spsr);
/* Where a synchronous exception taken from spsr enters EL1 and its PSTATE there (D1.10.3). */
struct vcpu_exc_entry vcpu_exc_enter(uint64_t vbar, uint64_t spsr, uint64_t sctlr,
                                     struct vcpu_exc_features f);

#endif
