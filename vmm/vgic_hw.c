/* vgic_hw.c - list registers of GICv2 (GICH MMIO) and GICv3 (ICH_*_EL2): in and out of the vGIC. */
#include "vmm/vgic_hw.h"

#include "arch/mmio.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/platform.h"
#include "lib/errno.h"
#include "vmm/vm.h"

/* GICv2 hypervisor interface (IHI 0048B, 5.3 "GIC virtual interface control registers"). */
#define GICH_HCR   0x000
#define GICH_VTR   0x004
#define GICH_VMCR  0x008
#define GICH_APR   0x0f0
#define GICH_LR(n) (0x100 + 4 * (n))

#define V2_LR_ID_MASK     0x3ffu
#define V2_LR_CPUID_SHIFT 10 /* HW = 1: the physical INTID (PhysicalID, bits [19:10]) */
#define V2_LR_EOI         (1u << 19)
#define V2_LR_PRIO_SHIFT  23 /* the top 5 bits of the 8-bit priority */
#define V2_LR_STATE_SHIFT 28
#define V2_LR_GRP1        (1u << 30)
#define V2_LR_HW          (1u << 31)

/* GICv3 (IHI 0069, 12.4 "The virtual interface control registers"), by encoding. */
#define ICH_AP0R0_EL2 S3_4_C12_C8_0
#define ICH_AP1R0_EL2 S3_4_C12_C9_0
#define ICH_HCR_EL2   S3_4_C12_C11_0
#define ICH_VTR_EL2   S3_4_C12_C11_1
#define ICH_VMCR_EL2  S3_4_C12_C11_7
#define ICC_SRE_EL1   S3_0_C12_C12_5

#define V3_LR_PINTID_SHIFT 32 /* HW = 1: the physical INTID (pINTID, bits [44:32]) */
#define V3_LR_EOI          (1UL << 41)
#define V3_LR_PRIO_SHIFT   48
#define V3_LR_GROUP        (1UL << 60)
#define V3_LR_HW           (1UL << 61)
#define V3_LR_STATE_SHIFT  62

#define HCR_EN  1u
#define HCR_UIE 2u

static unsigned nr_lrs;
static int version;
static uintptr_t gich;

static uint64_t ich_lr_read(unsigned n)
{
#define LR_READ(i, enc)                                                                            \
    case i: return read_sysreg(enc)
    switch (n) {
        LR_READ(0, S3_4_C12_C12_0);
        LR_READ(1, S3_4_C12_C12_1);
        LR_READ(2, S3_4_C12_C12_2);
        LR_READ(3, S3_4_C12_C12_3);
        LR_READ(4, S3_4_C12_C12_4);
        LR_READ(5, S3_4_C12_C12_5);
        LR_READ(6, S3_4_C12_C12_6);
        LR_READ(7, S3_4_C12_C12_7);
        LR_READ(8, S3_4_C12_C13_0);
        LR_READ(9, S3_4_C12_C13_1);
        LR_READ(10, S3_4_C12_C13_2);
        LR_READ(11, S3_4_C12_C13_3);
        LR_READ(12, S3_4_C12_C13_4);
        LR_READ(13, S3_4_C12_C13_5);
        LR_READ(14, S3_4_C12_C13_6);
    default: return read_sysreg(S3_4_C12_C13_7);
    }
#undef LR_READ
}

static void ich_lr_write(unsigned n, uint64_t v)
{
#define LR_WRITE(i, enc)                                                                           \
    case i: write_sysreg(enc, v); break
    switch (n) {
        LR_WRITE(0, S3_4_C12_C12_0);
        LR_WRITE(1, S3_4_C12_C12_1);
        LR_WRITE(2, S3_4_C12_C12_2);
        LR_WRITE(3, S3_4_C12_C12_3);
        LR_WRITE(4, S3_4_C12_C12_4);
        LR_WRITE(5, S3_4_C12_C12_5);
        LR_WRITE(6, S3_4_C12_C12_6);
        LR_WRITE(7, S3_4_C12_C12_7);
        LR_WRITE(8, S3_4_C12_C13_0);
        LR_WRITE(9, S3_4_C12_C13_1);
        LR_WRITE(10, S3_4_C12_C13_2);
        LR_WRITE(11, S3_4_C12_C13_3);
        LR_WRITE(12, S3_4_C12_C13_4);
        LR_WRITE(13, S3_4_C12_C13_5);
        LR_WRITE(14, S3_4_C12_C13_6);
    default: write_sysreg(S3_4_C12_C13_7, v); break;
    }
#undef LR_WRITE
}

uint64_t vgic_hw_lr_encode(int gic_version, const struct vgic_lr *lr)
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

/* Only the state changes while the guest runs; the rest is as we wrote it. */
static void lr_decode_state(uint64_t raw, struct vgic_lr *lr)
{
    if (version == 2)
        lr->state = (uint8_t)((raw >> V2_LR_STATE_SHIFT) & 3);
    else
        lr->state = (uint8_t)((raw >> V3_LR_STATE_SHIFT) & 3);
}

static uint64_t lr_read(unsigned n)
{
    return version == 2 ? mmio_read32(gich + GICH_LR(n)) : ich_lr_read(n);
}

static void lr_write(unsigned n, uint64_t v)
{
    if (version == 2)
        mmio_write32(gich + GICH_LR(n), (uint32_t)v);
    else
        ich_lr_write(n, v);
}

static void hcr_write(uint32_t v)
{
    if (version == 2)
        mmio_write32(gich + GICH_HCR, v);
    else
        write_sysreg(ICH_HCR_EL2, v);
}

/* What each vCPU last wrote, to know an LR's INTID and flags when it comes back. */
void vgic_hw_sync(struct vcpu *v)
{
    struct vgic_lr lrs[VM_MAX_LRS];
    unsigned n = v->vgic.nr_used;

    if (!n)
        return;
    for (unsigned i = 0; i < n; i++) {
        lrs[i] = v->vgic_lrs[i];
        lr_decode_state(lr_read(i), &lrs[i]);
        /* The guest's deactivation of a hardware-mapped LR deactivated the physical PPI. */
        if (lrs[i].hw && lrs[i].intid < 32 && lrs[i].state == VGIC_LR_INVALID)
            v->vgic.hw_active &= ~(1u << lrs[i].intid);
    }
    vgic_sync(&v->vm->vgic, v->id, lrs, n);
}

static void flush(struct vcpu *v)
{
    unsigned old = v->vgic.nr_used;
    bool more = false;
    unsigned n = vgic_flush(&v->vm->vgic, v->id, v->vgic_lrs, nr_lrs, &more);

    for (unsigned i = 0; i < n; i++)
        lr_write(i, vgic_hw_lr_encode(version, &v->vgic_lrs[i]));
    for (unsigned i = n; i < old; i++)
        lr_write(i, 0);
    v->vgic.nr_used = n;
    /* More pending than LRs: a maintenance interrupt once at most one LR is left in use. */
    v->vgic.hcr = HCR_EN | (more ? HCR_UIE : 0);
    hcr_write((uint32_t)v->vgic.hcr);
    /* Forwarded PPIs the model dropped without the guest (see vgic_set_hw): end them here. */
    uint32_t done = v->vgic.hw_active & ~v->vm->vgic.cpu[v->id].hw_live;
    for (; done; done &= done - 1)
        irq_deactivate((unsigned)__builtin_ctz(done));
    v->vgic.hw_active &= v->vm->vgic.cpu[v->id].hw_live;
}

void vgic_hw_forwarded(struct vcpu *v, unsigned intid)
{
    /* The LR of the last instance may have come back deactivated: fold it first. */
    vgic_hw_sync(v);
    v->vgic.hw_active |= 1u << intid;
    vgic_set_level(&v->vm->vgic, v->id, intid, true);
    flush(v);
}

void vgic_hw_refresh(struct vcpu *v)
{
    vgic_hw_sync(v);
    flush(v);
}

/*
 * The world switch saves and restores the list registers as they are, without the vGIC model:
 * it runs inside the scheduler (run-queue lock held), where folding them back could call the
 * model's callbacks, which wake threads. The model catches up at the next refresh.
 */
void vgic_hw_load(struct vcpu *v)
{
    if (version == 2) {
        mmio_write32(gich + GICH_VMCR, (uint32_t)v->vgic.vmcr);
        mmio_write32(gich + GICH_APR, (uint32_t)v->vgic.apr);
    } else {
        write_sysreg(ICC_SRE_EL1, 1); /* the guest's CPU interface is the system registers */
        write_sysreg(ICH_VMCR_EL2, v->vgic.vmcr);
        write_sysreg(ICH_AP0R0_EL2, v->vgic.apr & 0xffffffffu);
        write_sysreg(ICH_AP1R0_EL2, v->vgic.apr >> 32);
    }
    for (unsigned i = 0; i < v->vgic.nr_used; i++)
        lr_write(i, v->vgic.lr_raw[i]);
    hcr_write((uint32_t)v->vgic.hcr);
    /* Still owed a deactivation by the guest: active here too, so it cannot fire meanwhile. */
    for (uint32_t b = v->vgic.hw_active; b; b &= b - 1)
        irq_set_active_local((unsigned)__builtin_ctz(b), true);
}

void vgic_hw_put(struct vcpu *v)
{
    for (unsigned i = 0; i < v->vgic.nr_used; i++) {
        v->vgic.lr_raw[i] = lr_read(i);
        lr_write(i, 0);
        if (v->vgic_lrs[i].hw && v->vgic_lrs[i].intid < 32 &&
            !((v->vgic.lr_raw[i] >> (version == 2 ? V2_LR_STATE_SHIFT : V3_LR_STATE_SHIFT)) & 3))
            v->vgic.hw_active &= ~(1u << v->vgic_lrs[i].intid);
    }
    /* The next vCPU here finds this CPU's forwarded PPIs inactive (vgic_hw_load restores). */
    for (uint32_t b = v->vgic.hw_active; b; b &= b - 1)
        irq_set_active_local((unsigned)__builtin_ctz(b), false);
    if (version == 2) {
        v->vgic.vmcr = mmio_read32(gich + GICH_VMCR);
        v->vgic.apr = mmio_read32(gich + GICH_APR);
        v->vgic.hcr = mmio_read32(gich + GICH_HCR);
    } else {
        v->vgic.vmcr = read_sysreg(ICH_VMCR_EL2);
        v->vgic.apr = read_sysreg(ICH_AP0R0_EL2) | read_sysreg(ICH_AP1R0_EL2) << 32;
        v->vgic.hcr = read_sysreg(ICH_HCR_EL2);
    }
    /* Off while no vCPU is loaded: no maintenance interrupts for a guest that is not here. */
    hcr_write(0);
}

/* Underflow or EOI maintenance: the loaded vCPU's LRs changed; fold them back and refill. */
static void maintenance_irq(unsigned int intid, void *arg)
{
    struct vcpu *v = vcpu_current();

    (void)intid;
    (void)arg;
    if (v && v->loaded)
        vgic_hw_refresh(v);
    else
        hcr_write(0);
}

unsigned vgic_hw_nr_lrs(void)
{
    return nr_lrs;
}

int vgic_hw_init(void)
{
    version = gic_version();
    if (version == 2) {
        if (!platform.gich.size || !platform.gicv.size)
            return -ENODEV;
        gich = platform.gich.base;
        nr_lrs = (mmio_read32(gich + GICH_VTR) & 0x3f) + 1;
    } else {
        nr_lrs = (unsigned)(read_sysreg(ICH_VTR_EL2) & 0x1f) + 1;
    }
    if (nr_lrs > VM_MAX_LRS)
        nr_lrs = VM_MAX_LRS;
    if (platform.gic_maint_irq < 16 || platform.gic_maint_irq >= 32)
        return -ENODEV;
    return irq_register((unsigned)platform.gic_maint_irq, maintenance_irq, NULL);
}
