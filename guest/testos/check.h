/* check.h - TestOS's self-check bookkeeping: count passes, report the first failure and stop. */
#ifndef TESTOS_CHECK_H
#define TESTOS_CHECK_H

#include <stdarg.h>

#include "arch.h"

void check_pass(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void check_fail(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void check_vfail(const char *name, const char *fmt, va_list ap);
unsigned int check_count(void);
__attribute__((noreturn)) void check_power_off(void);

#endif
