/* vcpu_inject.c - make a loaded vCPU take an exception at its EL1 (Arm ARM D1.10). */
#include "vmm/vcpu_inject.h"

#include "arch/sysreg.h"
#include "vmm/vcpu_exc.h"

#define ID_PAN(mmfr1) (((mmfr1) >> 20) & 0xf)
#define ID_SSBS(pfr1) (((pfr1) >> 4) & 0xf)

void vcpu_inject_undef(struct trap_frame *tf)
{
    struct vcpu_exc_features f = {
        .pan = ID_PAN(read_sysreg(id_aa64mmfr1_el1)) != 0,
        .ssbs = ID_SSBS(read_sysreg(id_aa64pfr1_el1)) != 0,
    };
    struct vcpu_exc_entry e =
        vcpu_exc_enter(read_sysreg(vbar_el1), tf->spsr, read_sysreg(sctlr_el1), f);

    /* IL is that of the trapped instruction (a trapped MSR/MRS is always 32 bits). */
    write_sysreg(esr_el1, (uint64_t)EC_UNKNOWN << ESR_EC_SHIFT | (tf->esr & ESR_IL));
    write_sysreg(elr_el1, tf->elr);
    write_sysreg(spsr_el1, tf->spsr);
    tf->elr = e.pc;
    tf->spsr = e.pstate;
}
