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

/* GICv3 (IHI 0069, 12.4 "The virtual interface control registers"), by encoding. */
#define ICH_AP0R0_EL2 S3_4_C12_C8_0
#define ICH_AP1R0_EL2 S3_4_C12_C9_0
#define ICH_HCR_EL2   S3_4_C12_C11_0
#define ICH_VTR_EL2   S3_4_C12_C11_1
#define ICH_VMCR_EL2  S3_4_C12_C11_7
#define ICC_SRE_EL1   S3_0_C12_C12_5

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

/*
 * The LRs of the last flush as the guest left them (only their state changes; the rest is what
 * vcpu->vgic_lrs says we wrote). A hardware-mapped LR that came back invalid was deactivated by
 * the guest, and with it the physical PPI.
 */
static unsigned read_back(struct vcpu *v, struct vgic_lr *back)
{
    unsigned n = v->vgic.nr_used;

    for (unsigned i = 0; i < n; i++) {
        back[i] = v->vgic_lrs[i];
        back[i].state = vgic_lr_decode_state(version, lr_read(i));
        if (back[i].hw && back[i].intid < 32 && back[i].state == VGIC_LR_INVALID)
            v->vgic.hw_active &= ~(1u << back[i].intid);
    }
    return n;
}

/* Fold the LRs back, raise forwarded PPI raise (if >= 0), refill them: one vGIC lock. True if
 * more interrupts wait than fit. */
static bool refresh(struct vcpu *v, int raise)
{
    struct vgic_lr back[VM_MAX_LRS];
    unsigned old = v->vgic.nr_used, nback = read_back(v, back);
    bool more;

    if (raise >= 0)
        v->vgic.hw_active |= 1u << raise;
    unsigned n = vgic_refresh(&v->vm->vgic, v->id, back, nback, raise, v->vgic_lrs, nr_lrs, &more);

    for (unsigned i = 0; i < n; i++)
        lr_write(i, vgic_lr_encode(version, &v->vgic_lrs[i]));
    for (unsigned i = n; i < old; i++)
        lr_write(i, 0);
    v->vgic.nr_used = n;
    /* More pending than LRs: a maintenance interrupt once at most one LR is left in use. */
    uint64_t hcr = HCR_EN | (more ? HCR_UIE : 0);
    if (hcr != v->vgic.hcr) {
        v->vgic.hcr = hcr;
        hcr_write((uint32_t)hcr);
    }
    /* Forwarded PPIs the model dropped without the guest (see vgic_set_hw): end them here. */
    uint32_t live = v->vm->vgic.cpu[v->id].hw_live, done = v->vgic.hw_active & ~live;
    for (; done; done &= done - 1)
        irq_deactivate((unsigned)__builtin_ctz(done));
    v->vgic.hw_active &= live;
    return more;
}

void vgic_hw_forwarded(struct vcpu *v, unsigned intid)
{
    /* The common case, the timer's next tick: its LR, done by the guest, offered again. */
    for (unsigned i = 0; i < v->vgic.nr_used; i++) {
        struct vgic_lr *lr = &v->vgic_lrs[i];

        if (lr->intid != intid || !lr->hw)
            continue;
        if (vgic_lr_decode_state(version, lr_read(i)) == VGIC_LR_INVALID &&
            vgic_hw_again(&v->vm->vgic, v->id, intid)) {
            lr->state = VGIC_LR_PENDING;
            lr_write(i, vgic_lr_encode(version, lr));
            v->vgic.hw_active |= 1u << intid;
            return;
        }
        break;
    }
    refresh(v, (int)intid);
}

bool vgic_hw_refresh(struct vcpu *v)
{
    bool pending = refresh(v, -1);

    for (unsigned i = 0; i < v->vgic.nr_used && !pending; i++)
        pending = v->vgic_lrs[i].state & VGIC_LR_PENDING;
    return pending;
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
            vgic_lr_decode_state(version, v->vgic.lr_raw[i]) == VGIC_LR_INVALID)
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
