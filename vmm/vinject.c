/* vinject.c - the register values of an exception Avatar injects into a guest's EL1. */
#include "vmm/vinject.h"

#include "arch/sysreg.h"
#include "lib/errno.h"

/* The vector offset for an exception taken to EL1 from pstate; -1 for an impossible state. */
static long vector_offset(uint64_t pstate, bool *from_el0)
{
    uint64_t mode = pstate & PSR_MODE_MASK;

    *from_el0 = true;
    if (mode & PSR_MODE_32) /* AArch32 is possible at EL0 only (HCR_EL2.RW: EL1 is AArch64) */
        return mode == PSR_MODE_32_USR ? (long)VINJECT_VEC_LOWER_A32 : -1;
    if (mode == PSR_MODE_EL0T)
        return (long)VINJECT_VEC_LOWER_A64;
    *from_el0 = false;
    if (mode == PSR_MODE_EL1T)
        return (long)VINJECT_VEC_CUR_SP0;
    if (mode == PSR_MODE_EL1H)
        return (long)VINJECT_VEC_CUR_SPX;
    return -1; /* EL2 or EL3, or a reserved mode: not a guest's */
}

int vinject_sync_abort(const struct vinject_abort *a, struct vinject_entry *out)
{
    bool from_el0;
    long offset = vector_offset(a->pstate, &from_el0);

    if (offset < 0)
        return -EINVAL;
    uint64_t ec = a->instruction ? (from_el0 ? EC_IABT_LOW : EC_IABT_CUR)
                                 : (from_el0 ? EC_DABT_LOW : EC_DABT_CUR);
    out->esr = ec << ESR_EC_SHIFT | ESR_FSC_SEA;
    if (a->il32)
        out->esr |= ESR_IL;
    if (!a->instruction && a->write)
        out->esr |= ESR_ISS_WNR;
    out->far = a->va;
    out->elr = a->pc;
    out->spsr = a->pstate;
    out->pc = (a->vbar & VINJECT_VBAR_MASK) + (uint64_t)offset;
    /*
     * Entry keeps the condition flags and sets EL1h with every exception masked. The other
     * PSTATE bits an entry sets (PAN, UAO, SSBS, BTYPE, TCO) belong to extensions the guest's
     * CPU (QEMU's cortex-a72, Armv8.0) does not have.
     */
    out->pstate = (a->pstate & PSR_NZCV_MASK) | PSR_DAIF_MASK | PSR_MODE_EL1H;
    return 0;
}
