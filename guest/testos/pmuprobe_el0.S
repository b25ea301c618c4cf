/* pmuprobe_el0.S - code pmuprobe.c runs as a breakpoint target and, through an alias, at EL0. */
#include "config.h"

    .text
    .balign 4
/* A breakpoint is set on the NOP; the handler steps over it. */
    .globl  pmuprobe_bp_target
pmuprobe_bp_target:
    nop
    ret

/* At EL0: x0 = PMCCNTR_EL0, or 0xdead if the read trapped (and was stepped over). */
    .globl  pmuprobe_el0_read_ccntr
pmuprobe_el0_read_ccntr:
    mov     x0, #0xdead
    mrs     x0, pmccntr_el0
    svc     #EXCEPTION_SVC_EL0_DONE
