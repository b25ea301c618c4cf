/* console.h - the console device: its driver registers ops at start-up, the core calls through
 * them. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

/** What a console driver provides. */
struct console_ops {
    /* Send one byte, polled: it runs with interrupts masked and after a panic. */
    void (*putc)(char c);
    /* The next received byte, or -1 if none is waiting. */
    int (*getc_nonblock)(void);
    /* Received bytes go to hook (in interrupt context) instead of the driver's buffer; NULL: back.
     */
    void (*set_rx_hook)(void (*hook)(char c));
};

/* Make ops the console; called by the driver at start-up, before a second CPU runs. */
void console_register(const struct console_ops *ops);
/* The registered console's operations; without one output is dropped and there is no input. */
void console_putc(char c);
int console_getc_nonblock(void);
void console_set_rx_hook(void (*hook)(char c));

#endif
