/* vgic_lr.c - the vGIC's list registers: what goes in before a vCPU runs, what comes back after. */
#include "vgic_priv.h"

/*
 * Fold one LR back into the model: it held irq in state put and came back in state got. The
 * guest may have acknowledged it (pending -> active) and deactivated it (active -> invalid);
 * GICv2 "GICH_LRn" and GICv3 "ICH_LR<n>_EL2" give the transitions a list register makes.
 */
static void fold(struct vgic *vg, unsigned vcpu, uint32_t intid, unsigned got, struct vgic_defer *d)
{
    struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    unsigned put = irq->lr_state;
    bool acked = (put & VGIC_LR_PENDING) && !(got & VGIC_LR_PENDING);
    bool deact = ((put & VGIC_LR_ACTIVE) && (!(got & VGIC_LR_ACTIVE) || acked)) ||
                 (acked && !(got & VGIC_LR_ACTIVE));

    irq->in_lr = false;
    if (irq->stale) {
        /* A register write since the flush decided its state (vgic_irq_unflight). */
        irq->stale = false;
        return;
    }
    if (irq->lr_moved && (got & VGIC_LR_PENDING)) {
        if (vgic_is_v2_sgi(vg, intid))
            irq->sgi_src |= (uint8_t)(1u << irq->lr_src);
        else
            irq->latch = true;
    } else if (!irq->lr_moved && acked) {
        /* A level interrupt's acknowledge consumes a GICD_ISPENDR latch; the line stays. */
        irq->latch = false;
    }
    irq->active = (got & VGIC_LR_ACTIVE) != 0;
    if (irq->active) {
        irq->active_src = irq->lr_src;
        irq->home = (uint8_t)vcpu;
    }
    if (deact && irq->hw) {
        /* The guest deactivated the physical interrupt too; if its source is still asserted it
         * fires again and its owner raises the line again. */
        irq->line = false;
        irq->latch = false;
    } else if (deact && irq->notify) {
        vgic_defer_deactivated(d, vcpu, intid);
    }
}

/* Fold every LR of the last flush; those missing from lrs came back as they went in. */
static void sync_locked(struct vgic *vg, unsigned vcpu, const struct vgic_lr *lrs, unsigned n,
                        struct vgic_defer *d)
{
    struct vgic_cpu *c = &vg->cpu[vcpu];
    bool changed = false;

    for (unsigned i = 0; i < c->nr_lr; i++) {
        uint32_t intid = c->lr_intid[i];
        struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
        unsigned got = irq->lr_state;

        for (unsigned j = 0; j < n; j++)
            if (lrs[j].intid == intid)
                got = lrs[j].state & VGIC_LR_PENDING_ACTIVE;
        changed |= got != irq->lr_state;
        fold(vg, vcpu, intid, got, d);
        vgic_irq_track(vg, vcpu, intid);
        /* Pending again (a level line still high, another SGI source): its vCPU looks again. */
        int to = vgic_irq_signalled(vg, vcpu, intid);
        if (to >= 0)
            vgic_kick(vg, (unsigned)to, d);
    }
    c->nr_lr = 0;
    c->full = true; /* nothing is in an LR now: the next flush looks at everything */
    if (changed)
        __atomic_store_n(&c->needs_flush, 1, __ATOMIC_RELEASE);
    d->kick &= ~(1u << vcpu); /* the caller is that vCPU */
}

void vgic_sync(struct vgic *vg, unsigned vcpu, const struct vgic_lr *lrs, unsigned n)
{
    struct vgic_defer d;

    vgic_defer_init(&d);
    if (vcpu >= vg->nr_vcpus)
        return;
    unsigned long flags = vgic_lock(vg);
    sync_locked(vg, vcpu, lrs, n, &d);
    vgic_unlock(vg, flags, &d);
}

/* The LR for irq, and what leaves the model for it. */
static struct vgic_lr make_lr(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    bool pend = vgic_irq_signalled(vg, vcpu, intid) >= 0;
    struct vgic_lr lr = {.intid = intid,
                         .priority = irq->priority,
                         .group1 = irq->group1,
                         .hw = irq->hw,
                         .notify_eoi = irq->notify && !irq->hw};

    irq->lr_moved = false;
    irq->lr_src = 0;
    if (vgic_is_v2_sgi(vg, intid)) {
        /* One source at a time; the next goes in once this one is deactivated. */
        unsigned src =
            irq->active || !irq->sgi_src ? irq->active_src : (unsigned)__builtin_ctz(irq->sgi_src);

        pend = pend && (irq->sgi_src & (1u << src));
        if (pend) {
            irq->sgi_src &= (uint8_t) ~(1u << src);
            irq->lr_moved = true;
        }
        lr.notify_eoi |= irq->sgi_src != 0;
        lr.source = (uint8_t)src;
        irq->lr_src = (uint8_t)src;
    } else if (irq->edge) {
        if (pend) {
            irq->latch = false;
            irq->lr_moved = true;
        }
    } else if (irq->hw) {
        /* The physical interrupt holds the state: deactivating the LR deactivates it. */
        pend = pend && !irq->active;
    } else if (irq->line) {
        /*
         * A level line that is high now may still be high when the guest deactivates it: resample
         * then. Active and pending through the line alone, GICv2/v3 would show it pending and
         * active, but the guest's handler is about to lower the line: wait for the deactivation.
         */
        lr.notify_eoi = true;
        pend = pend && (irq->latch || !irq->active);
    }
    lr.state = (uint8_t)((pend ? VGIC_LR_PENDING : 0) | (irq->active ? VGIC_LR_ACTIVE : 0));
    irq->in_lr = true;
    irq->stale = false;
    irq->lr_state = lr.state;
    if (intid >= VGIC_NR_PRIVATE)
        irq->home = (uint8_t)vcpu;
    return lr;
}

/* Order of the LRs: active ones first (the guest will deactivate them), then by priority. */
static uint32_t lr_key(const struct vgic_irq *irq, uint32_t intid)
{
    return (uint32_t)!irq->active << 24 | (uint32_t)irq->priority << 16 | intid;
}

/* Whether intid goes in one of vcpu's LRs: active there, or pending and signalled to it. */
static bool wants_lr(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);

    if (irq->active)
        return vgic_irq_owner(vg, vcpu, intid) == (int)vcpu;
    return vgic_irq_signalled(vg, vcpu, intid) == (int)vcpu;
}

/* Insert key into best (n of max used, ascending), dropping the largest if full. */
static unsigned best_insert(uint32_t *best, unsigned n, unsigned max, uint32_t key)
{
    unsigned pos = n < max ? n++ : max;

    while (pos > 0 && best[pos - 1] > key) {
        if (pos < max)
            best[pos] = best[pos - 1];
        pos--;
    }
    if (pos < max)
        best[pos] = key;
    return n;
}

/* vcpu's forwarded private interrupts that still hold their physical one active. */
static uint32_t hw_live(struct vgic *vg, unsigned vcpu)
{
    uint32_t live = 0;

    for (uint32_t b = vg->cpu[vcpu].priv_busy & vg->cpu[vcpu].hw_mask; b; b &= b - 1) {
        unsigned i = (unsigned)__builtin_ctz(b);
        const struct vgic_irq *irq = &vg->cpu[vcpu].priv[i];

        if (irq->line || irq->active || irq->in_lr)
            live |= 1u << i;
    }
    return live;
}

/* Fill up to max LRs for vcpu from the model (the last flush's LRs already folded back). */
static unsigned flush_locked(struct vgic *vg, unsigned vcpu, struct vgic_lr *lrs, unsigned max,
                             bool *more)
{
    uint32_t best[VGIC_MAX_LRS]; /* lr_key, ascending */
    unsigned n = 0, total = 0;

    if (max > VGIC_MAX_LRS)
        max = VGIC_MAX_LRS;
    __atomic_store_n(&vg->cpu[vcpu].needs_flush, 0, __ATOMIC_RELAXED);
    vg->cpu[vcpu].fresh = 0;
    vg->cpu[vcpu].full = false;
    /* Only what is pending, active or in an LR can want one: word 0 private, then the SPIs. */
    for (unsigned w = 0; w < VGIC_BUSY_WORDS; w++) {
        uint32_t base;
        uint64_t busy = vgic_busy_word(vg, vcpu, w, &base);

        for (; busy; busy &= busy - 1) {
            uint32_t intid = base + (uint32_t)__builtin_ctzll(busy);

            if (!wants_lr(vg, vcpu, intid))
                continue;
            n = best_insert(best, n, max, lr_key(vgic_irq_at(vg, vcpu, intid), intid));
            total++;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t intid = best[i] & 0xffff;

        lrs[i] = make_lr(vg, vcpu, intid);
        vg->cpu[vcpu].lr_intid[i] = (uint16_t)intid;
    }
    vg->cpu[vcpu].nr_lr = (uint8_t)n;
    vg->cpu[vcpu].hw_live = hw_live(vg, vcpu);
    *more = total > n;
    vg->cpu[vcpu].overflow = *more;
    return n;
}

/*
 * Whether the refresh can keep the LRs and change only what moved: nothing asked for a full one,
 * everything wanted fits, back is the last flush's LRs in order, and no fresh interrupt (raise
 * included) sits in an LR the guest left as it was (its new instance would merge with that one).
 */
static bool can_refresh_in_place(struct vgic *vg, unsigned vcpu, const struct vgic_lr *back,
                                 unsigned nback, int raise, unsigned max)
{
    const struct vgic_cpu *c = &vg->cpu[vcpu];
    uint32_t fresh = c->fresh, moved = 0;
    unsigned need = c->nr_lr;

    if (c->full || c->overflow || nback != c->nr_lr || raise >= VGIC_NR_PRIVATE)
        return false;
    if (raise >= 0)
        fresh |= 1u << raise;
    for (unsigned i = 0; i < nback; i++) {
        uint32_t intid = c->lr_intid[i];
        const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);

        if (back[i].intid != intid || irq->stale)
            return false;
        if ((back[i].state & VGIC_LR_PENDING_ACTIVE) != irq->lr_state && intid < VGIC_NR_PRIVATE)
            moved |= 1u << intid;
    }
    for (; fresh; fresh &= fresh - 1) {
        unsigned intid = (unsigned)__builtin_ctz(fresh);

        if (!c->priv[intid].in_lr)
            need++;
        else if (!(moved & (1u << intid)))
            return false;
    }
    return need <= max;
}

/*
 * Forwarded intid, whose LR offered it pending and came back invalid (the guest took it and
 * deactivated it, and with it the physical interrupt), is raised again and would go back exactly
 * as it was: level, enabled, its group on, no latch, nothing else pending about it.
 */
static bool hw_again(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    uint32_t grp = irq->group1 ? VGIC_CTLR_GRP1 : VGIC_CTLR_GRP0;

    return irq->hw && !irq->edge && irq->line && !irq->latch && !irq->active && !irq->lr_moved &&
           irq->enabled && (vg->ctlr & grp) && irq->lr_state == VGIC_LR_PENDING;
}

/*
 * Private intid got a new instance after this refresh made its LR again (the guest had moved
 * it): fold that LR back unchanged and make it once more, with the new instance, or drop it.
 * Returns the new number of LRs.
 */
static unsigned remake(struct vgic *vg, unsigned vcpu, uint32_t intid, struct vgic_lr *lrs,
                       unsigned n, struct vgic_defer *d)
{
    struct vgic_cpu *c = &vg->cpu[vcpu];
    unsigned i = 0;

    while (i < n && c->lr_intid[i] != intid)
        i++;
    if (i == n)
        return n; /* not ours: can_refresh_in_place lets no such interrupt through */
    fold(vg, vcpu, intid, c->priv[intid].lr_state, d);
    vgic_irq_track(vg, vcpu, intid);
    if (wants_lr(vg, vcpu, intid)) {
        lrs[i] = make_lr(vg, vcpu, intid);
        return n;
    }
    for (; i + 1 < n; i++) {
        lrs[i] = lrs[i + 1];
        c->lr_intid[i] = c->lr_intid[i + 1];
    }
    return n - 1;
}

/*
 * The refresh without a rebuild: LRs the guest left alone stay as they are; those it moved are
 * folded back and made again (or dropped once nothing is left of them); then the raise, then the
 * fresh private interrupts go into free LRs. The LRs come out as the full refresh would make
 * them, in another order. Returns how many there are.
 */
static unsigned refresh_in_place(struct vgic *vg, unsigned vcpu, const struct vgic_lr *back,
                                 unsigned nback, int raise, struct vgic_lr *lrs,
                                 struct vgic_defer *d)
{
    struct vgic_cpu *c = &vg->cpu[vcpu];
    uint32_t fresh = c->fresh; /* those in an LR were moved: the loop makes them again */
    unsigned n = 0;

    c->fresh = 0;
    for (unsigned i = 0; i < nback; i++) {
        uint32_t intid = c->lr_intid[i];
        unsigned got = back[i].state & VGIC_LR_PENDING_ACTIVE;

        if (got == vgic_irq_at(vg, vcpu, intid)->lr_state) {
            lrs[n] = back[i];
            c->lr_intid[n++] = (uint16_t)intid;
            continue;
        }
        if ((int)intid == raise && got == VGIC_LR_INVALID && hw_again(vg, vcpu, intid)) {
            /* Folding it, raising it and making its LR again would change nothing else. */
            lrs[n] = back[i];
            lrs[n].state = VGIC_LR_PENDING;
            c->lr_intid[n++] = (uint16_t)intid;
            raise = -1;
            continue;
        }
        fold(vg, vcpu, intid, got, d);
        vgic_irq_track(vg, vcpu, intid);
        if (wants_lr(vg, vcpu, intid)) {
            lrs[n] = make_lr(vg, vcpu, intid);
            c->lr_intid[n++] = (uint16_t)intid;
            continue;
        }
        int to = vgic_irq_signalled(vg, vcpu, intid);
        if (to >= 0)
            vgic_kick(vg, (unsigned)to, d);
    }
    c->nr_lr = (uint8_t)n;
    if (raise >= 0)
        vgic_set_level_locked(vg, vcpu, (uint32_t)raise, true, d);
    uint32_t raised = c->fresh; /* a new instance of one made again above: again */

    for (fresh |= raised; fresh; fresh &= fresh - 1) {
        uint32_t intid = (uint32_t)__builtin_ctz(fresh);

        if (c->priv[intid].in_lr) {
            if (raised & (1u << intid))
                n = remake(vg, vcpu, intid, lrs, n, d);
        } else if (wants_lr(vg, vcpu, intid)) {
            lrs[n] = make_lr(vg, vcpu, intid);
            c->lr_intid[n++] = (uint16_t)intid;
        }
    }
    c->fresh = 0;
    c->nr_lr = (uint8_t)n;
    c->hw_live = hw_live(vg, vcpu);
    __atomic_store_n(&c->needs_flush, 0, __ATOMIC_RELAXED); /* the raise kicked this vCPU */
    return n;
}

bool vgic_hw_again(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    if (vcpu >= vg->nr_vcpus || intid >= VGIC_NR_PRIVATE)
        return false;
    unsigned long flags = spin_lock_irqsave(&vg->lock);
    const struct vgic_irq *irq = &vg->cpu[vcpu].priv[intid];
    bool again = irq->in_lr && !irq->stale && hw_again(vg, vcpu, intid);

    spin_unlock_irqrestore(&vg->lock, flags);
    return again;
}

unsigned vgic_flush(struct vgic *vg, unsigned vcpu, struct vgic_lr *lrs, unsigned max, bool *more)
{
    return vgic_refresh(vg, vcpu, NULL, 0, -1, lrs, max, more);
}

unsigned vgic_refresh(struct vgic *vg, unsigned vcpu, const struct vgic_lr *back, unsigned nback,
                      int raise, struct vgic_lr *lrs, unsigned max, bool *more)
{
    struct vgic_defer d;

    *more = false;
    if (vcpu >= vg->nr_vcpus)
        return 0;
    vgic_defer_init(&d);
    unsigned long flags = vgic_lock(vg);
    unsigned n;

    if (can_refresh_in_place(vg, vcpu, back, nback, raise, max)) {
        n = refresh_in_place(vg, vcpu, back, nback, raise, lrs, &d);
        /* The raise wanted more than a fresh interrupt after all: rebuild from these LRs. */
        if (vg->cpu[vcpu].full) {
            sync_locked(vg, vcpu, lrs, n, &d);
            n = flush_locked(vg, vcpu, lrs, max, more);
        }
    } else {
        /* Without LRs read back, the last flush's came back as they were written. */
        sync_locked(vg, vcpu, back, nback, &d);
        if (raise >= 0)
            vgic_set_level_locked(vg, vcpu, (uint32_t)raise, true, &d);
        n = flush_locked(vg, vcpu, lrs, max, more);
    }
    d.kick &= ~(1u << vcpu); /* the caller is that vCPU, about to run with these LRs */
    vgic_unlock(vg, flags, &d);
    return n;
}
