/* vectors.S - TestOS exception vectors: save a frame, stamp CNTVCT, call exception_dispatch. */
#include "config.h"

/*
 * Every entry reads CNTVCT_EL0 as its third instruction: the interrupt-latency benchmark
 * measures from the timer deadline to this stamp.
 */
.macro ventry kind
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp]
    mrs     x0, cntvct_el0
    str     x0, [sp, #FRAME_STAMP]
    mov     x0, #\kind
    b       vector_common
.endm

    .text
    .balign 2048
    .globl  testos_vectors
testos_vectors:
    ventry  0                       /* current EL, SP_EL0: sync, IRQ, FIQ, SError */
    ventry  1
    ventry  2
    ventry  3
    ventry  4                       /* current EL, SP_ELx */
    ventry  5
    ventry  6
    ventry  7
    ventry  8                       /* lower EL, AArch64 */
    ventry  9
    ventry  10
    ventry  11
    ventry  12                      /* lower EL, AArch32 */
    ventry  13
    ventry  14
    ventry  15

vector_common:
    stp     x2, x3, [sp, #16 * 1]
    stp     x4, x5, [sp, #16 * 2]
    stp     x6, x7, [sp, #16 * 3]
    stp     x8, x9, [sp, #16 * 4]
    stp     x10, x11, [sp, #16 * 5]
    stp     x12, x13, [sp, #16 * 6]
    stp     x14, x15, [sp, #16 * 7]
    stp     x16, x17, [sp, #16 * 8]
    stp     x18, x19, [sp, #16 * 9]
    stp     x20, x21, [sp, #16 * 10]
    stp     x22, x23, [sp, #16 * 11]
    stp     x24, x25, [sp, #16 * 12]
    stp     x26, x27, [sp, #16 * 13]
    stp     x28, x29, [sp, #16 * 14]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x30, x2, [sp, #16 * 15]
    str     x3, [sp, #FRAME_SPSR]
    mov     x1, x0
    mov     x0, sp
    bl      exception_dispatch
    ldp     x30, x2, [sp, #16 * 15]
    ldr     x3, [sp, #FRAME_SPSR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x2, x3, [sp, #16 * 1]
    ldp     x4, x5, [sp, #16 * 2]
    ldp     x6, x7, [sp, #16 * 3]
    ldp     x8, x9, [sp, #16 * 4]
    ldp     x10, x11, [sp, #16 * 5]
    ldp     x12, x13, [sp, #16 * 6]
    ldp     x14, x15, [sp, #16 * 7]
    ldp     x16, x17, [sp, #16 * 8]
    ldp     x18, x19, [sp, #16 * 9]
    ldp     x20, x21, [sp, #16 * 10]
    ldp     x22, x23, [sp, #16 * 11]
    ldp     x24, x25, [sp, #16 * 12]
    ldp     x26, x27, [sp, #16 * 13]
    ldp     x28, x29, [sp, #16 * 14]
    ldp     x0, x1, [sp]
    add     sp, sp, #FRAME_SIZE
    eret

/*
 * uint64_t exception_el0_call(uint64_t el0_pc): enter EL0 at el0_pc with IRQs masked. The code
 * there ends with SVC #EXCEPTION_SVC_EL0_DONE, whose handler returns to testos_el0_return at EL1;
 * SP_EL1 is then what it was at the ERET, so the saved frame is found again. x0 is EL0's.
 */
    .globl  exception_el0_call
exception_el0_call:
    stp     x29, x30, [sp, #-16]!
    msr     elr_el1, x0
    mov     x0, #0x3c0              /* EL0t, DAIF masked */
    msr     spsr_el1, x0
    mov     x0, #0
    eret
    .globl  testos_el0_return
testos_el0_return:
    ldp     x29, x30, [sp], #16
    ret
