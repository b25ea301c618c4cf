/* fault.c - user page faults (demand-zero, copy-on-write) and the report that ends a process. */
#include "kernel/fault.h"
#include "arch/sysreg.h"
#include "arch/uvm.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "lib/errno.h"

#define SIGTRAP 5

/* End the running thread's process; the first fatal event prints the one line about it. */
static void fault_fatal(struct trap_frame *tf, int sig, const char *what, bool with_addr)
{
    struct uthread *ut = uthread_current();
    struct proc *p = ut->proc;

    /* The "core dumped" bit tells a waiter (the shell's run) that the report is out already. */
    if (!proc_terminate(p, PROC_STATUS_SIGNALED(sig) | PROC_STATUS_REPORTED))
        return;
    if (with_addr)
        kprintf("pid %d (%s): %s at 0x%lx pc 0x%lx\n", p->pid, p->name, what,
                (unsigned long)tf->far, (unsigned long)tf->elr);
    else
        kprintf("pid %d (%s): %s at pc 0x%lx\n", p->pid, p->name, what, (unsigned long)tf->elr);
}

static void fault_abort(struct trap_frame *tf, unsigned int ec)
{
    unsigned int fsc = ESR_FSC(tf->esr);
    unsigned int access = ec == EC_IABT_LOW         ? UVM_EXEC
                          : (tf->esr & ESR_ISS_WNR) ? UVM_WRITE
                                                    : UVM_READ;

    if (fsc == ESR_FSC_ALIGNMENT) {
        fault_fatal(tf, SIGBUS, "bus error (misaligned access)", true);
        return;
    }
    if (!FSC_TRANSLATION(fsc) && !FSC_PERMISSION(fsc)) {
        fault_fatal(tf, SIGBUS, "bus error", true);
        return;
    }
    int err = aspace_fault(uthread_current()->proc->as, tf->far, access);
    if (err == -ENOMEM)
        fault_fatal(tf, SIGKILL, "out of memory", true);
    else if (err)
        fault_fatal(tf, SIGSEGV, "segmentation fault", true);
}

void fault_user(struct trap_frame *tf)
{
    unsigned int ec = ESR_EC(tf->esr);

    switch (ec) {
    case EC_DABT_LOW:
    case EC_IABT_LOW: fault_abort(tf, ec); return;
    case EC_PC_ALIGN:
    case EC_SP_ALIGN:
        fault_fatal(tf, SIGBUS, ec == EC_PC_ALIGN ? "misaligned pc" : "misaligned stack pointer",
                    false);
        return;
    case EC_BRK64: fault_fatal(tf, SIGTRAP, "breakpoint", false); return;
    default:
        /* Undefined instructions, forbidden system registers, illegal execution state, ... */
        fault_fatal(tf, SIGILL, "illegal instruction", false);
        return;
    }
}

bool fault_kernel(struct trap_frame *tf)
{
    if (ESR_EC(tf->esr) != EC_DABT_CUR || !uvm_uaccess_pc(tf->elr))
        return false;
    unsigned int fsc = ESR_FSC(tf->esr);
    struct uvm_space *s = uvm_active();
    struct aspace *as = s ? s->owner : NULL;
    if (as && (FSC_TRANSLATION(fsc) || FSC_PERMISSION(fsc)) &&
        aspace_fault(as, tf->far, (tf->esr & ESR_ISS_WNR) ? UVM_WRITE : UVM_READ) == 0)
        return true; /* retry the access */
    uvm_uaccess_fixup(tf);
    return true;
}
