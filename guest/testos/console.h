/* console.h - TestOS's console: PL011 output and interrupt-driven input, printf, a line lock. */
#ifndef TESTOS_CONSOLE_H
#define TESTOS_CONSOLE_H

#include <stdarg.h>

#include "arch.h"

/* QEMU virt's PL011: used until the DTB names the UART, and in the NimbOS-like build. */
#define CONSOLE_FALLBACK_BASE 0x09000000UL

void console_set_base(uintptr_t base);
void console_putc(char c);
int console_getc(void);
bool console_rx_pending(void);
void console_rx_start(unsigned int intid);
int console_rx_pop(void);
volatile uint32_t *console_rx_irq_count(void);

void console_lock(void);
void console_unlock(void);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_printf_unlocked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vprintf_unlocked(const char *fmt, va_list ap);

#endif
