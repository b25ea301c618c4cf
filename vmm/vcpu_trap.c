/* vcpu_trap.c - every exception a guest causes at EL2, dispatched on ESR_EL2.EC. */
#include <stdarg.h>

#include "arch/irqflags.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/wait.h"
#include "lib/printf.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vfault.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm.h"

/* Exception classes (Arm ARM D17.2.37, ESR_EL2.EC). */
#define EC_WFX      0x01
#define EC_FP       0x07
#define EC_HVC64    0x16
#define EC_SMC64    0x17
#define EC_SYSREG   0x18
#define EC_SVE      0x19
#define EC_IABT_LOW 0x20
#define EC_DABT_LOW 0x24

#define ISS_WFE   1u
#define INSN_SIZE 4

/* MSR/MRS trap syndrome (Arm ARM D17.2.37 "ISS encoding for an exception from MSR, MRS"). */
#define SYSREG_KEY(op0, op1, crn, crm, op2)                                                        \
    ((op0) << 20 | (op2) << 17 | (op1) << 14 | (crn) << 10 | (crm) << 1)
#define SYSREG_KEY_MASK  0x3ffc1eu
#define SYSREG_READ      1u
#define SYSREG_RT(esr)   ((unsigned)((esr) >> 5) & 0x1f)
#define SR_ACTLR_EL1     SYSREG_KEY(3u, 0u, 1u, 0u, 1u)
#define SR_CNTP_TVAL_EL0 SYSREG_KEY(3u, 3u, 14u, 2u, 0u)
#define SR_CNTP_CTL_EL0  SYSREG_KEY(3u, 3u, 14u, 2u, 1u)
#define SR_CNTP_CVAL_EL0 SYSREG_KEY(3u, 3u, 14u, 2u, 2u)
#define SR_ICC_SGI1R_EL1 SYSREG_KEY(3u, 0u, 12u, 11u, 5u)

void vcpu_fatal(struct vcpu *v, struct trap_frame *tf, const char *fmt, ...)
{
    char what[120];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    vm_request_stop(v->vm, false, "vCPU %u: %s (ESR 0x%lx, PC 0x%lx)", v->id, what,
                    (unsigned long)tf->esr, (unsigned long)tf->elr);
}

static uint64_t reg_get(const struct trap_frame *tf, unsigned rt)
{
    return rt == 31 ? 0 : tf->x[rt];
}

static void reg_set(struct trap_frame *tf, unsigned rt, uint64_t val)
{
    if (rt != 31)
        tf->x[rt] = val;
}

static void trap_sysreg(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    uint32_t key = (uint32_t)esr & SYSREG_KEY_MASK;
    bool read = esr & SYSREG_READ;
    unsigned rt = SYSREG_RT(esr);
    uint64_t val = reg_get(tf, rt);
    int err = 0;

    v->exits[EXIT_SYSREG]++;
    switch (key) {
    case SR_ACTLR_EL1:
        /* Implementation defined: the guest reads the real value and cannot change it. */
        if (read)
            val = read_sysreg(actlr_el1);
        break;
    case SR_CNTP_TVAL_EL0: err = vtimer_ptimer_access(v, 0, read, &val); break;
    case SR_CNTP_CTL_EL0: err = vtimer_ptimer_access(v, 1, read, &val); break;
    case SR_CNTP_CVAL_EL0: err = vtimer_ptimer_access(v, 2, read, &val); break;
    case SR_ICC_SGI1R_EL1: err = read ? -EINVAL : vgic_sgi1r_write(&v->vm->vgic, v->id, val); break;
    default: err = -ENOENT; break;
    }
    if (err) {
        vcpu_fatal(v, tf, "unhandled system register %s (op0 %u op1 %u CRn %u CRm %u op2 %u)",
                   read ? "read" : "write", (unsigned)(esr >> 20) & 3, (unsigned)(esr >> 14) & 7,
                   (unsigned)(esr >> 10) & 15, (unsigned)(esr >> 1) & 15,
                   (unsigned)(esr >> 17) & 7);
        return;
    }
    if (read)
        reg_set(tf, rt, val);
    tf->elr += INSN_SIZE;
}

/*
 * WFI: the vCPU has nothing to do until an interrupt. Sleep the thread (giving the CPU away) until
 * the vGIC or a timer has something for it or the VM stops. A wake-up without an interrupt is
 * allowed: WFI may complete early (Arm ARM D1.16.2).
 */
static void trap_wfi(struct vcpu *v)
{
    struct vm *vm = v->vm;

    v->exits[EXIT_WFI]++;
    __atomic_store_n(&v->kick, false, __ATOMIC_RELAXED);
    vgic_hw_refresh(v);
    if (vgic_pending(&vm->vgic, v->id))
        return;
    uint64_t deadline = vtimer_next_deadline(v);
    v->state = VCPU_WFI;
    arch_irq_enable();
    wait_event_until(&v->wq, v->kick || vm_stopping(vm), deadline);
    arch_irq_disable();
    v->state = VCPU_ON;
    vtimer_inject_if_fired(v);
    if (v->ptimer.ctl)
        vtimer_ptimer_update(v);
}

void vcpu_trap_sync(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();
    uint64_t esr = tf->esr;
    unsigned ec = ESR_EC(esr);

    if (!v)
        panic_trap(tf, VEC_LOW64_SYNC, "trap from a lower exception level without a vCPU");
    v->tf = tf;
    switch (ec) {
    case EC_HVC64:
        v->exits[EXIT_HVC]++;
        vpsci_call(v, tf); /* ELR already points past the HVC */
        break;
    case EC_SMC64:
        v->exits[EXIT_SMC]++;
        tf->elr += INSN_SIZE; /* a trapped SMC returns to itself (HCR_EL2.TSC) */
        vpsci_call(v, tf);
        break;
    case EC_DABT_LOW:
        v->exits[EXIT_MMIO]++;
        vmmio_data_abort(v, tf, esr);
        break;
    case EC_SYSREG: trap_sysreg(v, tf, esr); break;
    case EC_WFX:
        tf->elr += INSN_SIZE;
        if (esr & ISS_WFE) {
            v->exits[EXIT_WFE]++;
            arch_irq_enable();
            thread_yield(); /* a spinning vCPU lets the one it waits for run */
            arch_irq_disable();
        } else {
            trap_wfi(v);
        }
        break;
    case EC_FP:
        v->exits[EXIT_FP]++;
        vcpu_arch_fp_trap(v);
        break;
    case EC_IABT_LOW: {
        char what[64];
        v->exits[EXIT_OTHER]++;
        snprintf(what, sizeof(what), "instruction fetch outside its memory at IPA 0x%lx",
                 (unsigned long)((read_sysreg(hpfar_el2) >> 4) << 12 | (tf->far & 0xfff)));
        vfault_outside(v, tf, true, what);
        break;
    }
    case EC_SVE:
        v->exits[EXIT_OTHER]++;
        vcpu_fatal(v, tf, "SVE is not offered to guests");
        break;
    default:
        v->exits[EXIT_OTHER]++;
        vcpu_fatal(v, tf, "unhandled trap, exception class 0x%x", ec);
        break;
    }
    vcpu_prepare_resume(v, tf);
}

void vcpu_trap_irq(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();

    if (!v)
        panic_trap(tf, VEC_LOW64_IRQ, "interrupt from a lower exception level without a vCPU");
    v->tf = tf;
    v->exits[EXIT_IRQ]++;
    gic_handle_irq();
    sched_irq_exit(); /* may switch threads: the switch hooks save and restore this vCPU */
    vcpu_prepare_resume(v, tf);
}

void vcpu_trap_serror(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();

    if (!v)
        panic_trap(tf, VEC_LOW64_SERROR, "SError from a lower exception level without a vCPU");
    v->tf = tf;
    vcpu_fatal(v, tf, "SError (asynchronous external abort)");
    vcpu_prepare_resume(v, tf);
}
