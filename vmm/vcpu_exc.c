/* vcpu_exc.c - the vector and PSTATE of an exception taken to a guest's EL1 (Arm ARM D1.10). */
#include "vmm/vcpu_exc.h"

#include "hw/pstate.h"

#define SCTLR_SPAN  (1UL << 23)
#define SCTLR_DSSBS (1UL << 44)

#define VEC_CUR_SP0   0x000UL
#define VEC_CUR_SPX   0x200UL
#define VEC_LOWER_A64 0x400UL
#define VEC_LOWER_A32 0x600UL

uint64_t vcpu_exc_vector_offset(uint64_t spsr)
{
    if (spsr & PSR_MODE_32)
        return VEC_LOWER_A32;
    if ((spsr & PSR_MODE_EL_MASK) == 0)
        return VEC_LOWER_A64;
    return spsr & PSR_MODE_SP ? VEC_CUR_SPX : VEC_CUR_SP0;
}

/*
 * AArch64.TakeException: the condition flags stay, D, A, I and F are set, the CPU runs in EL1h;
 * SS, IL, IT/T and BTYPE are cleared; PAN and SSBS follow SCTLR_EL1 where they exist.
 */
struct vcpu_exc_entry vcpu_exc_enter(uint64_t vbar, uint64_t spsr, uint64_t sctlr,
                                     struct vcpu_exc_features f)
{
    struct vcpu_exc_entry e;

    e.pc = vbar + vcpu_exc_vector_offset(spsr);
    e.pstate = (spsr & PSR_NZCV_MASK) | PSR_DAIF_MASK | PSR_MODE_EL1H;
    if (f.pan && ((spsr & PSR_PAN) || !(sctlr & SCTLR_SPAN)))
        e.pstate |= PSR_PAN;
    if (f.ssbs && (sctlr & SCTLR_DSSBS))
        e.pstate |= PSR_SSBS;
    return e;
}
