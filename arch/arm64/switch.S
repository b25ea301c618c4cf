/* switch.S - thread context switch: the AAPCS64 callee-saved registers and SP, nothing else. */

/*
 * struct thread *sched_switch_context(struct cpu_context *prev, struct cpu_context *next,
 *                                     struct thread *prev_thread)
 *
 * Everything else a thread owns is either caller-saved (the C compiler saved what it needs
 * before the call) or restored by the code it returns to: the IRQ mask by sched.c, a user or
 * guest context by the exception return on its own stack. The kernel is built with
 * -mgeneral-regs-only, so there is no FP/SIMD state here. Returns prev_thread (x2) in the
 * context of next, so the resumed thread learns which thread it replaced.
 */
    .text
    .global sched_switch_context
    .type   sched_switch_context, %function
sched_switch_context:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    str     x9, [x0, #96]
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x9, [x1, #96]
    mov     sp, x9
    mov     x0, x2
    ret
    .size   sched_switch_context, . - sched_switch_context
