/* vgic_priv.h - what the vGIC's files share (vmm/vgic*.c only). */
#ifndef VMM_VGIC_PRIV_H
#define VMM_VGIC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vgic.h"

#define VGIC_NR_SGIS 16

/* GICD_CTLR group enables (GICv2 without Security Extensions; GICv3 with DS = 1). */
#define VGIC_CTLR_GRP0 1u
#define VGIC_CTLR_GRP1 2u

/* 32 priority levels: GICH_LR.Priority holds bits [7:3] only (GICv2, GICH_LRn). */
#define VGIC_PRIO_MASK 0xf8u

/* GICD_IIDR/GICR_IIDR: Implementer 0x43b (Arm, JEP106), ProductID 0x41 ('A'vatar), revision 0. */
#define VGIC_IIDR 0x4100043bu

/* Work done after the lock is dropped: kicks and deactivation callbacks. */
#define VGIC_DEFER_MAX 32 /* one 32-bit GICD_ICACTIVER write; also > VGIC_MAX_LRS */
struct vgic_defer {
    uint32_t kick; /* a bit per vCPU */
    unsigned nr;
    struct {
        uint8_t vcpu;
        uint16_t intid;
    } deact[VGIC_DEFER_MAX]; /* the first nr only: never zeroed as a whole (hot paths) */
};
/* Empty it: only kick and nr need a value (an initializer would zero deact[] too). */
static inline void vgic_defer_init(struct vgic_defer *d)
{
    d->kick = 0;
    d->nr = 0;
}

/** One guest register access, as the frame handlers see it. */
struct vgic_access {
    unsigned vcpu;   /* the accessing vCPU */
    unsigned target; /* whose private interrupts the frame shows */
    bool privates;   /* INTIDs 0-31 are reachable (else RAZ/WI) */
    uint32_t offset; /* in the frame */
    unsigned size;   /* 1, 2, 4 or 8, naturally aligned */
    bool write;
    uint64_t val; /* written value, or the value read */
    struct vgic_defer defer;
};

/* Per-INTID register fields. */
enum vgic_field {
    VGIC_F_GROUP,
    VGIC_F_ENABLE_SET,
    VGIC_F_ENABLE_CLEAR,
    VGIC_F_PEND_SET,
    VGIC_F_PEND_CLEAR,
    VGIC_F_ACTIVE_SET,
    VGIC_F_ACTIVE_CLEAR,
    VGIC_F_PRIORITY,
    VGIC_F_TARGET,
    VGIC_F_CONFIG,
    VGIC_F_ROUTE,
};

/** A register array with a field per INTID, from INTID 0 at offset. */
struct vgic_irq_reg {
    uint16_t offset;
    uint16_t len;  /* bytes */
    uint8_t bits;  /* per INTID: 1, 2, 8 or 64 */
    uint8_t sizes; /* access sizes allowed, OR of 1, 4, 8 */
    uint8_t field; /* enum vgic_field */
};

/*
 * A frame's per-INTID register arrays, ascending, and which array each 128-byte granule of the
 * frame's first 4 KiB starts or continues in (index + 1; 0: none): the lookup is one load there.
 * Arrays beyond 4 KiB (GICD_IROUTER) are searched. The unit tests check granule[] against regs.
 */
#define VGIC_GRANULE_SHIFT 7
#define VGIC_GRANULES      (0x1000 >> VGIC_GRANULE_SHIFT)
struct vgic_irq_regs {
    const struct vgic_irq_reg *regs;
    unsigned n;
    uint8_t granule[VGIC_GRANULES];
};
extern const struct vgic_irq_regs vgic_v2_dist_regs, vgic_v3_dist_regs, vgic_v3_sgi_regs;

unsigned long vgic_lock(struct vgic *vg);
void vgic_unlock(struct vgic *vg, unsigned long flags, const struct vgic_defer *d);

/* The interrupt intid as vCPU vcpu sees it, or NULL beyond VGIC_NR_IRQS. */
static inline struct vgic_irq *vgic_get_irq(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    if (intid < VGIC_NR_PRIVATE)
        return vcpu < vg->nr_vcpus ? &vg->cpu[vcpu].priv[intid] : NULL;
    return intid < VGIC_NR_IRQS ? &vg->spi[intid - VGIC_NR_PRIVATE] : NULL;
}

/* A GICv2 SGI carries its source; each source's is its own interrupt (GICv2, GICD_SGIR). */
static inline bool vgic_is_v2_sgi(const struct vgic *vg, uint32_t intid)
{
    return vg->version == 2 && intid < VGIC_NR_SGIS;
}

/* Pending for the model (not counting an instance sitting in an LR). */
static inline bool vgic_irq_pending(const struct vgic_irq *irq)
{
    return irq->latch || irq->sgi_src || (!irq->edge && irq->line);
}
/* Pending as a register read shows it (also the instance in an LR). */
bool vgic_irq_pending_read(const struct vgic_irq *irq);
/* The model's own lookup: vcpu is known to be valid and intid below VGIC_NR_IRQS. */
static inline struct vgic_irq *vgic_irq_at(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    return intid < VGIC_NR_PRIVATE ? &vg->cpu[vcpu].priv[intid] : &vg->spi[intid - VGIC_NR_PRIVATE];
}

/* Where SPI intid goes when it next becomes pending: -1 if that is no vCPU of ours. */
int vgic_spi_route(const struct vgic *vg, uint32_t intid);

/* The vCPU that handles intid (private: vcpu), or -1: an SPI routed to no vCPU. */
static inline int vgic_irq_owner(const struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    if (intid < VGIC_NR_PRIVATE)
        return (int)vcpu;
    const struct vgic_irq *irq = &vg->spi[intid - VGIC_NR_PRIVATE];
    /* Active or in an LR, it stays with that vCPU until deactivated or back from the LR. */
    if (irq->in_lr || irq->active)
        return irq->home;
    return vgic_spi_route(vg, intid);
}

/* The vCPU that intid is now signalled to (pending, enabled, group enabled), or -1. */
static inline int vgic_irq_signalled(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    uint32_t grp = irq->group1 ? VGIC_CTLR_GRP1 : VGIC_CTLR_GRP0;

    if (!vgic_irq_pending(irq) || !irq->enabled || !(vg->ctlr & grp))
        return -1;
    return vgic_irq_owner(vg, vcpu, intid);
}

/* Bring intid's bit in priv_busy or spi_busy up to date with its state. */
static inline void vgic_irq_track(struct vgic *vg, unsigned vcpu, uint32_t intid)
{
    const struct vgic_irq *irq = vgic_irq_at(vg, vcpu, intid);
    bool busy = vgic_irq_pending(irq) || irq->active || irq->in_lr;

    if (intid < VGIC_NR_PRIVATE) {
        uint32_t bit = 1u << intid;

        vg->cpu[vcpu].priv_busy =
            busy ? vg->cpu[vcpu].priv_busy | bit : vg->cpu[vcpu].priv_busy & ~bit;
    } else {
        unsigned i = intid - VGIC_NR_PRIVATE;
        uint64_t bit = 1UL << (i % 64);

        vg->spi_busy[i / 64] = busy ? vg->spi_busy[i / 64] | bit : vg->spi_busy[i / 64] & ~bit;
    }
}
/*
 * The candidates for vcpu's LRs, a word at a time: word 0 is its private INTIDs (priv_busy),
 * words 1.. the SPIs (spi_busy); bit b of word w stands for INTID *base + b.
 */
#define VGIC_BUSY_WORDS (1 + VGIC_SPI_WORDS)
static inline uint64_t vgic_busy_word(const struct vgic *vg, unsigned vcpu, unsigned w,
                                      uint32_t *base)
{
    *base = w ? VGIC_NR_PRIVATE + (w - 1) * 64 : 0;
    return w ? vg->spi_busy[w - 1] : vg->cpu[vcpu].priv_busy;
}
/* After a change: track it; if it is signalled to a vCPU other than before, flag and kick it. */
void vgic_irq_changed(struct vgic *vg, unsigned vcpu, uint32_t intid, int before,
                      struct vgic_defer *d);
/* A register write changes an interrupt that may sit in an LR: the model takes over from it. */
void vgic_irq_unflight(struct vgic *vg, unsigned vcpu, uint32_t intid, struct vgic_defer *d);
/* Flag vCPU vcpu's LRs as out of date and kick it. */
void vgic_kick(struct vgic *vg, unsigned vcpu, struct vgic_defer *d);
/* GICD_CTLR's group enables changed by the guest. */
void vgic_ctlr_write(struct vgic *vg, uint32_t val, struct vgic_defer *d);
void vgic_defer_deactivated(struct vgic_defer *d, unsigned vcpu, uint32_t intid);

/* vgic_set_level with the lock held. */
void vgic_set_level_locked(struct vgic *vg, unsigned vcpu, uint32_t intid, bool level,
                           struct vgic_defer *d);

/* Access a per-INTID register array; a->offset lies in r. 0 or -EINVAL. */
int vgic_irq_reg_access(struct vgic *vg, struct vgic_access *a, const struct vgic_irq_reg *r);
/* The array of t that holds offset, or NULL. */
const struct vgic_irq_reg *vgic_irq_reg_find(const struct vgic_irq_regs *t, uint32_t offset);
/* Peripheral and component ID registers (0xfd0-0xffc of a 4 KiB page or 64 KiB frame). */
uint32_t vgic_id_reg(const struct vgic *vg, uint32_t offset);

/* A distributor read that needs no lock (TYPER, IIDR, the ID registers): true and *val. */
/* GICD_TYPER of a version 2 vGIC with nr_vcpus vCPUs, and of a version 3 one (vgic_init). */
uint32_t vgic_v2_typer(unsigned nr_vcpus);
uint32_t vgic_v3_typer(void);
/* The distributor registers that never change (TYPER, IIDR, the IDs), either version: true and
 * *val, read without the lock; false for any other offset or a size but 4. */
bool vgic_dist_const(const struct vgic *vg, uint32_t off, unsigned size, uint64_t *val);
/* The frames, called with the lock held. 0 or -EINVAL. */
int vgic_v2_dist_access(struct vgic *vg, struct vgic_access *a);
int vgic_v3_dist_access(struct vgic *vg, struct vgic_access *a);
int vgic_v3_redist_access(struct vgic *vg, struct vgic_access *a, unsigned rd_vcpu);

#endif
