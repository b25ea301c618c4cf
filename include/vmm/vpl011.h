/* vpl011.h - an emulated ARM PL011 UART (PL011 TRM r1p5) as a guest sees it through MMIO traps. */
#ifndef VMM_VPL011_H
#define VMM_VPL011_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"
#include "vmm/virq_line.h"

/* The r1p5 receive FIFO depth (TRM 2.4.3). */
#define VPL011_RX_FIFO_DEPTH 32

/*
 * Where the UART's effects leave it. Both are called without the UART's lock held, so they may take
 * other locks (the console's, the vGIC's); they must not call back into the same vpl011.
 * tx: the guest wrote a byte to DR. set_irq: the interrupt line (UARTINTR = MIS != 0) changed;
 * calls for one UART never overlap and come in the order the line changed.
 */
struct vpl011_ops {
    void (*tx)(void *ctx, uint8_t byte);
    void (*set_irq)(void *ctx, bool level);
};

/**
 * One guest's UART. lock protects every field below it; ops and ctx are fixed after init.
 * Transmission is instant, so there is no TX FIFO: only the receive side has state.
 */
struct vpl011 {
    const struct vpl011_ops *ops;
    void *ctx;
    spinlock_t lock;
    uint8_t rx_fifo[VPL011_RX_FIFO_DEPTH];
    unsigned rx_head;  /* index of the oldest byte */
    unsigned rx_count; /* bytes in the FIFO; stored atomically, as FR reads it without the lock */
    uint32_t rsr;      /* receive status: only OE (loopback overrun) can be set */
    uint32_t ris_oe;   /* the latched overrun interrupt (RIS.OERIS) */
    uint32_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr;
    struct virq_line irq; /* UARTINTR */
};

/* Bind ops/ctx and reset; the line is taken to be low, set_irq is not called. */
void vpl011_init(struct vpl011 *u, const struct vpl011_ops *ops, void *ctx);
/* Registers to their reset values (TRM 3.2), FIFO emptied; lowers the line if it was up. */
void vpl011_reset(struct vpl011 *u);

/*
 * A guest access at offset (0..0xfff) of the 4 KiB window, size 1, 2 or 4 bytes, naturally
 * aligned: 0, or -EINVAL for any other size, misalignment or an offset past the window (the caller
 * stops the guest). Unknown offsets read as zero and ignore writes.
 */
int vpl011_read(struct vpl011 *u, uint64_t offset, unsigned size, uint64_t *val);
int vpl011_write(struct vpl011 *u, uint64_t offset, unsigned size, uint64_t val);

/* Queue received bytes: returns how many of buf[0..n) fit; the caller retries or drops the rest. */
size_t vpl011_rx_push(struct vpl011 *u, const uint8_t *buf, size_t n);
/* Bytes vpl011_rx_push would accept now. */
size_t vpl011_rx_space(struct vpl011 *u);

#endif
