/* exception.c - routes every exception taken at the running EL to its handler. */
#include "arch/trap.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

static void lower_el_unclaimed(struct trap_frame *tf)
{
    panic_trap(tf, VEC_LOW64_SYNC, "exception from a lower EL with no handler installed");
}

static bool kernel_fault_none(struct trap_frame *tf)
{
    (void)tf;
    return false;
}

_Static_assert(__builtin_offsetof(struct lower_el_ops, sync) == 0, "vectors.S loads sync at 0");
_Static_assert(__builtin_offsetof(struct lower_el_ops, irq) == 8, "vectors.S loads irq at 8");

/*
 * A copy, not a pointer to the installer's table: vectors.S calls sync and irq, the hot paths
 * (guest exits, system calls, interrupts), with one load. Written once at start-up.
 */
struct lower_el_ops exception_lower_el = {
    .sync = lower_el_unclaimed,
    .irq = lower_el_unclaimed,
    .serror = lower_el_unclaimed,
    .kernel_fault = kernel_fault_none,
};

void exception_set_lower_el_ops(const struct lower_el_ops *ops)
{
    if (ops->sync)
        exception_lower_el.sync = ops->sync;
    if (ops->irq)
        exception_lower_el.irq = ops->irq;
    if (ops->serror)
        exception_lower_el.serror = ops->serror;
    if (ops->kernel_fault)
        exception_lower_el.kernel_fault = ops->kernel_fault;
}

void exception_dispatch(struct trap_frame *tf, unsigned int vector)
{
    switch (vector) {
    case VEC_LOW64_SERROR: exception_lower_el.serror(tf); return;
    case VEC_CUR_SPX_IRQ:
        irq_handle();
        sched_irq_exit(); /* preemption: a more important thread may have become runnable */
        return;
    case VEC_CUR_SPX_SYNC:
        if (exception_lower_el.kernel_fault(tf))
            return; /* a page fault on a user copy: resolved, or the copy fails */
        panic_trap(tf, vector, "synchronous exception in the kernel");
    case VEC_CUR_SPX_SERROR: panic_trap(tf, vector, "SError");
    default: panic_trap(tf, vector, "unexpected exception vector");
    }
}
