/* vmmio.c - stage-2 data aborts: decode the access from the syndrome and emulate the device. */
#include "arch/sysreg.h"
#include "hw/esr.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/vcpu_run.h"
#include "vmm/vm.h"
#include "vmm/vfault.h"

/** One decoded guest access. */
struct vmmio_access {
    uint64_t ipa;
    unsigned size; /* bytes: 1, 2, 4 or 8 */
    bool write;
    uint64_t val;
};

/* The device whose registers the guest touched (the VM's MMIO bus, filled as it was built). */
static int dispatch(struct vcpu *v, struct vmmio_access *a)
{
    const struct mmio_region *r = mmio_bus_find(&v->vm->bus, a->ipa);

    if (!r)
        return -ENOENT;
    if (a->write)
        return r->ops->write(r->ctx, v, a->ipa - r->base, a->size, a->val);
    return r->ops->read(r->ctx, v, a->ipa - r->base, a->size, &a->val);
}

/* Load/store pair, writeback, SIMD...: no syndrome, so nothing we could emulate. */
static __attribute__((noinline)) void no_syndrome(struct vcpu *v, struct trap_frame *tf,
                                                  uint64_t esr, uint64_t ipa)
{
    char what[96];

    snprintf(what, sizeof(what), "%s at IPA 0x%lx outside its RAM, not a single-register access",
             (esr & ESR_ISS_WNR) ? "write" : "read", (unsigned long)ipa);
    if (mmio_bus_find(&v->vm->bus, ipa))
        vcpu_fatal(v, tf, "%s", what);
    else
        vfault_outside(v, tf, false, what); /* no device there: it would not answer either */
}

static __attribute__((noinline)) void no_device(struct vcpu *v, struct trap_frame *tf,
                                                const struct vmmio_access *a)
{
    char what[96];

    snprintf(what, sizeof(what), "%u-byte %s at IPA 0x%lx: outside its RAM and devices", a->size,
             a->write ? "write" : "read", (unsigned long)a->ipa);
    vfault_outside(v, tf, false, what);
}

void vmmio_data_abort(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    struct vmmio_access a;
    unsigned rt = ESR_ISS_SRT(esr);
    int err;

    if (esr & ESR_ISS_S1PTW) {
        vcpu_fault_s1ptw(v, tf, "data access");
        return;
    }
    a.ipa = vcpu_fault_ipa_page() | (tf->far & 0xfff);
    if (!(esr & ESR_ISS_ISV)) {
        no_syndrome(v, tf, esr, a.ipa);
        return;
    }
    a.size = 1u << ESR_ISS_SAS(esr);
    a.write = esr & ESR_ISS_WNR;
    a.val = 0;
    if (a.write) {
        a.val = rt == 31 ? 0 : tf->x[rt];
        if (a.size < 8)
            a.val &= (1UL << (a.size * 8)) - 1;
    }
    err = dispatch(v, &a);
    if (err == -ENOENT) {
        no_device(v, tf, &a);
        return;
    }
    if (err) {
        vcpu_fatal(v, tf, "%u-byte %s at IPA 0x%lx refused by the device (%d)", a.size,
                   a.write ? "write" : "read", (unsigned long)a.ipa, err);
        return;
    }
    if (!a.write && rt != 31) {
        uint64_t val = a.val;
        if (a.size < 8) {
            val &= (1UL << (a.size * 8)) - 1;
            if ((esr & ESR_ISS_SSE) && (val >> (a.size * 8 - 1)) & 1)
                val |= ~0UL << (a.size * 8); /* sign-extend */
        }
        if (!(esr & ESR_ISS_SF))
            val &= 0xffffffffUL; /* a W register: the upper half is zero */
        tf->x[rt] = val;
    }
    tf->elr += 4;
}
