/* exception.h - TestOS exception handling: the saved frame, interrupt handlers, test traps. */
#ifndef TESTOS_EXCEPTION_H
#define TESTOS_EXCEPTION_H

#include "arch.h"

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

typedef void (*irq_handler_fn)(struct frame *frame, unsigned int intid);

void exception_init(void);
void exception_set_irq_handler(unsigned int intid, irq_handler_fn fn);
uint64_t exception_svc_count(void);
uint64_t exception_brk_count(void);
void exception_dispatch(struct frame *frame, uint64_t kind);

#endif
