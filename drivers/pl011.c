/* pl011.c - Arm PL011 UART driver (PrimeCell UART TRM DDI 0183). */
#include "drivers/pl011.h"
#include "arch/memlayout.h"
#include "arch/mmio.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "hw/pl011.h"
#include "kernel/console.h"
#include "kernel/wait.h"

#define RX_RING_SIZE 1024 /* power of two */

static uintptr_t uart_base;

/* Single producer (the IRQ handler) and single consumer (the console reader). */
static struct {
    char buf[RX_RING_SIZE];
    volatile uint32_t head; /* written by the IRQ handler */
    volatile uint32_t tail; /* written by the reader */
    volatile uint64_t dropped;
} rx;

/* The reader sleeps here until the IRQ handler has put a byte in the ring. */
static struct wait_queue rx_wait = WAIT_QUEUE_INIT(rx_wait);
/* While set, received bytes go to it (the terminal of a user session) instead of the ring. */
static void (*rx_hook)(char c);

static const struct console_ops pl011_console_ops = {
    .putc = pl011_putc,
    .getc_nonblock = pl011_getc_nonblock,
    .set_rx_hook = pl011_set_rx_hook,
};

/* Also makes the UART the console: printk and the terminal reach it through console_ops. */
void pl011_init(uint64_t base_pa)
{
    uart_base = (uintptr_t)phys_to_virt(base_pa);
    /* 8 bits, FIFOs on; enable UART, TX and RX. The baud rate is the firmware's (or QEMU's). */
    mmio_write32(uart_base + PL011_LCR_H, PL011_LCR_H_WLEN_8 | PL011_LCR_H_FEN);
    mmio_write32(uart_base + PL011_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE);
    console_register(&pl011_console_ops);
}

void pl011_putc(char c)
{
    if (!uart_base)
        return;
    while (mmio_read32(uart_base + PL011_FR) & PL011_FR_TXFF)
        ;
    mmio_write32(uart_base + PL011_DR, (uint8_t)c);
}

static void pl011_irq(unsigned int intid, void *arg)
{
    (void)intid;
    (void)arg;
    /*
     * Acknowledge first, then drain: a byte that lands after the last read raises the interrupt
     * again. Clearing after the drain could drop that edge and leave the byte (and every byte
     * behind it) in the FIFO with no interrupt to fetch it.
     */
    mmio_write32(uart_base + PL011_ICR, PL011_INT_RX | PL011_INT_RT);
    while (!(mmio_read32(uart_base + PL011_FR) & PL011_FR_RXFE)) {
        char c = (char)mmio_read32(uart_base + PL011_DR);
        uint32_t head = rx.head;
        void (*hook)(char) = __atomic_load_n(&rx_hook, __ATOMIC_ACQUIRE);

        if (hook) {
            hook(c);
            continue;
        }
        if (head - rx.tail >= RX_RING_SIZE) {
            rx.dropped++;
            continue;
        }
        rx.buf[head & (RX_RING_SIZE - 1)] = c;
        __atomic_store_n(&rx.head, head + 1, __ATOMIC_RELEASE);
    }
    wait_wake_all(&rx_wait);
}

int pl011_enable_rx_irq(unsigned int intid)
{
    int err = irq_register(intid, pl011_irq, NULL);

    if (err)
        return err;
    mmio_write32(uart_base + PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
    return 0;
}

int pl011_getc_nonblock(void)
{
    uint32_t tail = rx.tail;

    if (__atomic_load_n(&rx.head, __ATOMIC_ACQUIRE) == tail)
        return -1;
    char c = rx.buf[tail & (RX_RING_SIZE - 1)];
    __atomic_store_n(&rx.tail, tail + 1, __ATOMIC_RELEASE);
    return (unsigned char)c;
}

char pl011_getc(void)
{
    int c;

    wait_event(&rx_wait, (c = pl011_getc_nonblock()) >= 0);
    return (char)c;
}

void pl011_set_rx_hook(void (*hook)(char c))
{
    __atomic_store_n(&rx_hook, hook, __ATOMIC_RELEASE);
}

uint64_t pl011_rx_dropped(void)
{
    return rx.dropped;
}
