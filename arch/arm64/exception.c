/* exception.c - routes every exception taken at the running EL to its handler. */
#include "arch/trap.h"
#include "drivers/gic.h"
#include "kernel/panic.h"

void exception_dispatch(struct trap_frame *tf, unsigned int vector)
{
    switch (vector) {
    case VEC_CUR_SPX_IRQ:
    case VEC_LOW64_IRQ:
        gic_handle_irq();
        return;
    case VEC_CUR_SPX_SYNC:
        panic_trap(tf, vector, "synchronous exception in the kernel");
    case VEC_LOW64_SYNC:
        panic_trap(tf, vector, "synchronous exception from a lower exception level");
    case VEC_CUR_SPX_SERROR:
    case VEC_LOW64_SERROR:
        panic_trap(tf, vector, "SError");
    default:
        panic_trap(tf, vector, "unexpected exception vector");
    }
}
