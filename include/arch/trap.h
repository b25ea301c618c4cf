/* trap.h - the register frame saved on every exception entry, and exception kinds. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#define TRAP_FRAME_SIZE 304

/* Vector slot numbers (VBAR offset / 0x80). */
#define VEC_CUR_SP0_SYNC   0
#define VEC_CUR_SPX_SYNC   4
#define VEC_CUR_SPX_IRQ    5
#define VEC_CUR_SPX_FIQ    6
#define VEC_CUR_SPX_SERROR 7
#define VEC_LOW64_SYNC     8
#define VEC_LOW64_IRQ      9
#define VEC_LOW64_FIQ      10
#define VEC_LOW64_SERROR   11
#define VEC_LOW32_SYNC     12

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

struct trap_frame {
    uint64_t x[31]; /* x0..x30 */
    uint64_t sp;    /* interrupted SP (SP_EL0 when from a lower level) */
    uint64_t elr;
    uint64_t spsr;
    uint64_t esr;
    uint64_t far;
    uint64_t frame_fp; /* frame record {x29, elr} linking backtraces across the exception */
    uint64_t frame_lr;
};

_Static_assert(sizeof(struct trap_frame) == TRAP_FRAME_SIZE, "trap frame layout");

void exception_dispatch(struct trap_frame *tf, unsigned int vector);

/**
 * Who handles what the lower EL does: the process layer (EL1 build: EL0 user threads) or the vmm
 * (EL2 build: guests) installs these at start-up. A NULL member keeps the default: panic for the
 * three vectors, no fix-up for kernel_fault.
 */
struct lower_el_ops {
    void (*sync)(struct trap_frame *tf);   /* system call, abort, hypercall, MMIO, WFI, ... */
    void (*irq)(struct trap_frame *tf);    /* an interrupt while the lower EL ran */
    void (*serror)(struct trap_frame *tf); /* an asynchronous abort while the lower EL ran */
    /* A synchronous exception at the running EL: true if resolved (a fault on a user copy). */
    bool (*kernel_fault)(struct trap_frame *tf);
};

void exception_set_lower_el_ops(const struct lower_el_ops *ops);
/* The installed ops; vectors.S calls sync and irq itself (those never reach exception_dispatch). */
extern struct lower_el_ops exception_lower_el;
#endif

#endif
