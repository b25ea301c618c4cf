/* vgic.h - the virtual GIC of a VM (v2 or v3, as the host has): registers, interrupts, LRs. */
#ifndef VMM_VGIC_H
#define VMM_VGIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

#define VGIC_MAX_VCPUS  8
#define VGIC_NR_IRQS    288 /* GICD_TYPER.ITLinesNumber = 8, as QEMU virt has */
#define VGIC_NR_PRIVATE 32  /* SGIs 0-15 and PPIs 16-31, one set per vCPU */
#define VGIC_NR_SPIS    (VGIC_NR_IRQS - VGIC_NR_PRIVATE)
#define VGIC_MAX_LRS    16 /* ICH_VTR_EL2.ListRegs allows 16; more are never used */
#define VGIC_SPI_WORDS  (VGIC_NR_SPIS / 64)

/* The guest's view of the GIC window (QEMU virt layout), offsets from its base. */
#define VGIC_DIST_SIZE_V2     0x1000
#define VGIC_DIST_SIZE_V3     0x10000
#define VGIC_REDIST_OFFSET_V3 0xa0000
#define VGIC_REDIST_STRIDE_V3 0x20000 /* RD_base frame, then SGI_base frame at +0x10000 */

/* GICH_LR.State / ICH_LR<n>_EL2.State encodings. */
enum vgic_lr_state {
    VGIC_LR_INVALID = 0,
    VGIC_LR_PENDING = 1,
    VGIC_LR_ACTIVE = 2,
    VGIC_LR_PENDING_ACTIVE = 3,
};

/** One list register's contents, for the caller to encode as GICH_LR or ICH_LR<n>_EL2. */
struct vgic_lr {
    uint32_t intid;
    uint8_t source;   /* v2 SGIs: the sending vCPU (GICH_LR.CPUID) */
    uint8_t priority; /* 8-bit, as in GICD_IPRIORITYR (GICH_LR.Priority takes bits [7:3]) */
    uint8_t state;    /* enum vgic_lr_state */
    bool group1;
    /* Hardware-mapped (vgic_set_hw): the LR's HW bit, physical INTID = intid; never notify_eoi. */
    bool hw;
    /* Set the LR's EOI bit; on the maintenance interrupt, vgic_sync then vgic_flush. Set for
     * vgic_set_notify INTIDs, level lines still high, and GICv2 SGIs with more sources waiting. */
    bool notify_eoi;
};

/** What the vGIC asks of its owner; both are called with no vGIC lock held. */
struct vgic_ops {
    /* vCPU vcpu has something new to take: wake it or make it leave the guest. */
    void (*kick)(void *ctx, unsigned vcpu);
    /* The guest on vcpu deactivated an interrupt registered with vgic_set_notify. */
    void (*deactivated)(void *ctx, unsigned vcpu, uint32_t intid);
    /*
     * Optional: a guest register access by vcpu may show interrupt state; bring the input lines
     * the owner updates lazily up to date first (no lock held). Not called for the constant
     * registers (TYPER, IIDR, the IDs), which take no lock either.
     */
    void (*sample)(void *ctx, unsigned vcpu);
};

/** One interrupt; the private ones (0-31) exist once per vCPU. Protected by struct vgic.lock. */
struct vgic_irq {
    uint8_t priority;   /* GICD_IPRIORITYR */
    uint8_t targets;    /* v2 SPIs: GICD_ITARGETSR */
    uint8_t sgi_src;    /* v2 SGIs: vCPUs whose instance is pending (and not in an LR) */
    uint8_t active_src; /* v2 SGIs: the source of the active instance */
    uint8_t home;       /* SPIs: the vCPU that has it in an LR (in_lr) or active */
    uint8_t lr_state;   /* in_lr: the state the last vgic_flush gave it */
    uint8_t lr_src;     /* in_lr, v2 SGIs: the source in that LR */
    bool enabled : 1;
    bool group1 : 1;
    bool edge : 1;     /* GICD_ICFGR: edge-triggered, else level-sensitive */
    bool latch : 1;    /* pending from an edge or a write to GICD_ISPENDR */
    bool line : 1;     /* the input line's level */
    bool active : 1;   /* as of the last vgic_sync */
    bool in_lr : 1;    /* given to an LR by vgic_flush and not yet back through vgic_sync */
    bool lr_moved : 1; /* in_lr: its pending state went into the LR (latch or sgi_src bit) */
    bool stale : 1;    /* in_lr, and a register write changed its state since: drop the LR's */
    bool notify : 1;   /* vgic_set_notify */
    bool hw : 1;       /* vgic_set_hw: forwarded from the physical interrupt of the same INTID */
};

/** Per-vCPU state: its private interrupts, redistributor, and what is in its LRs. */
struct vgic_cpu {
    struct vgic_irq priv[VGIC_NR_PRIVATE];
    uint32_t priv_busy; /* a bit per private INTID that is pending, active or in an LR */
    uint16_t lr_intid[VGIC_MAX_LRS]; /* INTIDs of the last vgic_flush, until vgic_sync */
    uint8_t nr_lr;
    bool sleep;          /* GICR_WAKER.ProcessorSleep */
    uint8_t needs_flush; /* atomic, no lock: the LRs no longer show what is pending */
    uint32_t hw_live;    /* private hw INTIDs pending, active or in an LR as of the last flush */
    uint32_t hw_mask;    /* private INTIDs made hardware-mapped by vgic_set_hw */
    /*
     * What the next refresh must look at. fresh: private INTIDs signalled to this vCPU since,
     * none of them in an LR then. full: anything else changed (a kick, a register write to an
     * interrupt in an LR, LRs taken back by vgic_sync): rebuild every LR from the model.
     * overflow: the last flush left interrupts out for want of LRs.
     */
    uint32_t fresh;
    bool full;
    bool overflow;
};

/**
 * A VM's virtual GIC, embedded in the VM. lock protects everything below it; version, nr_vcpus,
 * ops and ctx are fixed by vgic_init.
 */
struct vgic {
    unsigned version; /* 2 or 3 */
    unsigned nr_vcpus;
    const struct vgic_ops *ops;
    void *ctx;
    spinlock_t lock;
    uint32_t ctlr;  /* GICD_CTLR.EnableGrp0 (bit 0) and EnableGrp1 (bit 1) */
    uint32_t typer; /* GICD_TYPER, fixed by vgic_init */
    struct vgic_cpu cpu[VGIC_MAX_VCPUS];
    struct vgic_irq spi[VGIC_NR_SPIS];
    /* A bit per SPI that is pending, active or in an LR: all that flush and pending look at. */
    uint64_t spi_busy[VGIC_SPI_WORDS];
    uint64_t irouter[VGIC_NR_SPIS]; /* v3: GICD_IROUTER */
};

/* A vGIC of version 2 or 3 for nr_vcpus (1..VGIC_MAX_VCPUS) vCPUs, at reset: 0 or -EINVAL. */
int vgic_init(struct vgic *vg, unsigned version, unsigned nr_vcpus, const struct vgic_ops *ops,
              void *ctx);
/* Back to the power-on state (VM reboot); input line levels and notify registrations stay. */
void vgic_reset(struct vgic *vg);

/*
 * A guest access by vCPU vcpu at offset from the GIC window's base: 0, -EINVAL (a size or
 * alignment the register does not allow, or a bad vcpu) or -ENOENT (no emulated frame there).
 */
int vgic_mmio_read(struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size, uint64_t *val);
int vgic_mmio_write(struct vgic *vg, unsigned vcpu, uint64_t offset, unsigned size, uint64_t val);
/* A guest write of ICC_SGI1R_EL1 (v3 only; -EINVAL on v2). */
int vgic_sgi1r_write(struct vgic *vg, unsigned vcpu, uint64_t val);

/* Drive a level-sensitive line: a PPI of vcpu, or an SPI (vcpu ignored). */
void vgic_set_level(struct vgic *vg, unsigned vcpu, uint32_t intid, bool level);
/* Latch an edge on a PPI of vcpu or an SPI (vcpu ignored). */
void vgic_inject_edge(struct vgic *vg, unsigned vcpu, uint32_t intid);
/* Have ops->deactivated called when the guest deactivates intid (a PPI of vcpu, or an SPI). */
void vgic_set_notify(struct vgic *vg, unsigned vcpu, uint32_t intid, bool on);
/*
 * Make level-sensitive intid (a PPI of vcpu, or an SPI) hardware-mapped: its owner raises the line
 * only once it has acknowledged the physical interrupt, which then stays active until the guest
 * deactivates the virtual one through the LR (HW bit) or the model drops it. The line falls when
 * the guest deactivates it, or when the owner lowers it (vgic_set_level: the source stopped
 * before the guest took it). After a flush, vgic_cpu.hw_live says which private ones still owe a
 * physical deactivation.
 */
void vgic_set_hw(struct vgic *vg, unsigned vcpu, uint32_t intid, bool on);

/*
 * Before entering vcpu: fill up to max LRs, active interrupts first, then pending ones by
 * priority; *more says some did not fit. Every flush is followed by a vgic_sync of its LRs.
 */
unsigned vgic_flush(struct vgic *vg, unsigned vcpu, struct vgic_lr *lrs, unsigned max, bool *more);
/*
 * vgic_sync of the nback LRs read back (none: they came back as written), then, if raise >= 0,
 * vgic_set_level(raise, true), then vgic_flush: all under one acquisition of the lock. The
 * exit path of a vCPU that has something new.
 */
unsigned vgic_refresh(struct vgic *vg, unsigned vcpu, const struct vgic_lr *back, unsigned nback,
                      int raise, struct vgic_lr *lrs, unsigned max, bool *more);
/*
 * The forwarded private intid fires again while its last LR came back invalid (done by the guest):
 * true if setting that LR pending again is all a refresh would do (it changes nothing in the
 * model, which thinks the LR pending all along); false: refresh instead.
 */
bool vgic_hw_again(struct vgic *vg, unsigned vcpu, uint32_t intid);
/*
 * After vcpu ran: the LRs of the last vgic_flush as read back (only state may have changed), in
 * any order. Afterwards the model owns them again: vgic_flush before the guest runs again.
 */
void vgic_sync(struct vgic *vg, unsigned vcpu, const struct vgic_lr *lrs, unsigned n);
/* GICH_LR (gic_version 2) or ICH_LR<n>_EL2 (3) for lr; and the state field of one read back. */
uint64_t vgic_lr_encode(int gic_version, const struct vgic_lr *lr);
uint8_t vgic_lr_decode_state(int gic_version, uint64_t raw);
/* Something became pending for vcpu since its last vgic_flush (lock-free). */
static inline bool vgic_needs_flush(const struct vgic *vg, unsigned vcpu)
{
    return __atomic_load_n(&vg->cpu[vcpu].needs_flush, __ATOMIC_ACQUIRE);
}
/* vcpu has a pending, enabled interrupt: a WFI must not sleep (call vgic_sync first). */
bool vgic_pending(struct vgic *vg, unsigned vcpu);

#endif
