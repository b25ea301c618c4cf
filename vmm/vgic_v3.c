/* vgic_v3.c - the GICv3 distributor, redistributors and ICC_SGI1R_EL1 as a guest sees them. */
#include "lib/errno.h"
#include "vgic_priv.h"

/* IHI 0069, 12.9 "The GIC Distributor register map" and 12.10/12.11 for the redistributor. */
#define GICD_CTLR     0x0000
#define GICD_TYPER    0x0004
#define GICD_IIDR     0x0008
#define GICR_CTLR     0x0000
#define GICR_IIDR     0x0004
#define GICR_TYPER    0x0008
#define GICR_WAKER    0x0014
#define GIC_ID_FIRST  0xffd0 /* PIDR4 .. CIDR3 at the top of a 64 KiB frame */
#define GICR_SGI_BASE 0x10000

/* GICD_CTLR with one security state (DS = 1): affinity routing always on, RWP never set. */
#define CTLR_ARE (1u << 4)
#define CTLR_DS  (1u << 6)

/* GICD_TYPER: IDbits = 9 (10-bit INTIDs), no LPIs, no MBIs, no Aff3, Aff0 up to 15 (RSS = 0). */
#define TYPER_ITLINES   (VGIC_NR_IRQS / 32 - 1)
#define TYPER_IDBITS    (9u << 19)
#define GICR_TYPER_LAST (1UL << 4)
#define GICR_TYPER_PROC 8  /* Processor_Number [23:8] */
#define GICR_TYPER_AFF  32 /* Aff0 [39:32], Aff1-3 above */
#define WAKER_SLEEP     (1u << 1)
#define WAKER_CHILDREN  (1u << 2)

/* ICC_SGI1R_EL1 fields (GICv3, ICC_SGI1R_EL1). */
#define SGI1R_TARGETS(v) ((unsigned)(v)&0xffff)
#define SGI1R_AFF1(v)    (((v) >> 16) & 0xff)
#define SGI1R_INTID(v)   ((uint32_t)((v) >> 24) & 0xf)
#define SGI1R_AFF2(v)    (((v) >> 32) & 0xff)
#define SGI1R_IRM        (1UL << 40)
#define SGI1R_RS(v)      ((unsigned)((v) >> 44) & 0xf)
#define SGI1R_AFF3(v)    (((v) >> 48) & 0xff)

/* With affinity routing, INTIDs 0-31 live in the redistributors; the distributor's are RAZ/WI. */
static const struct vgic_irq_reg dist_regs[] = {
    {0x0080, 0x80, 1, 4, VGIC_F_GROUP},        {0x0100, 0x80, 1, 4, VGIC_F_ENABLE_SET},
    {0x0180, 0x80, 1, 4, VGIC_F_ENABLE_CLEAR}, {0x0200, 0x80, 1, 4, VGIC_F_PEND_SET},
    {0x0280, 0x80, 1, 4, VGIC_F_PEND_CLEAR},   {0x0300, 0x80, 1, 4, VGIC_F_ACTIVE_SET},
    {0x0380, 0x80, 1, 4, VGIC_F_ACTIVE_CLEAR}, {0x0400, 0x3fc, 8, 1 | 4, VGIC_F_PRIORITY},
    {0x0c00, 0x100, 2, 4, VGIC_F_CONFIG},      {0x6000, 0x1fe0, 64, 4 | 8, VGIC_F_ROUTE},
};

/* The SGI_base frame: the redistributor's SGIs and PPIs. IGRPMODR0 is RAZ/WI (DS = 1). */
static const struct vgic_irq_reg sgi_regs[] = {
    {0x0080, 4, 1, 4, VGIC_F_GROUP},        {0x0100, 4, 1, 4, VGIC_F_ENABLE_SET},
    {0x0180, 4, 1, 4, VGIC_F_ENABLE_CLEAR}, {0x0200, 4, 1, 4, VGIC_F_PEND_SET},
    {0x0280, 4, 1, 4, VGIC_F_PEND_CLEAR},   {0x0300, 4, 1, 4, VGIC_F_ACTIVE_SET},
    {0x0380, 4, 1, 4, VGIC_F_ACTIVE_CLEAR}, {0x0400, 0x20, 8, 1 | 4, VGIC_F_PRIORITY},
    {0x0c00, 8, 2, 4, VGIC_F_CONFIG},
};

#define NR(a) (sizeof(a) / sizeof((a)[0]))
const struct vgic_irq_regs vgic_v3_dist_regs = {
    dist_regs,
    NR(dist_regs),
    {[1] = 1,
     [2] = 2,
     [3] = 3,
     [4] = 4,
     [5] = 5,
     [6] = 6,
     [7] = 7,
     [8 ... 15] = 8,
     [24 ... 25] = 9},
};
const struct vgic_irq_regs vgic_v3_sgi_regs = {
    sgi_regs,
    NR(sgi_regs),
    {[1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [7] = 7, [8] = 8, [24] = 9},
};

uint32_t vgic_v3_typer(void)
{
    return TYPER_ITLINES | TYPER_IDBITS;
}

int vgic_v3_dist_access(struct vgic *vg, struct vgic_access *a)
{
    const struct vgic_irq_reg *r = vgic_irq_reg_find(&vgic_v3_dist_regs, a->offset);

    if (r)
        return vgic_irq_reg_access(vg, a, r);
    if (a->size != 4)
        return -EINVAL;
    if (a->write) {
        if (a->offset == GICD_CTLR)
            vgic_ctlr_write(vg, (uint32_t)a->val, &a->defer);
        return 0;
    }
    /* TYPER, IIDR and the IDs: one home, the lock-free reader (mmio_access asks it first). */
    if (!vgic_dist_const(vg, a->offset, a->size, &a->val))
        a->val = a->offset == GICD_CTLR ? vg->ctlr | CTLR_ARE | CTLR_DS : 0;
    return 0;
}

/* GICR_TYPER: 64-bit, or either 32-bit half (GICv3, "GIC memory-mapped register access"). */
static int typer_access(struct vgic *vg, struct vgic_access *a, unsigned rd)
{
    uint64_t typer = (uint64_t)rd << GICR_TYPER_AFF | (uint64_t)rd << GICR_TYPER_PROC |
                     (rd == vg->nr_vcpus - 1 ? GICR_TYPER_LAST : 0);

    if (a->size != 4 && a->size != 8)
        return -EINVAL;
    if (!a->write)
        a->val = a->size == 8 ? typer : (uint32_t)(typer >> (8 * (a->offset - GICR_TYPER)));
    return 0;
}

static int rd_access(struct vgic *vg, struct vgic_access *a, unsigned rd)
{
    if (a->offset == GICR_TYPER || a->offset == GICR_TYPER + 4)
        return typer_access(vg, a, rd);
    if (a->size != 4)
        return -EINVAL;
    if (a->write) {
        /* ChildrenAsleep follows ProcessorSleep at once: there is nothing to quiesce. */
        if (a->offset == GICR_WAKER)
            vg->cpu[rd].sleep = a->val & WAKER_SLEEP;
        return 0;
    }
    switch (a->offset) {
    case GICR_IIDR: a->val = VGIC_IIDR; break;
    case GICR_WAKER: a->val = vg->cpu[rd].sleep ? WAKER_SLEEP | WAKER_CHILDREN : 0; break;
    case GICR_CTLR: a->val = 0; break; /* no LPIs to enable, and RWP is never set */
    default: a->val = a->offset >= GIC_ID_FIRST ? vgic_id_reg(vg, a->offset & 0xfff) : 0; break;
    }
    return 0;
}

int vgic_v3_redist_access(struct vgic *vg, struct vgic_access *a, unsigned rd)
{
    if (a->offset < GICR_SGI_BASE)
        return rd_access(vg, a, rd);
    a->offset -= GICR_SGI_BASE;
    const struct vgic_irq_reg *r = vgic_irq_reg_find(&vgic_v3_sgi_regs, a->offset);
    if (r)
        return vgic_irq_reg_access(vg, a, r);
    if (a->size != 4)
        return -EINVAL;
    a->val = a->write ? a->val : 0;
    return 0;
}

/*
 * ICC_SGI1R_EL1, trapped: SGI INTID to the PEs Aff3.Aff2.Aff1.<RS * 16 + bit> for each TargetList
 * bit, or with IRM to every PE but the writer. Our vCPUs are 0.0.0.n.
 */
int vgic_sgi1r_write(struct vgic *vg, unsigned vcpu, uint64_t val)
{
    struct vgic_defer d;

    vgic_defer_init(&d);
    uint32_t intid = SGI1R_INTID(val);
    uint32_t targets = 0;

    if (vg->version != 3 || vcpu >= vg->nr_vcpus)
        return -EINVAL;
    if (val & SGI1R_IRM)
        targets = ((1u << vg->nr_vcpus) - 1) & ~(1u << vcpu);
    else if (!SGI1R_AFF1(val) && !SGI1R_AFF2(val) && !SGI1R_AFF3(val) && SGI1R_RS(val) == 0)
        targets = SGI1R_TARGETS(val) & ((1u << vg->nr_vcpus) - 1);
    unsigned long flags = vgic_lock(vg);
    for (unsigned t = 0; t < vg->nr_vcpus; t++) {
        if (!(targets & (1u << t)))
            continue;
        int before = vgic_irq_signalled(vg, t, intid);

        vg->cpu[t].priv[intid].latch = true;
        vgic_irq_changed(vg, t, intid, before, &d);
    }
    vgic_unlock(vg, flags, &d);
    return 0;
}
