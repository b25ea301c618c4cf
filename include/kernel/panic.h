/* panic.h - fatal errors: print a report, stop every CPU. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include "arch/trap.h"

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Report an unexpected exception with its syndrome, registers and backtrace, then stop. */
void panic_trap(struct trap_frame *tf, unsigned int vector, const char *why)
    __attribute__((noreturn));

#define BUG_ON(cond)                                                                               \
    do {                                                                                           \
        if (cond)                                                                                  \
            panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);                               \
    } while (0)

#endif
