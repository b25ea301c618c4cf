/* vvirtio_net.h - an emulated virtio-net device on virtio-mmio version 2 (virtio 1.2, 4.2, 5.1). */
#ifndef VMM_VVIRTIO_NET_H
#define VMM_VVIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"
#include "vmm/vswitch.h"

/* The MMIO window: registers at 0x000-0x0ff, the device configuration from 0x100 (4.2.2). */
#define VVIRTIO_NET_WINDOW_SIZE 0x200
/* Each queue's largest size (QueueNumMax); the driver may pick any smaller power of 2. */
#define VVIRTIO_NET_QUEUE_MAX 256
#define VVIRTIO_NET_RXQ       0 /* receiveq1 (5.1.2) */
#define VVIRTIO_NET_TXQ       1 /* transmitq1 */
#define VVIRTIO_NET_QUEUES    2 /* no control queue: VIRTIO_NET_F_CTRL_VQ is not offered */
/* struct virtio_net_hdr with num_buffers, the header of every buffer once VERSION_1 (5.1.6). */
#define VVIRTIO_NET_HDR_SIZE 12u
/*
 * Descriptors the device walks for one frame: a transmit chain, or all the receive chains one
 * frame takes. More is treated as malformed, which bounds the work a guest can make one frame
 * cost (Linux uses at most MAX_SKB_FRAGS + 2 = 19 per chain without indirect descriptors).
 */
#define VVIRTIO_NET_DESC_MAX 64

/*
 * Where the device's effects leave it. All are required.
 * map: the host address of the guest RAM byte at ipa, and in *contiguous how many bytes from there
 * (1 to len) are guest RAM at consecutive host addresses; NULL if ipa is not guest RAM. The device
 * touches only bytes map gave it. Called under the device's lock (it must not sleep or take a lock
 * held while calling into the device). Guest RAM stays put while the device exists.
 * set_irq: the interrupt line (InterruptStatus != 0) changed; called without the device's lock,
 * calls for one device never overlap and come in the order the line changed.
 * send: one frame the guest transmitted (VSWITCH_FRAME_MIN..VSWITCH_FRAME_MAX bytes, valid during
 * the call), without the device's lock; flush: the end of a batch of sends.
 */
struct vvirtio_net_ops {
    void *(*map)(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous);
    void (*set_irq)(void *ctx, bool level);
    void (*send)(void *ctx, const void *frame, size_t len);
    void (*flush)(void *ctx);
};

/** One virtqueue's registers and the device's place in its rings. */
struct vvirtio_net_queue {
    uint32_t num;
    bool ready;
    uint64_t desc, avail, used; /* descriptor table, driver area, device area */
    uint16_t last_avail;        /* the next avail ring slot to take */
    uint16_t used_idx;          /* our copy of used->idx */
};

/**
 * What the device did with frames and buffers. Drops: tx_bad_desc, transmit chains whose
 * descriptors could not be trusted (an index past the table, a loop or more than
 * VVIRTIO_NET_DESC_MAX descriptors, a device-writable or indirect descriptor, a buffer outside
 * guest RAM); tx_bad_len, frames shorter than the header plus VSWITCH_FRAME_MIN or longer than
 * the header plus VSWITCH_FRAME_MAX; rx_no_buffer, frames
 * that found the receive queue not running or without enough buffers (nothing is taken from
 * it then); rx_bad_buffer, receive buffers given back unused (len 0) because they were malformed
 * as above or too small; ring_errors, times the rings themselves were unusable (the device then
 * sets DEVICE_NEEDS_RESET).
 */
struct vvirtio_net_stats {
    uint64_t tx_frames, rx_frames;
    uint64_t tx_bad_desc, tx_bad_len;
    uint64_t rx_no_buffer, rx_bad_buffer;
    uint64_t ring_errors;
};

/** Where a received frame goes in guest RAM: a piece of one receive buffer. */
struct vvirtio_net_seg {
    uint64_t addr;
    uint32_t len;
    uint16_t chain; /* which buffer (0 = the first taken for this frame) */
};

/**
 * One guest's virtio-net device. ops, ctx and mac are fixed after init. lock protects everything
 * from status to rx_segs; tx_buf and tx_heads belong to the thread that set tx_busy.
 */
struct vvirtio_net {
    const struct vvirtio_net_ops *ops;
    void *ctx;
    uint8_t mac[6];
    spinlock_t lock;
    uint32_t status; /* device status (2.1) */
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    uint64_t driver_features;
    struct vvirtio_net_queue q[VVIRTIO_NET_QUEUES];
    uint32_t int_status; /* InterruptStatus */
    uint32_t gen;        /* bumped by reset and QueueReady changes: a TX pass in flight is stale */
    bool irq_line;       /* the level last passed to set_irq */
    bool irq_busy;       /* a thread is in set_irq and re-checks the level before it stops */
    bool rx_irq_due;     /* frames were received since the last vvirtio_net_rx_flush */
    bool tx_busy;        /* a thread is serving the transmit queue */
    bool tx_pending;     /* a transmit notify came while it was: it goes round again */
    struct vvirtio_net_stats stats;
    struct vvirtio_net_seg rx_segs[VVIRTIO_NET_DESC_MAX];
    uint16_t rx_heads[VVIRTIO_NET_QUEUE_MAX];
    uint32_t rx_lens[VVIRTIO_NET_QUEUE_MAX];
    uint8_t tx_buf[VVIRTIO_NET_HDR_SIZE + VSWITCH_FRAME_MAX];
    uint16_t tx_heads[VVIRTIO_NET_QUEUE_MAX];
};

/* Bind ops/ctx, set the MAC and reset. The line is taken to be low, set_irq is not called. */
void vvirtio_net_init(struct vvirtio_net *d, const uint8_t mac[6],
                      const struct vvirtio_net_ops *ops, void *ctx);

/*
 * A guest access at offset of the window: registers (below 0x100) 32-bit aligned, the device
 * configuration 8, 16 or 32-bit naturally aligned (4.2.2.2). 0, or -EINVAL for any other size,
 * misalignment or an offset past the window (the caller stops the guest). A QueueNotify of the
 * transmit queue sends everything available there (ops->send each, then ops->flush once) and must
 * not be called with a lock the send path takes.
 */
int vvirtio_net_read(struct vvirtio_net *d, uint64_t offset, unsigned size, uint64_t *val);
int vvirtio_net_write(struct vvirtio_net *d, uint64_t offset, unsigned size, uint64_t val);

/*
 * The switch's side (struct vswitch_port_ops): copy one frame into the guest's receive buffers,
 * true if it went in, false if dropped (counted). Never blocks. The used buffer notification of a
 * received frame waits for vvirtio_net_rx_flush(), once per batch; buffers given back unused
 * (malformed) raise it at once, through set_irq.
 */
bool vvirtio_net_rx(struct vvirtio_net *d, const void *frame, size_t len);
void vvirtio_net_rx_flush(struct vvirtio_net *d);

/* A consistent copy of the counters. */
void vvirtio_net_get_stats(struct vvirtio_net *d, struct vvirtio_net_stats *out);

#endif
