/* vcpu_entry.S - into a guest through the exception return path, and back out to the run loop. */
#include "arch/trap.h"

#ifdef AVATAR_HV
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

/* void vcpu_fp_save(struct vcpu_fp *fp) / vcpu_fp_restore(const struct vcpu_fp *fp) */
    .global vcpu_fp_save
vcpu_fp_save:
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
    add     x0, x0, #512
    stp     x1, x2, [x0]
    ret

    .global vcpu_fp_restore
vcpu_fp_restore:
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
    add     x0, x0, #512
    ldp     x1, x2, [x0]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
#endif
