/* console.c - the console seam: printk and the terminal reach the UART driver through its ops. */
#include "kernel/console.h"

#include <stddef.h>

/* Set once at start-up (console_register), read-only afterwards. */
static const struct console_ops *console_ops;

void console_register(const struct console_ops *ops)
{
    console_ops = ops;
}

void console_putc(char c)
{
    if (console_ops)
        console_ops->putc(c);
}

int console_getc_nonblock(void)
{
    return console_ops ? console_ops->getc_nonblock() : -1;
}

void console_set_rx_hook(void (*hook)(char c))
{
    if (console_ops)
        console_ops->set_rx_hook(hook);
}
