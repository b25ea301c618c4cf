/* console.c - TestOS's console: a polled PL011 transmitter, receive interrupts, a small printf. */
#include "console.h"
#include "hw/pl011.h"
#include "exception.h"
#include "gic.h"
#include "smp.h"

#define RX_RING 256

static uintptr_t uart = CONSOLE_FALLBACK_BASE;

/* Received characters: the interrupt handler (boot CPU) produces, the boot CPU consumes. */
static char rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail, rx_irqs;

/* Whole lines from different CPUs must not interleave: the hypervisor's console mux prefixes
 * each line with the VM's name. The owner is recorded so a fatal report from inside a print on
 * the same CPU does not deadlock. */
static uint32_t lock_owner; /* 0 = free, else CPU index + 1 */
static uint32_t lock_depth; /* nesting on the owner CPU */

void console_set_base(uintptr_t base)
{
    uart = base;
}

void console_putc(char c)
{
    if (c == '\n')
        console_putc('\r');
    while (mmio_read32(uart + PL011_FR) & PL011_FR_TXFF)
        ;
    mmio_write32(uart + PL011_DR, (uint8_t)c);
}

/** The next received character, or -1 when the receive FIFO is empty. */
int console_getc(void)
{
    if (mmio_read32(uart + PL011_FR) & PL011_FR_RXFE)
        return -1;
    return mmio_read32(uart + PL011_DR) & 0xff;
}

bool console_rx_pending(void)
{
    return !(mmio_read32(uart + PL011_FR) & PL011_FR_RXFE);
}

/* Drain the receive FIFO into the ring (characters past a full ring are dropped). */
static void console_rx_irq(struct frame *frame, unsigned int intid)
{
    int c;

    (void)frame;
    (void)intid;
    while ((c = console_getc()) >= 0)
        if (rx_head - rx_tail < RX_RING)
            rx_ring[rx_head++ % RX_RING] = (char)c;
    mmio_write32(uart + PL011_ICR, PL011_INT_RX | PL011_INT_RT);
    __atomic_store_n(&rx_irqs, rx_irqs + 1, __ATOMIC_RELEASE);
}

/** Take input by interrupt from now on: the PL011's receive and receive-timeout interrupts. */
void console_rx_start(unsigned int intid)
{
    exception_set_irq_handler(intid, console_rx_irq);
    gic_enable_irq(intid);
    /* No ICR write first: input that is already waiting must raise the interrupt now. */
    mmio_write32(uart + PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
}

/** The next character the interrupt handler stored, or -1. */
int console_rx_pop(void)
{
    int c;

    irq_disable();
    c = rx_tail == rx_head ? -1 : (uint8_t)rx_ring[rx_tail++ % RX_RING];
    irq_enable();
    return c;
}

/** How many receive interrupts were taken (smp_wait_irq waits on it). */
volatile uint32_t *console_rx_irq_count(void)
{
    return &rx_irqs;
}

void console_lock(void)
{
    uint32_t me = smp_this_cpu()->index + 1;

    if (__atomic_load_n(&lock_owner, __ATOMIC_RELAXED) == me) {
        lock_depth++;
        return;
    }
    for (;;) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&lock_owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
    }
    lock_depth = 1;
}

void console_unlock(void)
{
    if (--lock_depth == 0)
        __atomic_store_n(&lock_owner, 0, __ATOMIC_RELEASE);
}

static void put_str(const char *s)
{
    while (*s)
        console_putc(*s++);
}

static void put_num(uint64_t v, unsigned int base, bool negative, unsigned int width, char pad)
{
    char buf[24];
    unsigned int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (negative)
        buf[n++] = '-';
    while (width > n) {
        console_putc(pad);
        width--;
    }
    while (n)
        console_putc(buf[--n]);
}

/** printf for %s %c %d %u %x %p with an optional '0', a width and 'l'/'ll'/'z'. */
void console_vprintf_unlocked(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            console_putc(*fmt);
            continue;
        }
        char pad = ' ';
        unsigned int width = 0;
        int longs = 0;

        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned int)(*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(s ? s : "(null)");
            break;
        }
        case 'c': console_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 10, false, width, pad);
            break;
        case 'x':
            put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 16, false, width, pad);
            break;
        case 'p':
            put_str("0x");
            put_num((uintptr_t)va_arg(ap, void *), 16, false, width, pad);
            break;
        case '%': console_putc('%'); break;
        default:
            console_putc('%');
            if (!*fmt)
                return;
            console_putc(*fmt);
        }
    }
}

void console_printf_unlocked(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    console_vprintf_unlocked(fmt, ap);
    va_end(ap);
}

/** printf as one uninterrupted piece of output. */
void console_printf(const char *fmt, ...)
{
    va_list ap;

    console_lock();
    va_start(ap, fmt);
    console_vprintf_unlocked(fmt, ap);
    va_end(ap);
    console_unlock();
}
