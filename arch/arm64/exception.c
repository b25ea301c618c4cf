/* exception.c - routes every exception taken at the running EL to its handler. */
#include "arch/trap.h"
#include "drivers/gic.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#ifndef AVATAR_HV
#include "kernel/fault.h"
#include "kernel/proc.h"
#else
#include "vmm/vm.h"
#endif

void exception_dispatch(struct trap_frame *tf, unsigned int vector)
{
    switch (vector) {
#ifndef AVATAR_HV
    case VEC_LOW64_SYNC:
    case VEC_LOW64_IRQ:
        uthread_trap(tf, vector); /* user mode: system calls, page faults, interrupts */
        return;
#else
    case VEC_LOW64_SYNC: vcpu_trap_sync(tf); return; /* a guest: hypercall, MMIO, WFI, ... */
    case VEC_LOW64_IRQ: vcpu_trap_irq(tf); return;
    case VEC_LOW64_SERROR: vcpu_trap_serror(tf); return;
#endif
    case VEC_CUR_SPX_IRQ:
        gic_handle_irq();
        sched_irq_exit(); /* preemption: a more important thread may have become runnable */
        return;
    case VEC_CUR_SPX_SYNC:
#ifndef AVATAR_HV
        if (fault_kernel(tf))
            return; /* a page fault on a user copy: resolved, or the copy fails */
#endif
        panic_trap(tf, vector, "synchronous exception in the kernel");
    case VEC_CUR_SPX_SERROR: panic_trap(tf, vector, "SError");
    default: panic_trap(tf, vector, "unexpected exception vector");
    }
}
