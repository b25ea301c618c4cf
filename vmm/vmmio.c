/* vmmio.c - stage-2 data aborts: decode the access from the syndrome and emulate the device. */
#include "arch/sysreg.h"
#include "hw/esr.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/vcpu_run.h"
#include "vmm/vm.h"
#include "vmm/vfault.h"

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

static __attribute__((noinline)) void no_device(struct vcpu *v, struct trap_frame *tf, uint64_t esr,
                                                uint64_t ipa)
{
    char what[96];

    snprintf(what, sizeof(what), "%u-byte %s at IPA 0x%lx: outside its RAM and devices",
             1u << ESR_ISS_SAS(esr), (esr & ESR_ISS_WNR) ? "write" : "read", (unsigned long)ipa);
    vfault_outside(v, tf, false, what);
}

static __attribute__((noinline)) void refused(struct vcpu *v, struct trap_frame *tf, uint64_t esr,
                                              uint64_t ipa, int err)
{
    if (err == -ENOENT) {
        no_device(v, tf, esr, ipa);
        return;
    }
    vcpu_fatal(v, tf, "%u-byte %s at IPA 0x%lx refused by the device (%d)", 1u << ESR_ISS_SAS(esr),
               (esr & ESR_ISS_WNR) ? "write" : "read", (unsigned long)ipa, err);
}

/* A loaded value as the register receives it: sign-extended if the ISS says so, a W register's
 * upper half zero. */
static uint64_t load_extend(uint64_t esr, unsigned bits, uint64_t val)
{
    if (bits < 64) {
        val &= ~0UL >> (64 - bits);
        if (esr & ESR_ISS_SSE)
            val = (uint64_t)((int64_t)(val << (64 - bits)) >> (64 - bits));
    }
    if (!(esr & ESR_ISS_SF))
        val &= 0xffffffffUL;
    return val;
}

/*
 * The access is decoded from the syndrome (ISV set: a single register, its size, direction and
 * number; Arm ARM D17.2.40) and handed to the device the VM's MMIO bus has at that address.
 */
void vmmio_data_abort(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    unsigned rt = ESR_ISS_SRT(esr);
    unsigned size = 1u << ESR_ISS_SAS(esr), bits = 8 * size;
    const struct mmio_region *r;
    uint64_t ipa, val = 0;
    int err;

    if (esr & ESR_ISS_S1PTW) {
        vcpu_fault_s1ptw(v, tf, "data access");
        return;
    }
    ipa = vcpu_fault_ipa_page() | (tf->far & 0xfff);
    if (!(esr & ESR_ISS_ISV)) {
        no_syndrome(v, tf, esr, ipa);
        return;
    }
    r = mmio_bus_find(&v->vm->bus, ipa);
    if (!r) {
        no_device(v, tf, esr, ipa);
        return;
    }
    if (esr & ESR_ISS_WNR) {
        if (rt != 31)
            val = tf->x[rt] & (~0UL >> (64 - bits));
        err = r->ops->write(r->ctx, v, ipa - r->base, size, val);
    } else {
        err = r->ops->read(r->ctx, v, ipa - r->base, size, &val);
        if (!err && rt != 31)
            tf->x[rt] = load_extend(esr, bits, val);
    }
    if (__builtin_expect(err, 0)) {
        refused(v, tf, esr, ipa, err);
        return;
    }
    tf->elr += 4;
}
