/* vgic.c - the virtual GIC's interrupt state: reset, routing, input lines, kicks. */
#include "vmm/vgic.h"

#include "lib/errno.h"
#include "lib/string.h"
#include "vgic_priv.h"

/* GICD_IROUTER<n> (GICv3): Interrupt_Routing_Mode and the affinity fields. */
#define IROUTER_IRM      (1UL << 31)
#define IROUTER_AFF0     0xffUL
#define IROUTER_AFF123   0xff00ffff00UL /* Aff3 [39:32], Aff2 [23:16], Aff1 [15:8] */
#define ITARGETS_DEFAULT 1u             /* SPIs start on vCPU 0 (the reset value is ours) */

_Static_assert(VGIC_NR_SPIS % 64 == 0, "spi_busy holds whole words");

unsigned long vgic_lock(struct vgic *vg)
{
    return spin_lock_irqsave(&vg->lock);
}

/* Callbacks run unlocked: they take other locks and call back into the vGIC. */
void vgic_unlock(struct vgic *vg, unsigned long flags, const struct vgic_defer *d)
{
    spin_unlock_irqrestore(&vg->lock, flags);
    for (unsigned i = 0; i < d->nr; i++)
        vg->ops->deactivated(vg->ctx, d->deact[i].vcpu, d->deact[i].intid);
    for (uint32_t k = d->kick; k; k &= k - 1)
        vg->ops->kick(vg->ctx, (unsigned)__builtin_ctz(k));
}

void vgic_kick(struct vgic *vg, unsigned vcpu, struct vgic_defer *d)
{
    vg->cpu[vcpu].full = true;
    __atomic_store_n(&vg->cpu[vcpu].needs_flush, 1, __ATOMIC_RELEASE);
    d->kick |= 1u << vcpu;
}

/* Private intid is newly signalled to vcpu: the next refresh may just add it. */
static void kick_fresh(struct vgic *vg, unsigned vcpu, uint32_t intid, struct vgic_defer *d)
{
    vg->cpu[vcpu].fresh |= 1u << intid;
    __atomic_store_n(&vg->cpu[vcpu].needs_flush, 1, __ATOMIC_RELEASE);
    d->kick |= 1u << vcpu;
}

void vgic_defer_deactivated(struct vgic_defer *d, unsigned vcpu, uint32_t intid)
{
    if (d->nr < VGIC_DEFER_MAX) {
        d->deact[d->nr].vcpu = (uint8_t)vcpu;
        d->deact[d->nr].intid = (uint16_t)intid;
        d->nr++;
    }
}

void vgic_ctlr_write(struct vgic *vg, uint32_t val, struct vgic_defer *d)
{
    uint32_t old = vg->ctlr;

    vg->ctlr = val & (VGIC_CTLR_GRP0 | VGIC_CTLR_GRP1);
    /* Forwarding turned on or off: every vCPU builds its LRs again. */
    if (vg->ctlr != old)
        for (unsigned v = 0; v < vg->nr_vcpus; v++)
            vgic_kick(vg, v, d);
}

bool vgic_irq_pending_read(const struct vgic_irq *irq)
{
    return vgic_irq_pending(irq) ||
           (irq->in_lr && !irq->stale && (irq->lr_state & VGIC_LR_PENDING));
}

/* Where an SPI goes when it next becomes pending: -1 if that is no vCPU of ours. */
int vgic_spi_route(const struct vgic *vg, uint32_t intid)
{
    unsigned i = intid - VGIC_NR_PRIVATE;

    if (vg->version == 2) {
        /* One CPU interface takes everything (GICv2, GICD_ITARGETSRn). */
        if (vg->nr_vcpus == 1)
            return 0;
        unsigned t = vg->spi[i].targets & ((1u << vg->nr_vcpus) - 1);
        return t ? __builtin_ctz(t) : -1;
    }
    uint64_t r = vg->irouter[i];
    if (r & IROUTER_IRM)
        return 0; /* "any participating PE" (GICv3, GICD_IROUTER<n>): vCPU 0 */
    if ((r & IROUTER_AFF123) || (r & IROUTER_AFF0) >= vg->nr_vcpus)
        return -1;
    return (int)(r & IROUTER_AFF0);
}

void vgic_irq_changed(struct vgic *vg, unsigned vcpu, uint32_t intid, int before,
                      struct vgic_defer *d)
{
    const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    int now = vgic_irq_signalled(vg, vcpu, intid);

    vgic_irq_track(vg, vcpu, intid);
    if (now >= 0 && now != before) {
        /*
         * Newly signalled: a private one may go straight into a free LR. One still in an LR (its
         * last instance, maybe done by now) is looked at by the refresh: a new instance next to
         * a finished one, or a full rebuild that merges it with one still pending.
         */
        if (intid < VGIC_NR_PRIVATE)
            kick_fresh(vg, (unsigned)now, intid, d);
        else
            vgic_kick(vg, (unsigned)now, d);
    } else if (irq->in_lr) {
        /* Its LR may no longer say what the model does (priority, group): rebuild. */
        vg->cpu[intid < VGIC_NR_PRIVATE ? vcpu : irq->home].full = true;
    }
}

void vgic_irq_unflight(struct vgic *vg, unsigned vcpu, uint32_t intid, struct vgic_defer *d)
{
    struct vgic_irq *irq = vgic_get_irq(vg, vcpu, intid);

    if (!irq->in_lr || irq->stale)
        return;
    /* As if the LR came back unchanged; vgic_sync then ignores what it really holds. */
    if (irq->lr_moved) {
        if (vgic_is_v2_sgi(vg, intid))
            irq->sgi_src |= (uint8_t)(1u << irq->lr_src);
        else
            irq->latch = true;
    }
    irq->stale = true;
    vgic_kick(vg, intid < VGIC_NR_PRIVATE ? vcpu : irq->home, d);
}

static void irq_reset(struct vgic *vg, struct vgic_irq *irq, uint32_t intid)
{
    bool line = irq->line, notify = irq->notify, hw = irq->hw;

    memset(irq, 0, sizeof(*irq));
    irq->line = line && !hw; /* a forwarded interrupt comes again from the hardware */
    irq->notify = notify;
    irq->hw = hw;
    /* SGIs: edge-triggered, and enabled from reset as KVM has them (GICv2, GICD_ISENABLERn). */
    irq->edge = intid < VGIC_NR_SGIS;
    irq->enabled = intid < VGIC_NR_SGIS;
    /* A GICv3 guest with one security state uses Group 1 only; GICv2 guests leave Group 0. */
    irq->group1 = vg->version == 3;
    irq->targets = intid >= VGIC_NR_PRIVATE ? ITARGETS_DEFAULT : 0;
}

void vgic_reset(struct vgic *vg)
{
    unsigned long flags = vgic_lock(vg);

    vg->ctlr = 0;
    for (unsigned v = 0; v < vg->nr_vcpus; v++) {
        struct vgic_cpu *c = &vg->cpu[v];

        for (uint32_t i = 0; i < VGIC_NR_PRIVATE; i++) {
            irq_reset(vg, &c->priv[i], i);
            vgic_irq_track(vg, v, i); /* a level line still high stays pending */
        }
        c->nr_lr = 0;
        c->fresh = 0;
        c->full = true;
        c->overflow = false;
        c->sleep = true; /* GICR_WAKER.ProcessorSleep resets to 1 (GICv3, GICR_WAKER) */
        __atomic_store_n(&c->needs_flush, 0, __ATOMIC_RELAXED);
    }
    for (uint32_t i = 0; i < VGIC_NR_SPIS; i++) {
        irq_reset(vg, &vg->spi[i], i + VGIC_NR_PRIVATE);
        vg->irouter[i] = 0;
        vgic_irq_track(vg, 0, i + VGIC_NR_PRIVATE);
    }
    spin_unlock_irqrestore(&vg->lock, flags);
}

int vgic_init(struct vgic *vg, unsigned version, unsigned nr_vcpus, const struct vgic_ops *ops,
              void *ctx)
{
    if ((version != 2 && version != 3) || nr_vcpus < 1 || nr_vcpus > VGIC_MAX_VCPUS || !ops ||
        !ops->kick || !ops->deactivated)
        return -EINVAL;
    memset(vg, 0, sizeof(*vg));
    spin_init(&vg->lock);
    vg->version = version;
    vg->nr_vcpus = nr_vcpus;
    vg->typer = version == 2 ? vgic_v2_typer(nr_vcpus) : vgic_v3_typer();
    vg->ops = ops;
    vg->ctx = ctx;
    vgic_reset(vg);
    return 0;
}

/* The interrupt a device line drives: a PPI of vcpu or an SPI, never an SGI. */
static struct vgic_irq *line_irq(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    return intid < VGIC_NR_SGIS ? NULL : vgic_get_irq(vg, vcpu, intid);
}

void vgic_set_level_locked(struct vgic *vg, unsigned vcpu, uint32_t intid, bool level,
                           struct vgic_defer *d)
{
    struct vgic_irq *irq = line_irq(vg, vcpu, intid);

    /* The timer and devices restate their level often: an unchanged line changes nothing. */
    if (!irq || irq->line == level)
        return;
    int before = vgic_irq_signalled(vg, vcpu, intid);

    /* An edge-triggered input becomes pending on its rising edge. */
    if (irq->edge && level && !irq->line)
        irq->latch = true;
    irq->line = level;
    /* Fallen before the guest took it: the LR that offers it must be withdrawn. */
    if (!level && !irq->latch && irq->in_lr && (irq->lr_state & VGIC_LR_PENDING))
        vgic_kick(vg, (unsigned)vgic_irq_owner(vg, vcpu, intid), d);
    vgic_irq_changed(vg, vcpu, intid, before, d);
    /*
     * A forwarded interrupt whose source stopped before the guest took it: take it back out of
     * its LR; the flush then sees it no longer owes a physical deactivation.
     */
    if (irq->hw && !level && !irq->active) {
        vgic_irq_unflight(vg, vcpu, intid, d);
        irq->latch = false;
        vgic_kick(vg, intid < VGIC_NR_PRIVATE ? vcpu : irq->home, d);
    }
}

void vgic_set_level(struct vgic *vg, unsigned vcpu, uint32_t intid, bool level)
{
    struct vgic_defer d;

    vgic_defer_init(&d);
    unsigned long flags = vgic_lock(vg);
    vgic_set_level_locked(vg, vcpu, intid, level, &d);
    vgic_unlock(vg, flags, &d);
}

void vgic_inject_edge(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    struct vgic_defer d;

    vgic_defer_init(&d);
    unsigned long flags = vgic_lock(vg);
    struct vgic_irq *irq = line_irq(vg, vcpu, intid);

    if (irq) {
        int before = vgic_irq_signalled(vg, vcpu, intid);

        irq->latch = true;
        vgic_irq_changed(vg, vcpu, intid, before, &d);
    }
    vgic_unlock(vg, flags, &d);
}

void vgic_set_notify(struct vgic *vg, unsigned vcpu, uint32_t intid, bool on)
{
    unsigned long flags = vgic_lock(vg);
    struct vgic_irq *irq = vgic_get_irq(vg, vcpu, intid);

    if (irq)
        irq->notify = on;
    spin_unlock_irqrestore(&vg->lock, flags);
}

void vgic_set_hw(struct vgic *vg, unsigned vcpu, uint32_t intid, bool on)
{
    unsigned long flags = vgic_lock(vg);
    struct vgic_irq *irq = line_irq(vg, vcpu, intid);

    if (irq) {
        irq->hw = on;
        if (intid < VGIC_NR_PRIVATE)
            vg->cpu[vcpu].hw_mask =
                on ? vg->cpu[vcpu].hw_mask | 1u << intid : vg->cpu[vcpu].hw_mask & ~(1u << intid);
    }
    spin_unlock_irqrestore(&vg->lock, flags);
}

/* intid is pending for vcpu as the guest would see it: enabled, its group on, routed there. */
static bool pending_on(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    const struct vgic_irq *irq = vgic_get_irq(vg, vcpu, intid);
    uint32_t grp = irq->group1 ? VGIC_CTLR_GRP1 : VGIC_CTLR_GRP0;

    return vgic_irq_pending_read(irq) && irq->enabled && (vg->ctlr & grp) &&
           vgic_irq_owner(vg, vcpu, intid) == (int)vcpu;
}

bool vgic_pending(struct vgic *vg, unsigned vcpu)
{
    bool found = false;

    if (vcpu >= vg->nr_vcpus)
        return false;
    unsigned long flags = vgic_lock(vg);
    for (unsigned w = 0; w < VGIC_BUSY_WORDS && !found; w++) {
        uint32_t base;
        uint64_t busy = vgic_busy_word(vg, vcpu, w, &base);

        for (; busy && !found; busy &= busy - 1)
            found = pending_on(vg, vcpu, base + (uint32_t)__builtin_ctzll(busy));
    }
    spin_unlock_irqrestore(&vg->lock, flags);
    return found;
}
