/* uentry.S - FP/SIMD register save and restore for user threads, and the first return to EL0. */
#include "arch/trap.h"

    .text
/* void fpsimd_save(struct fpsimd_state *st) */
    .global fpsimd_save
    .type   fpsimd_save, %function
fpsimd_save:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpsr
    mrs     x2, fpcr
    str     w1, [x0, #512]
    str     w2, [x0, #516]
    ret
    .size   fpsimd_save, . - fpsimd_save

/* void fpsimd_load(const struct fpsimd_state *st) */
    .global fpsimd_load
    .type   fpsimd_load, %function
fpsimd_load:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    ldr     w1, [x0, #512]
    ldr     w2, [x0, #516]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
    .size   fpsimd_load, . - fpsimd_load

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
