/* exception.h - TestOS exception handling: the saved frame, interrupt handlers, test traps. */
#ifndef TESTOS_EXCEPTION_H
#define TESTOS_EXCEPTION_H

#include "arch.h"
#include "config.h"

/** The registers vectors.S saves, and the counter it read on entry (layout in config.h). */
struct frame {
    uint64_t x[31];
    uint64_t elr;
    uint64_t spsr;
    uint64_t stamp;
};

/* The immediates the vectors check uses; any other SVC or BRK is a fatal exception. */
#define EXCEPTION_SVC_ECHO 0x7e5
#define EXCEPTION_BRK_SKIP 0x7e6

#define IRQ_MAX 128

/** A synchronous exception caught while catching is on (exception_catch). */
struct exception_caught {
    unsigned int count;
    uint64_t esr, elr;
    bool lower; /* taken from EL0 */
};

typedef void (*irq_handler_fn)(struct frame *frame, unsigned int intid);

void exception_init(void);
void exception_set_irq_handler(unsigned int intid, irq_handler_fn fn);
uint64_t exception_svc_count(void);
uint64_t exception_brk_count(void);
void exception_dispatch(struct frame *frame, uint64_t kind);
/*
 * Catching on: a synchronous exception other than the vectors check's SVC/BRK (an UNDEF, a
 * breakpoint, a watchpoint, a trapped EL0 access) is recorded in *c and the instruction it
 * happened at is skipped, instead of failing the run. NULL: off. Boot CPU only.
 */
void exception_catch(struct exception_caught *c);
/* Run the code at el0_pc (an EL0-executable alias, pmuprobe.c) at EL0 until it makes
 * SVC #EXCEPTION_SVC_EL0_DONE; returns its x0. */
uint64_t exception_el0_call(uint64_t el0_pc);

#endif
