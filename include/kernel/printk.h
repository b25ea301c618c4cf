/* printk.h - kernel console output. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
void console_write(const char *s, size_t n);
/* After a panic: write without taking the console lock (its holder may be dead). */
void console_enter_panic_mode(void);

#endif
