/* printk.c - formatted kernel output to the console device, serialised between CPUs. */
#include <stdbool.h>

#include "kernel/console.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/printf.h"

static spinlock_t console_lock = SPINLOCK_INIT;
static volatile bool panic_mode;

static void console_sink(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            console_putc('\r');
        console_putc(s[i]);
    }
}

void console_enter_panic_mode(void)
{
    panic_mode = true;
}

void console_write(const char *s, size_t n)
{
    if (panic_mode) {
        console_sink(NULL, s, n);
        return;
    }
    unsigned long flags = spin_lock_irqsave(&console_lock);
    console_sink(NULL, s, n);
    spin_unlock_irqrestore(&console_lock, flags);
}

int kvprintf(const char *fmt, va_list ap)
{
    int n;

    if (panic_mode)
        return vcbprintf(console_sink, NULL, fmt, ap);
    /* One lock over the whole message keeps lines from different CPUs apart. */
    unsigned long flags = spin_lock_irqsave(&console_lock);
    n = vcbprintf(console_sink, NULL, fmt, ap);
    spin_unlock_irqrestore(&console_lock, flags);
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
