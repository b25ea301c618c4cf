/* vgic_v2.c - the GICv2 distributor (GICD, 4 KiB) as a guest sees it: IHI 0048B chapter 4. */
#include "lib/errno.h"
#include "vgic_priv.h"

#define GICD_CTLR      0x000
#define GICD_TYPER     0x004
#define GICD_IIDR      0x008
#define GICD_SGIR      0xf00
#define GICD_CPENDSGIR 0xf10
#define GICD_SPENDSGIR 0xf20
#define SGIR_REGS_LEN  0x10 /* 4 registers, a byte per SGI */

/* GICD_TYPER.ITLinesNumber: 32 * (N + 1) interrupts. */
#define TYPER_ITLINES      (VGIC_NR_IRQS / 32 - 1)
#define TYPER_CPU_SHIFT    5
#define SGIR_INTID_MASK    0xfu
#define SGIR_TARGETS_SHIFT 16
#define SGIR_FILTER_SHIFT  24

static const struct vgic_irq_reg dist_regs[] = {
    {0x080, 0x80, 1, 4, VGIC_F_GROUP},        {0x100, 0x80, 1, 4, VGIC_F_ENABLE_SET},
    {0x180, 0x80, 1, 4, VGIC_F_ENABLE_CLEAR}, {0x200, 0x80, 1, 4, VGIC_F_PEND_SET},
    {0x280, 0x80, 1, 4, VGIC_F_PEND_CLEAR},   {0x300, 0x80, 1, 4, VGIC_F_ACTIVE_SET},
    {0x380, 0x80, 1, 4, VGIC_F_ACTIVE_CLEAR}, {0x400, 0x3fc, 8, 1 | 4, VGIC_F_PRIORITY},
    {0x800, 0x3fc, 8, 1 | 4, VGIC_F_TARGET},  {0xc00, 0x100, 2, 4, VGIC_F_CONFIG},
};
const struct vgic_irq_regs vgic_v2_dist_regs = {
    dist_regs,
    sizeof(dist_regs) / sizeof(dist_regs[0]),
    {[1] = 1,
     [2] = 2,
     [3] = 3,
     [4] = 4,
     [5] = 5,
     [6] = 6,
     [7] = 7,
     [8 ... 15] = 8,
     [16 ... 23] = 9,
     [24 ... 25] = 10},
};

/* A write to GICD_SGIR: SGI intid from the writer to the CPUs its filter names (GICD_SGIR). */
static void sgir_write(struct vgic *vg, struct vgic_access *a)
{
    uint32_t intid = (uint32_t)a->val & SGIR_INTID_MASK;
    unsigned all = (1u << vg->nr_vcpus) - 1, targets;

    switch ((a->val >> SGIR_FILTER_SHIFT) & 3) {
    case 0: targets = (a->val >> SGIR_TARGETS_SHIFT) & all; break;
    case 1: targets = all & ~(1u << a->vcpu); break;
    case 2: targets = 1u << a->vcpu; break;
    default: targets = 0; break; /* 0b11 is reserved: nothing is sent */
    }
    for (unsigned t = 0; t < vg->nr_vcpus; t++) {
        if (!(targets & (1u << t)))
            continue;
        int before = vgic_irq_signalled(vg, t, intid);

        vg->cpu[t].priv[intid].sgi_src |= (uint8_t)(1u << a->vcpu);
        vgic_irq_changed(vg, t, intid, before, &a->defer);
    }
}

/*
 * GICD_CPENDSGIRn / GICD_SPENDSGIRn: a byte per SGI of the accessing CPU, a bit per source CPU.
 * Byte or word access.
 */
static int sgi_pending_access(struct vgic *vg, struct vgic_access *a, bool set)
{
    uint32_t first = a->offset & (SGIR_REGS_LEN - 1);
    uint8_t sources = (uint8_t)((1u << vg->nr_vcpus) - 1);

    if (a->size != 1 && a->size != 4)
        return -EINVAL;
    if (!a->write)
        a->val = 0;
    for (unsigned i = 0; i < a->size; i++) {
        uint32_t intid = first + i;
        struct vgic_irq *irq = &vg->cpu[a->vcpu].priv[intid];
        uint8_t bits = (uint8_t)(a->val >> (8 * i)) & sources;

        if (!a->write) {
            uint8_t in_lr = irq->in_lr && !irq->stale && irq->lr_moved ? 1u << irq->lr_src : 0;
            a->val |= (uint64_t)(irq->sgi_src | in_lr) << (8 * i);
            continue;
        }
        if (!bits)
            continue;
        int before = vgic_irq_signalled(vg, a->vcpu, intid);
        if (set) {
            irq->sgi_src |= bits;
        } else {
            vgic_irq_unflight(vg, a->vcpu, intid, &a->defer);
            irq->sgi_src &= (uint8_t)~bits;
        }
        vgic_irq_changed(vg, a->vcpu, intid, before, &a->defer);
    }
    return 0;
}

uint32_t vgic_v2_typer(unsigned nr_vcpus)
{
    return TYPER_ITLINES | (nr_vcpus - 1) << TYPER_CPU_SHIFT;
}

int vgic_v2_dist_access(struct vgic *vg, struct vgic_access *a)
{
    const struct vgic_irq_reg *r = vgic_irq_reg_find(&vgic_v2_dist_regs, a->offset);
    uint32_t off = a->offset;

    if (r)
        return vgic_irq_reg_access(vg, a, r);
    if (off >= GICD_CPENDSGIR && off < GICD_CPENDSGIR + SGIR_REGS_LEN)
        return sgi_pending_access(vg, a, false);
    if (off >= GICD_SPENDSGIR && off < GICD_SPENDSGIR + SGIR_REGS_LEN)
        return sgi_pending_access(vg, a, true);
    /* Everything else is 32-bit; what is not below is reserved: RAZ/WI. */
    if (a->size != 4)
        return -EINVAL;
    if (!a->write) {
        /* TYPER, IIDR and the IDs: one home, the lock-free reader (mmio_access asks it first). */
        if (!vgic_dist_const(vg, off, a->size, &a->val))
            a->val = off == GICD_CTLR ? vg->ctlr : 0;
        return 0;
    }
    if (off == GICD_CTLR)
        vgic_ctlr_write(vg, (uint32_t)a->val, &a->defer);
    else if (off == GICD_SGIR)
        sgir_write(vg, a);
    return 0;
}
