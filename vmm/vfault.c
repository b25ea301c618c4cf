/* vfault.c - a guest access outside its RAM and devices: an external abort into it, or a stop. */
#include "vmm/vfault.h"

#include "arch/sysreg.h"
#include "kernel/printk.h"
#include "vmm/vcpu_run.h"
#include "vmm/vinject.h"
#include "vmm/vm.h"

/*
 * Take the abort to the guest's EL1: its exception registers are live in this CPU while its
 * trap is handled (vcpu_arch.c), and the trap returns to its vector with the new PSTATE.
 */
static int inject_abort(struct trap_frame *tf, bool instruction)
{
    struct vinject_abort a = {
        .instruction = instruction,
        .write = (tf->esr & ESR_ISS_WNR) != 0,
        .il32 = (tf->esr & ESR_IL) != 0,
        .va = tf->far,
        .pc = tf->elr,
        .pstate = tf->spsr,
        .vbar = read_sysreg(vbar_el1),
    };
    struct vinject_entry e;
    int err = vinject_sync_abort(&a, &e);

    if (err)
        return err;
    write_sysreg(esr_el1, e.esr);
    write_sysreg(far_el1, e.far);
    write_sysreg(elr_el1, e.elr);
    write_sysreg(spsr_el1, e.spsr);
    tf->elr = e.pc;
    tf->spsr = e.pstate;
    return 0;
}

void vfault_outside(struct vcpu *v, struct trap_frame *tf, bool instruction, const char *what)
{
    struct vm *vm = v->vm;

    if (vm->m.on_fault == GUEST_FAULT_STOP) {
        vcpu_fatal(v, tf, "%s", what);
        return;
    }
    uint64_t pc = tf->elr;
    if (inject_abort(tf, instruction)) {
        vcpu_fatal(v, tf, "%s, from a state an external abort cannot be taken from", what);
        return;
    }
    /* Once per start: a guest that faults in a loop must not flood the console. */
    if (!__atomic_exchange_n(&vm->fault_reported, true, __ATOMIC_RELAXED))
        kprintf("guest %s: vCPU %u: %s: external abort injected (PC 0x%lx; not reported again)\n",
                vm->m.name, v->id, what, (unsigned long)pc);
}
