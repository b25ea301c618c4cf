/* vcpu_entry.S - into a guest through the exception return path, and back out to the run loop.
 * Linked in the EL2 build only (Makefile). */
#include "arch/trap.h"

    .text

/*
 * uint64_t vcpu_enter_guest(struct vcpu_host_ctx *host, const struct trap_frame *guest)
 * Save the callee-saved registers and SP in host, copy the guest frame to the stack exactly where
 * the vectors will build the next trap frame, and leave through exception_return (x19 says
 * "lower level", so it also loads SP_EL0). Returns only through vcpu_exit_to_host().
 */
    .global vcpu_enter_guest
vcpu_enter_guest:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    str     x9, [x0, #96]
    sub     sp, sp, #TRAP_FRAME_SIZE
    mov     x2, sp
    mov     x3, #(TRAP_FRAME_SIZE / 16)
1:  ldp     x4, x5, [x1], #16
    stp     x4, x5, [x2], #16
    subs    x3, x3, #1
    b.ne    1b
    mov     x19, #VEC_LOW64_SYNC
    b       exception_return

/*
 * void vcpu_exit_to_host(const struct vcpu_host_ctx *host, uint64_t code)
 * From a trap handler (on the same stack, below host->sp): drop the trap frame and return code
 * from vcpu_enter_guest(). The caller has copied the guest registers out of the frame.
 */
    .global vcpu_exit_to_host
vcpu_exit_to_host:
    ldp     x19, x20, [x0, #0]
    ldp     x21, x22, [x0, #16]
    ldp     x23, x24, [x0, #32]
    ldp     x25, x26, [x0, #48]
    ldp     x27, x28, [x0, #64]
    ldp     x29, x30, [x0, #80]
    ldr     x9, [x0, #96]
    mov     sp, x9
    mov     x0, x1
    ret
