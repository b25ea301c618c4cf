/* vcpu_trap.c - every exception a guest causes at EL2, dispatched on ESR_EL2.EC. */
#include <stdarg.h>

#include "arch/irqflags.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/wait.h"
#include "lib/printf.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_exc.h"
#include "vmm/vcpu_inject.h"
#include "vmm/vcpu_run.h"
#include "vmm/vcpu_sysreg.h"
#include "vmm/vdebug.h"
#include "vmm/vfault.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm.h"
#include "vmm/vpmu.h"

#define INSN_SIZE 4 /* an A64 instruction */

#define SR_ACTLR_EL1      VCPU_SYSREG(3u, 0u, 1u, 0u, 1u)
#define SR_CNTP_TVAL_EL0  VCPU_SYSREG(3u, 3u, 14u, 2u, 0u)
#define SR_CNTP_CTL_EL0   VCPU_SYSREG(3u, 3u, 14u, 2u, 1u)
#define SR_CNTP_CVAL_EL0  VCPU_SYSREG(3u, 3u, 14u, 2u, 2u)
#define SR_ICC_SGI1R_EL1  VCPU_SYSREG(3u, 0u, 12u, 11u, 5u)
#define SR_ICC_ASGI1R_EL1 VCPU_SYSREG(3u, 0u, 12u, 11u, 6u)
#define SR_ICC_SGI0R_EL1  VCPU_SYSREG(3u, 0u, 12u, 11u, 7u)

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

void vcpu_fault_s1ptw(struct vcpu *v, struct trap_frame *tf, const char *access)
{
    /* HPFAR names the page of the guest's own table entry; FAR is the VA being translated. */
    vcpu_fatal(v, tf,
               "stage-1 table walk for the %s of VA 0x%lx: table entry in IPA page 0x%lx, "
               "outside its memory",
               access, (unsigned long)tf->far, (unsigned long)vcpu_fault_ipa_page());
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

/* The emulation of one trapped register: VCPU_SYSREG_DONE/RETRY, or a negative errno when the
 * register is not one the guest has (it gets an UNDEF). */
static int sysreg_access(struct vcpu *v, const struct trap_frame *tf, uint32_t key, bool read,
                         uint64_t *val)
{
    /* A GICv3 guest's IPIs come this way: tested first, ahead of the switch's compare tree. */
    if (key == SR_ICC_SGI1R_EL1)
        return read ? -EINVAL : vgic_sgi1r_write(&v->vm->vgic, v->id, *val);
    switch (key) {
    case SR_ACTLR_EL1:
        /* Implementation defined: the guest reads the real value and cannot change it. */
        if (read)
            *val = read_sysreg(actlr_el1);
        return VCPU_SYSREG_DONE;
    case SR_CNTP_TVAL_EL0: return vtimer_ptimer_access(v, 0, read, val);
    case SR_CNTP_CTL_EL0: return vtimer_ptimer_access(v, 1, read, val);
    case SR_CNTP_CVAL_EL0: return vtimer_ptimer_access(v, 2, read, val);
    /*
     * The guest's GICv3 has one security state (GICD_CTLR.DS = 1) and its interrupts are Group 1:
     * SGI0R (Group 0) and ASGI1R (the other security state's Group 1) raise the same SGIs as
     * SGI1R, the register layout being the same (GICv3 spec 12.11, ICC_SGI0R_EL1).
     */
    case SR_ICC_ASGI1R_EL1:
    case SR_ICC_SGI0R_EL1: return read ? -EINVAL : vgic_sgi1r_write(&v->vm->vgic, v->id, *val);
    default:
        if (VCPU_SYSREG_OP0(key) == 2)
            return vdebug_access(v, key, read, val);
        return vpmu_access(v, key, read, (tf->spsr & PSR_MODE_EL_MASK) == 0, val);
    }
}

/*
 * A register Avatar does not give the guest (IMPLEMENTATION DEFINED ones trapped by HCR_EL2.TIDCP
 * among them): the guest takes an UNDEF, as on hardware without that register. One line per VM
 * names the first such register, so a guest probing many does not flood the console.
 */
static void sysreg_undef(struct vcpu *v, struct trap_frame *tf, uint32_t key, bool read)
{
    if (!__atomic_exchange_n(&v->vm->sysreg_undef_reported, true, __ATOMIC_RELAXED))
        kprintf("guest %s: vCPU %u: %s of system register S%u_%u_C%u_C%u_%u at PC 0x%lx: "
                "undefined instruction for the guest (reported once)\n",
                v->vm->m.name, v->id, read ? "read" : "write", VCPU_SYSREG_OP0(key),
                VCPU_SYSREG_OP1(key), VCPU_SYSREG_CRN(key), VCPU_SYSREG_CRM(key),
                VCPU_SYSREG_OP2(key), (unsigned long)tf->elr);
    vcpu_inject_undef(tf);
}

/*
 * A coprocessor access from AArch32 EL0 (EC 0x03-0x06, 0x0c: MCR/MRC, MCRR/MRRC, LDC/STC to
 * CP15/CP14) that MDCR_EL2's PMU and debug traps catch: Avatar emulates none, so the guest gets
 * an UNDEF, as for an unhandled AArch64 register.
 */
static void trap_aarch32_cp(struct vcpu *v, struct trap_frame *tf, unsigned ec)
{
    v->exits[EXIT_SYSREG]++;
    if (!__atomic_exchange_n(&v->vm->sysreg_undef_reported, true, __ATOMIC_RELAXED))
        kprintf("guest %s: vCPU %u: AArch32 coprocessor access (exception class 0x%x) at PC "
                "0x%lx: undefined instruction for the guest (reported once)\n",
                v->vm->m.name, v->id, ec, (unsigned long)tf->elr);
    vcpu_inject_undef(tf);
}

static void trap_sysreg(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    uint32_t key = (uint32_t)esr & VCPU_SYSREG_MASK;
    bool read = esr & VCPU_SYSREG_READ;
    unsigned rt = VCPU_SYSREG_RT(esr);
    uint64_t val = reg_get(tf, rt);
    int ret;

    v->exits[EXIT_SYSREG]++;
    ret = sysreg_access(v, tf, key, read, &val);
    if (ret == VCPU_SYSREG_RETRY)
        return;
    if (ret < 0) {
        sysreg_undef(v, tf, key, read);
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
/*
 * Woken ahead of a timer deadline by the vCPU's learnt wake-up cost: spin the rest (at most
 * WFI_ADVANCE_MAX ticks, IRQs masked) so the interrupt goes in the moment the timer fires; then
 * learn from how early or late this wake-up was (KVM x86's adaptive timer advance, per vCPU).
 */
#define WFI_ADVANCE_MAX 512 /* ticks: 8 us at 62.5 MHz */

static void wfi_meet_deadline(struct vcpu *v, uint64_t deadline)
{
    uint64_t now = timer_counter();

    if (now >= deadline) {
        uint64_t late = (now - deadline) / 2;
        v->wfi_advance =
            v->wfi_advance + late > WFI_ADVANCE_MAX ? WFI_ADVANCE_MAX : v->wfi_advance + late;
        return;
    }
    if (deadline - now > v->wfi_advance)
        return; /* woken for something else: the guest looks and waits again if it must */
    v->wfi_advance -= (deadline - now) / 8 + 1;
    while (timer_counter() < deadline && !__atomic_load_n(&v->kick, __ATOMIC_ACQUIRE))
        ;
}

/*
 * Halt polling, as KVM does it: before a WFI sleeps, watch for a kick for up to v->poll_ticks
 * while no other thread wants this CPU; a wake-up that comes that soon costs no switch away and
 * back. The window grows while wake-ups come within WFI_POLL_MAX and shrinks to nothing when
 * they do not, so an idle guest soon stops polling. YIELD in the loop lets the CPU (or, under
 * QEMU's round-robin TCG, the other vCPUs) run meanwhile. IRQs are on: kicks arrive by IPI.
 */
#define WFI_POLL_MAX   2048 /* ticks: 33 us at 62.5 MHz */
#define WFI_POLL_START 256

static bool wfi_poll(struct vcpu *v, uint64_t until)
{
    uint64_t start = timer_counter(), end = start + v->poll_ticks;

    if (end > until)
        end = until;
    for (uint64_t now = start; now < end; now = timer_counter()) {
        if (__atomic_load_n(&v->kick, __ATOMIC_ACQUIRE) || vm_stopping(v->vm))
            return true;
        if (sched_cpu_contended())
            return false;
        __asm__ volatile("yield" ::: "memory");
    }
    return false;
}

/* After a sleep of slept ticks that a kick ended (or not): adapt the polling window. */
static void wfi_poll_adapt(struct vcpu *v, bool polled_ok, bool kicked, uint64_t slept)
{
    if (polled_ok)
        return;
    if (kicked && slept <= WFI_POLL_MAX)
        v->poll_ticks = v->poll_ticks
                            ? (v->poll_ticks * 2 > WFI_POLL_MAX ? WFI_POLL_MAX : v->poll_ticks * 2)
                            : WFI_POLL_START;
    else
        v->poll_ticks /= 2;
}

static void trap_wfi(struct vcpu *v)
{
    struct vm *vm = v->vm;

    v->exits[EXIT_WFI]++;
    vtimer_resample(v); /* may kick this vCPU itself: before the flag is cleared */
    __atomic_store_n(&v->kick, false, __ATOMIC_RELAXED);
    if (vgic_hw_refresh(v))
        return;
    uint64_t deadline = vtimer_next_deadline(v);
    uint64_t wake = deadline > v->wfi_advance ? deadline - v->wfi_advance : deadline;
    v->state = VCPU_WFI;
    arch_irq_enable();
    bool polled = v->poll_ticks && wfi_poll(v, deadline == UINT64_MAX ? deadline : wake);
    uint64_t slept = timer_counter();
    if (!polled)
        wait_event_until(&v->wq, v->kick || vm_stopping(vm),
                         deadline == UINT64_MAX ? deadline : wake);
    wfi_poll_adapt(v, polled, v->kick, timer_counter() - slept);
    arch_irq_disable();
    v->state = VCPU_ON;
    if (deadline != UINT64_MAX && !v->kick)
        wfi_meet_deadline(v, deadline);
    vtimer_inject_if_fired(v);
    if (v->ptimer.ctl)
        vtimer_ptimer_update(v);
}

void vcpu_wait_interrupt(struct vcpu *v)
{
    trap_wfi(v);
}

/* vcpu_prepare_resume, with its common case inline: nothing to do but resume. */
static inline void prepare_resume(struct vcpu *v, struct trap_frame *tf)
{
    if (__builtin_expect(__atomic_load_n(&v->work, __ATOMIC_ACQUIRE) |
                             __atomic_load_n(v->needs_flush, __ATOMIC_ACQUIRE),
                         0))
        vcpu_prepare_resume(v, tf);
    else
        v->tf = NULL;
}

/* A stage-2 instruction abort: outside the guest's memory (kept out of the hot function). */
static __attribute__((noinline)) void trap_iabt(struct vcpu *v, struct trap_frame *tf, uint64_t esr)
{
    char what[64];

    v->exits[EXIT_OTHER]++;
    if (esr & ESR_ISS_S1PTW) {
        vcpu_fault_s1ptw(v, tf, "instruction fetch");
        return;
    }
    snprintf(what, sizeof(what), "instruction fetch outside its memory at IPA 0x%lx",
             (unsigned long)(vcpu_fault_ipa_page() | (tf->far & 0xfff)));
    vfault_outside(v, tf, true, what);
}

/* Every exit class but the three common ones (vcpu_trap_sync). */
static void trap_other(struct vcpu *v, struct trap_frame *tf, uint64_t esr, unsigned ec)
{
    switch (ec) {
    case EC_SMC64:
        v->exits[EXIT_SMC]++;
        tf->elr += INSN_SIZE; /* a trapped SMC returns to itself (HCR_EL2.TSC) */
        vpsci_call(v, tf);
        break;
    case EC_WFX:
        tf->elr += (esr & ESR_IL) ? INSN_SIZE : INSN_SIZE / 2; /* IL 0: 16-bit T32 */
        if (esr & ESR_ISS_WFX_TI) {
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
    case EC_IABT_LOW: trap_iabt(v, tf, esr); break;
    case EC_SVE:
        v->exits[EXIT_OTHER]++;
        vcpu_fatal(v, tf, "SVE is not offered to guests");
        break;
    default:
        if ((ec >= EC_CP15_32 && ec <= EC_CP14_LS) || ec == EC_CP14_64) {
            trap_aarch32_cp(v, tf, ec);
            break;
        }
        v->exits[EXIT_OTHER]++;
        vcpu_fatal(v, tf, "unhandled trap, exception class 0x%x", ec);
        break;
    }
}

void vcpu_trap_sync(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();
    uint64_t esr = tf->esr;
    unsigned ec = ESR_EC(esr);

    if (!v)
        panic_trap(tf, VEC_LOW64_SYNC, "trap from a lower exception level without a vCPU");
    v->tf = tf;
    /* The common exits, tested in turn: two instructions each, where a switch's table costs eight.
     */
    if (ec == EC_DABT_LOW) {
        v->exits[EXIT_MMIO]++;
        vmmio_data_abort(v, tf, esr);
    } else if (ec == EC_HVC64) {
        v->exits[EXIT_HVC]++;
        vpsci_call(v, tf); /* ELR already points past the HVC */
    } else if (ec == EC_SYSREG) {
        trap_sysreg(v, tf, esr);
    } else {
        trap_other(v, tf, esr, ec);
    }
    prepare_resume(v, tf);
}

void vcpu_trap_irq(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();

    if (!v)
        panic_trap(tf, VEC_LOW64_IRQ, "interrupt from a lower exception level without a vCPU");
    v->tf = tf;
    v->exits[EXIT_IRQ]++;
    irq_handle();
    sched_irq_exit(); /* may switch threads: the switch hooks save and restore this vCPU */
    prepare_resume(v, tf);
}

void vcpu_trap_serror(struct trap_frame *tf)
{
    struct vcpu *v = vcpu_current();

    if (!v)
        panic_trap(tf, VEC_LOW64_SERROR, "SError from a lower exception level without a vCPU");
    v->tf = tf;
    vcpu_fatal(v, tf, "SError (asynchronous external abort)");
    prepare_resume(v, tf);
}
