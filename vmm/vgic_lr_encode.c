/* vgic_lr_encode.c - list register layouts: GICv2 GICH_LR<n> and GICv3 ICH_LR<n>_EL2 (host-tested).
 */
#include "vmm/vgic.h"

/* GICv2 GICH_LR<n> (IHI 0048B, 5.3.11). */
#define V2_LR_ID_MASK     0x3ffu
#define V2_LR_CPUID_SHIFT 10 /* HW = 1: the physical INTID (PhysicalID, bits [19:10]) */
#define V2_LR_EOI         (1u << 19)
#define V2_LR_PRIO_SHIFT  23 /* the top 5 bits of the 8-bit priority */
#define V2_LR_STATE_SHIFT 28
#define V2_LR_GRP1        (1u << 30)
#define V2_LR_HW          (1u << 31)

/* GICv3 ICH_LR<n>_EL2 (IHI 0069, 12.4.6). */
#define V3_LR_PINTID_SHIFT 32 /* HW = 1: the physical INTID (pINTID, bits [44:32]) */
#define V3_LR_EOI          (1UL << 41)
#define V3_LR_PRIO_SHIFT   48
#define V3_LR_GROUP        (1UL << 60)
#define V3_LR_HW           (1UL << 61)
#define V3_LR_STATE_SHIFT  62

uint64_t vgic_lr_encode(int gic_version, const struct vgic_lr *lr)
{
    if (gic_version == 2) {
        uint32_t v = (lr->intid & V2_LR_ID_MASK) | (uint32_t)(lr->state & 3) << V2_LR_STATE_SHIFT |
                     (uint32_t)(lr->priority >> 3) << V2_LR_PRIO_SHIFT;
        if (lr->hw)
            v |= V2_LR_HW | (lr->intid & V2_LR_ID_MASK) << V2_LR_CPUID_SHIFT;
        else if (lr->intid < 16)
            v |= (uint32_t)(lr->source & 7) << V2_LR_CPUID_SHIFT;
        if (lr->notify_eoi && !lr->hw)
            v |= V2_LR_EOI;
        if (lr->group1)
            v |= V2_LR_GRP1;
        return v;
    }
    uint64_t v = lr->intid | (uint64_t)lr->priority << V3_LR_PRIO_SHIFT |
                 (uint64_t)(lr->state & 3) << V3_LR_STATE_SHIFT | (lr->group1 ? V3_LR_GROUP : 0);
    if (lr->hw)
        v |= V3_LR_HW | (uint64_t)lr->intid << V3_LR_PINTID_SHIFT;
    else if (lr->notify_eoi)
        v |= V3_LR_EOI;
    return v;
}

uint8_t vgic_lr_decode_state(int gic_version, uint64_t raw)
{
    return (uint8_t)((raw >> (gic_version == 2 ? V2_LR_STATE_SHIFT : V3_LR_STATE_SHIFT)) & 3);
}
