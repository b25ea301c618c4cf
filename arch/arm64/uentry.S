/* uentry.S - the first return of a user thread to EL0. */
#include "arch/trap.h"

    .text
/*
 * void uentry_return(const struct trap_frame *src, struct trap_frame *tf): copy src to tf (the top
 * of this stack, where C frames may still be: hence no stack use here), then leave through
 * exception_return (vectors.S), which restores SP_EL0 because x19 names a lower-level vector.
 */
    .global uentry_return
    .type   uentry_return, %function
uentry_return:
    mov     x2, #TRAP_FRAME_SIZE
    mov     x5, x1
1:  ldp     x3, x4, [x0], #16
    stp     x3, x4, [x5], #16
    subs    x2, x2, #16
    b.ne    1b
    mov     sp, x1
    mov     x19, #VEC_LOW64_SYNC
    mov     x29, #0
    b       exception_return
    .size   uentry_return, . - uentry_return
