/* vgic_mmio.c - guest accesses to the vGIC: frame lookup, per-INTID register arrays, ID registers.
 */
#include "lib/errno.h"
#include "vgic_priv.h"

/* GICD_IROUTER<n> bits that hold something: Aff3 [39:32], IRM [31], Aff2, Aff1, Aff0 [23:0]. */
#define IROUTER_MASK 0xff80ffffffUL

enum vgic_frame { FRAME_V2_DIST, FRAME_V3_DIST, FRAME_V3_REDIST };

/* The interrupt a register field names, if this frame reaches it. */
static struct vgic_irq *reachable(struct vgic *vg, const struct vgic_access *a, uint32_t intid)
{
    if (intid < VGIC_NR_PRIVATE && !a->privates)
        return NULL;
    return vgic_get_irq(vg, a->target, intid);
}

static uint64_t field_get(struct vgic *vg, struct vgic_access *a, const struct vgic_irq *irq,
                          uint32_t intid, unsigned field)
{
    /*
     * Pending and active state of an interrupt in an LR are as of the last sync: have its vCPU
     * sync soon, so that a guest polling them (Linux's synchronize_irq) sees them change.
     */
    if (field >= VGIC_F_PEND_SET && field <= VGIC_F_ACTIVE_CLEAR && irq->in_lr && !irq->stale)
        vgic_kick(vg, (unsigned)vgic_irq_owner(vg, a->target, intid), &a->defer);
    switch (field) {
    case VGIC_F_GROUP: return irq->group1;
    case VGIC_F_ENABLE_SET:
    case VGIC_F_ENABLE_CLEAR: return irq->enabled;
    case VGIC_F_PEND_SET:
    case VGIC_F_PEND_CLEAR: return vgic_irq_pending_read(irq);
    case VGIC_F_ACTIVE_SET:
    case VGIC_F_ACTIVE_CLEAR: return irq->active;
    case VGIC_F_PRIORITY: return irq->priority;
    case VGIC_F_TARGET:
        /* GICD_ITARGETSR0-7 read as the reading CPU's own bit (GICv2, GICD_ITARGETSRn). */
        if (intid < VGIC_NR_PRIVATE)
            return 1u << a->vcpu;
        return vg->nr_vcpus == 1 ? 0 : irq->targets;
    default: return irq->edge ? 2 : 0; /* VGIC_F_CONFIG: Int_config[1], edge-triggered */
    }
}

/* A write to an active bit: the model takes over from any LR holding the interrupt. */
static void active_set(struct vgic *vg, struct vgic_access *a, struct vgic_irq *irq, uint32_t intid,
                       bool on)
{
    int holder = vgic_irq_owner(vg, a->target, intid);

    if (irq->active == on)
        return;
    vgic_irq_unflight(vg, a->target, intid, &a->defer);
    irq->active = on;
    if (on) {
        /* Set active by a write: it belongs to the vCPU it is routed to, or the writer. */
        irq->home = (uint8_t)(holder >= 0 ? holder : (int)a->vcpu);
        irq->active_src = 0;
        vgic_kick(vg, irq->home, &a->defer);
    } else if (irq->hw) {
        /* Deactivated by a write: so is the physical interrupt (the flush sees it not live). */
        irq->line = false;
        irq->latch = false;
        if (holder >= 0)
            vgic_kick(vg, (unsigned)holder, &a->defer);
    } else if (irq->notify && holder >= 0) {
        vgic_defer_deactivated(&a->defer, (unsigned)holder, intid);
    }
}

static void field_set(struct vgic *vg, struct vgic_access *a, struct vgic_irq *irq, uint32_t intid,
                      unsigned field, uint64_t v)
{
    unsigned vcpu = a->target;
    int before = vgic_irq_signalled(vg, vcpu, intid);
    /* GICv2 SGIs are made pending per source with GICD_SPENDSGIR (GICv2, GICD_ISPENDRn). */
    bool pend_ro = vgic_is_v2_sgi(vg, intid);

    switch (field) {
    case VGIC_F_GROUP: irq->group1 = v & 1; break;
    case VGIC_F_ENABLE_SET: irq->enabled |= v & 1; break;
    case VGIC_F_ENABLE_CLEAR:
        if ((v & 1) && irq->enabled) {
            irq->enabled = false;
            /* Take it back out of the LR it waits in. */
            if (irq->in_lr && (irq->lr_state & VGIC_LR_PENDING))
                vgic_kick(vg, (unsigned)vgic_irq_owner(vg, vcpu, intid), &a->defer);
        }
        break;
    case VGIC_F_PEND_SET: irq->latch |= (v & 1) && !pend_ro; break;
    case VGIC_F_PEND_CLEAR:
        if ((v & 1) && !pend_ro) {
            vgic_irq_unflight(vg, vcpu, intid, &a->defer);
            irq->latch = false;
        }
        break;
    case VGIC_F_ACTIVE_SET:
        if (v & 1)
            active_set(vg, a, irq, intid, true);
        break;
    case VGIC_F_ACTIVE_CLEAR:
        if (v & 1)
            active_set(vg, a, irq, intid, false);
        break;
    case VGIC_F_PRIORITY: irq->priority = (uint8_t)(v & VGIC_PRIO_MASK); break;
    case VGIC_F_TARGET:
        /* Bits of CPU interfaces that do not exist are RAZ/WI; private ones are read-only. */
        if (intid >= VGIC_NR_PRIVATE && vg->nr_vcpus > 1)
            irq->targets = (uint8_t)(v & ((1u << vg->nr_vcpus) - 1));
        break;
    case VGIC_F_CONFIG:
        /* SGIs are always edge-triggered (GICv2 GICD_ICFGRn, GICv3 GICR_ICFGR0). */
        if (intid >= VGIC_NR_SGIS)
            irq->edge = (v >> 1) & 1;
        break;
    default: vg->irouter[intid - VGIC_NR_PRIVATE] = v & IROUTER_MASK; break; /* VGIC_F_ROUTE */
    }
    vgic_irq_changed(vg, vcpu, intid, before, &a->defer);
}

/* GICD_IROUTER<n>: 64-bit, or either 32-bit half (GICv3, "GIC memory-mapped register access"). */
static int route_access(struct vgic *vg, struct vgic_access *a, uint32_t rel)
{
    uint32_t intid = rel / 8;
    unsigned shift = (rel % 8) * 8;
    uint64_t mask = a->size == 8 ? ~0UL : 0xffffffffUL << shift;
    struct vgic_irq *irq = reachable(vg, a, intid);

    if (!irq) {
        a->val = a->write ? a->val : 0;
        return 0;
    }
    uint64_t cur = vg->irouter[intid - VGIC_NR_PRIVATE];
    if (a->write)
        field_set(vg, a, irq, intid, VGIC_F_ROUTE, (cur & ~mask) | ((a->val << shift) & mask));
    else
        a->val = (cur & mask) >> shift;
    return 0;
}

int vgic_irq_reg_access(struct vgic *vg, struct vgic_access *a, const struct vgic_irq_reg *r)
{
    uint32_t rel = a->offset - r->offset;
    unsigned bits = r->bits;

    if (!(r->sizes & a->size))
        return -EINVAL;
    if (bits == 64)
        return route_access(vg, a, rel);
    unsigned count = a->size * 8 / bits;
    uint32_t first = rel * 8 / bits;
    uint64_t mask = (1UL << bits) - 1;

    if (!a->write)
        a->val = 0;
    for (unsigned i = 0; i < count; i++) {
        uint32_t intid = first + i;
        struct vgic_irq *irq = reachable(vg, a, intid);

        if (!irq)
            continue; /* beyond the INTIDs we have, or not reachable here: RAZ/WI */
        if (a->write)
            field_set(vg, a, irq, intid, r->field, (a->val >> (i * bits)) & mask);
        else
            a->val |= field_get(vg, a, irq, intid, r->field) << (i * bits);
    }
    return 0;
}

const struct vgic_irq_reg *vgic_irq_reg_find(const struct vgic_irq_regs *t, uint32_t offset)
{
    if (offset < VGIC_GRANULES << VGIC_GRANULE_SHIFT) {
        unsigned i = t->granule[offset >> VGIC_GRANULE_SHIFT];

        if (!i)
            return NULL;
        return offset - t->regs[i - 1].offset < t->regs[i - 1].len ? &t->regs[i - 1] : NULL;
    }
    for (unsigned i = 0; i < t->n; i++)
        if (offset >= t->regs[i].offset && offset - t->regs[i].offset < t->regs[i].len)
            return &t->regs[i];
    return NULL;
}

/*
 * PIDR4-7, PIDR0-3, CIDR0-3 at 0xfd0-0xffc (GICv2 "Identification registers", GICv3 GICD_PIDR2).
 * JEP106 Arm (0x3b, continuation 4), part 0; PIDR2.ArchRev is what guests check; PIDR4.SIZE
 * counts 4 KiB blocks as a power of two: 1 for the v2 distributor, 16 for a v3 frame.
 */
uint32_t vgic_id_reg(const struct vgic *vg, uint32_t offset)
{
    static const uint8_t ids[12] = {0x04, 0, 0, 0, 0x00, 0xb0, 0x0b, 0, 0x0d, 0xf0, 0x05, 0xb1};
    unsigned i = (offset - 0xfd0) / 4;

    if (i == 0)
        return vg->version == 2 ? 0x04 : 0x44;
    if (i == 6)
        return vg->version << 4 | ids[6];
    return ids[i];
}

/* Which frame offset falls in; *rel its offset there, *rd the redistributor's vCPU. */
static int frame_of(const struct vgic *vg, uint64_t offset, uint32_t *rel, unsigned *rd)
{
    uint64_t redist = offset - VGIC_REDIST_OFFSET_V3;

    if (vg->version == 2) {
        if (offset >= VGIC_DIST_SIZE_V2)
            return -ENOENT;
        *rel = (uint32_t)offset;
        return FRAME_V2_DIST;
    }
    if (offset < VGIC_DIST_SIZE_V3) {
        *rel = (uint32_t)offset;
        return FRAME_V3_DIST;
    }
    if (offset < VGIC_REDIST_OFFSET_V3 || redist >= (uint64_t)vg->nr_vcpus * VGIC_REDIST_STRIDE_V3)
        return -ENOENT;
    *rd = (unsigned)(redist / VGIC_REDIST_STRIDE_V3);
    *rel = (uint32_t)(redist % VGIC_REDIST_STRIDE_V3);
    return FRAME_V3_REDIST;
}

/* The frame of an access at offset (FRAME_*, its offset in rel and the redistributor in rd), or
 * -ENOENT (no frame there), -EINVAL (a vCPU the VM lacks, a bad size or misalignment). */
static int access_frame(const struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size,
                        uint32_t *rel, unsigned *rd)
{
    int frame = frame_of(vg, offset, rel, rd);

    if (frame < 0)
        return frame;
    /* 0x116: bits 1, 2, 4 and 8, the sizes an access may have */
    if (vcpu >= vg->nr_vcpus || size > 8 || !((0x116u >> size) & 1) || (offset & (size - 1)))
        return -EINVAL;
    return frame;
}

/* GICD_TYPER and GICD_IIDR sit at the same offsets in both versions' distributors. */
#define GICD_TYPER 0x004
#define GICD_IIDR  0x008
#define GICD_SGIR  0xf00 /* GICv2 only */

bool vgic_dist_const(const struct vgic *vg, uint32_t off, unsigned size, uint64_t *val)
{
    /* The ID registers fill the frame's last 0x30 bytes (0xfd0 in v2's 4 KiB, 0xffd0 in v3's). */
    uint32_t id_first = (vg->version == 2 ? VGIC_DIST_SIZE_V2 : VGIC_DIST_SIZE_V3) - 0x30;

    if (size != 4)
        return false;
    if (off == GICD_TYPER)
        *val = vg->typer;
    else if (off == GICD_IIDR)
        *val = VGIC_IIDR;
    else if (off >= id_first)
        *val = vgic_id_reg(vg, off & 0xfff);
    else
        return false;
    return true;
}

static int mmio_access(struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size,
                       uint64_t *val, bool write)
{
    struct vgic_access a;
    unsigned rd = 0;
    int frame = access_frame(vg, vcpu, offset, size, &a.offset, &rd);
    int rc;

    if (frame < 0)
        return frame;
    if (!write && frame != FRAME_V3_REDIST && vgic_dist_const(vg, a.offset, size, val))
        return 0;
    /* A GICv2 SGI send shows no state: the timer's line can wait. */
    if (vg->ops->sample && !(write && frame == FRAME_V2_DIST && a.offset == GICD_SGIR))
        vg->ops->sample(vg->ctx, vcpu);
    a.vcpu = a.target = vcpu;
    a.size = size;
    a.write = write;
    a.privates = false;
    vgic_defer_init(&a.defer);
    a.val = write && size < 8 ? *val & ((1UL << (size * 8)) - 1) : *val;
    unsigned long flags = vgic_lock(vg);
    switch (frame) {
    case FRAME_V2_DIST:
        a.privates = true;
        rc = vgic_v2_dist_access(vg, &a);
        break;
    case FRAME_V3_DIST: rc = vgic_v3_dist_access(vg, &a); break;
    default:
        a.privates = true;
        a.target = rd;
        rc = vgic_v3_redist_access(vg, &a, rd);
        break;
    }
    vgic_unlock(vg, flags, &a.defer);
    if (!write)
        *val = rc ? 0 : a.val;
    return rc;
}

int vgic_mmio_read(struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size, uint64_t *val)
{
    *val = 0;
    return mmio_access(vg, vcpu, offset, size, val, false);
}

int vgic_mmio_write(struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size, uint64_t val)
{
    return mmio_access(vg, vcpu, offset, size, &val, true);
}
