/* vectors.S - exception vector table for the running EL: save a trap_frame, call C, restore. */
#include "arch/sysreg.h"
#include "arch/trap.h"

.macro ventry vec
    .balign 0x80
    sub     sp, sp, #TRAP_FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\vec
    b       exception_common
.endm

    .text
    .balign 2048
    .global exception_vectors
exception_vectors:
    .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ventry  \v
    .endr

exception_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mov     x19, x0                 /* vector number, callee-saved */
    cmp     x0, #VEC_LOW64_SYNC
    b.hs    1f
    add     x1, sp, #TRAP_FRAME_SIZE /* same level: SP before the exception */
    b       2f
1:  mrs     x1, sp_el0
2:  stp     x30, x1, [sp, #240]
    mrs     x2, SYSREG_ELR
    mrs     x3, SYSREG_SPSR
    stp     x2, x3, [sp, #256]
    mrs     x4, SYSREG_ESR
    mrs     x5, SYSREG_FAR
    stp     x4, x5, [sp, #272]
    stp     x29, x2, [sp, #288]
    add     x29, sp, #288
    mov     x0, sp
    mov     x1, x19
    /*
     * The hot paths (guest exits, system calls; interrupts while the lower EL runs): straight to
     * the handler the layer above installed (exception_lower_el, exception.c), one load each.
     */
    cmp     x19, #VEC_LOW64_SYNC
    b.ne    4f
    adrp    x2, exception_lower_el
    ldr     x2, [x2, :lo12:exception_lower_el]
    blr     x2
    .global exception_return
exception_return:
    /* The handler may have changed ELR/SPSR/SP (signals, syscalls, context switch). */
    ldp     x2, x3, [sp, #256]
    msr     SYSREG_ELR, x2
    msr     SYSREG_SPSR, x3
    cmp     x19, #VEC_LOW64_SYNC
    b.lo    3f
    ldr     x1, [sp, #248]
    msr     sp_el0, x1
3:  ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #TRAP_FRAME_SIZE
    eret
4:  cmp     x19, #VEC_LOW64_IRQ
    b.ne    5f
    adrp    x2, exception_lower_el
    ldr     x2, [x2, :lo12:exception_lower_el + 8]
    blr     x2
    b       exception_return
5:  bl      exception_dispatch
    b       exception_return
