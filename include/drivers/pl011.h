/* pl011.h - Arm PL011 UART: polled transmit, interrupt-driven receive into a ring buffer. */
#ifndef DRIVERS_PL011_H
#define DRIVERS_PL011_H

#include <stdbool.h>
#include <stdint.h>

void pl011_init(uint64_t base_pa);
/* Route the receive interrupt (INTID) through the GIC; input arrives in the ring from then on. */
int pl011_enable_rx_irq(unsigned int intid);
void pl011_putc(char c);
/* Next received byte, or -1 if none is waiting. */
int pl011_getc_nonblock(void);
/* Sleep (the calling thread blocks) until the next byte is received. */
char pl011_getc(void);
uint64_t pl011_rx_dropped(void);
/* Received bytes go to hook (called in interrupt context) instead of the ring; NULL: the ring. */
void pl011_set_rx_hook(void (*hook)(char c));

#endif
