/* vmmio.c - stage-2 data aborts: decode the access from the syndrome and emulate the device. */
#include "arch/sysreg.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/layout.h"
#include "vmm/vcpu_run.h"
#include "vmm/vm.h"
#include "vmm/vfault.h"
#include "vmm/vm_disk.h"
#include "vmm/vm_net.h"
#include "vmm/vvirtio_empty.h"

/* ISS of a data abort (Arm ARM D17.2.37 "ISS encoding for an exception from a Data Abort"). */
#define ISS_ISV      (1UL << 24)
#define ISS_SAS(esr) ((unsigned)((esr) >> 22) & 3)
#define ISS_SSE      (1UL << 21)
#define ISS_SRT(esr) ((unsigned)((esr) >> 16) & 0x1f)
#define ISS_SF       (1UL << 15)

/** One decoded guest access. */
struct vmmio_access {
    uint64_t ipa;
    unsigned size; /* bytes: 1, 2, 4 or 8 */
    bool write;
    uint64_t val;
};

static bool in(uint64_t ipa, uint64_t base, uint64_t size)
{
    return ipa >= base && ipa - base < size;
}

/* Whether an emulated device answers at ipa. */
static bool device_at(uint64_t ipa)
{
    return in(ipa, GUEST_GIC_BASE, GUEST_GIC_SIZE) || in(ipa, GUEST_UART_BASE, GUEST_UART_SIZE) ||
           in(ipa, GUEST_RTC_BASE, GUEST_RTC_SIZE) ||
           in(ipa, GUEST_VIRTIO_BASE, GUEST_VIRTIO_SLOTS * GUEST_VIRTIO_SLOT_SIZE);
}

static int dispatch(struct vcpu *v, struct vmmio_access *a)
{
    struct vm *vm = v->vm;

    if (in(a->ipa, GUEST_GIC_BASE, GUEST_GIC_SIZE)) {
        uint64_t off = a->ipa - GUEST_GIC_BASE;

        vtimer_resample(v);
        return a->write ? vgic_mmio_write(&vm->vgic, v->id, off, a->size, a->val)
                        : vgic_mmio_read(&vm->vgic, v->id, off, a->size, &a->val);
    }
    if (in(a->ipa, GUEST_UART_BASE, GUEST_UART_SIZE)) {
        uint64_t off = a->ipa - GUEST_UART_BASE;
        return a->write ? vpl011_write(&vm->uart, off, a->size, a->val)
                        : vpl011_read(&vm->uart, off, a->size, &a->val);
    }
    if (in(a->ipa, GUEST_RTC_BASE, GUEST_RTC_SIZE)) {
        uint64_t off = a->ipa - GUEST_RTC_BASE;
        return a->write ? vpl031_write(&vm->rtc.dev, off, a->size, a->val)
                        : vpl031_read(&vm->rtc.dev, off, a->size, &a->val);
    }
    if (in(a->ipa, GUEST_VIRTIO_BASE, GUEST_VIRTIO_SLOTS * GUEST_VIRTIO_SLOT_SIZE)) {
        uint64_t off = a->ipa - GUEST_VIRTIO_BASE;
        int err = vm_disk_mmio(vm, off, a->size, a->write, &a->val);
        if (err != -ENOENT)
            return err;
        err = vm_net_mmio(vm, off, a->size, a->write, &a->val);
        if (err != -ENOENT)
            return err;
        return vvirtio_empty_access(off % GUEST_VIRTIO_SLOT_SIZE, a->size, a->write, &a->val);
    }
    return -ENOENT;
}

void vmmio_data_abort(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    struct vmmio_access a;
    char what[96];
    unsigned rt = ISS_SRT(esr);
    int err;

    if (esr & VCPU_ISS_S1PTW) {
        vcpu_fault_s1ptw(v, tf, "data access");
        return;
    }
    a.ipa = vcpu_fault_ipa_page() | (tf->far & 0xfff);
    if (!(esr & ISS_ISV)) {
        /* Load/store pair, writeback, SIMD...: no syndrome, so nothing we could emulate. */
        snprintf(what, sizeof(what),
                 "%s at IPA 0x%lx outside its RAM, not a single-register access",
                 (esr & ESR_ISS_WNR) ? "write" : "read", (unsigned long)a.ipa);
        if (device_at(a.ipa))
            vcpu_fatal(v, tf, "%s", what);
        else
            vfault_outside(v, tf, false, what); /* no device there: it would not answer either */
        return;
    }
    a.size = 1u << ISS_SAS(esr);
    a.write = esr & ESR_ISS_WNR;
    a.val = 0;
    if (a.write) {
        a.val = rt == 31 ? 0 : tf->x[rt];
        if (a.size < 8)
            a.val &= (1UL << (a.size * 8)) - 1;
    }
    err = dispatch(v, &a);
    if (err == -ENOENT) {
        snprintf(what, sizeof(what), "%u-byte %s at IPA 0x%lx: outside its RAM and devices", a.size,
                 a.write ? "write" : "read", (unsigned long)a.ipa);
        vfault_outside(v, tf, false, what);
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
            if ((esr & ISS_SSE) && (val >> (a.size * 8 - 1)) & 1)
                val |= ~0UL << (a.size * 8); /* sign-extend */
        }
        if (!(esr & ISS_SF))
            val &= 0xffffffffUL; /* a W register: the upper half is zero */
        tf->x[rt] = val;
    }
    tf->elr += 4;
}
