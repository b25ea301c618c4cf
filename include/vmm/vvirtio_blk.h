/* vvirtio_blk.h - an emulated virtio-blk device on virtio-mmio version 2 (virtio 1.2, 4.2, 5.2). */
#ifndef VMM_VVIRTIO_BLK_H
#define VMM_VVIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"

/* The MMIO window: registers at 0x000-0x0ff, the device configuration from 0x100 (4.2.2). */
#define VVIRTIO_BLK_WINDOW_SIZE 0x200
/* The request queue's largest size (QueueNumMax); the driver may pick any smaller power of 2. */
#define VVIRTIO_BLK_QUEUE_MAX 128
/* Data moves between guest RAM and the disk through this much of a buffer at a time. */
#define VVIRTIO_BLK_BOUNCE_SIZE 4096
/* The GET_ID answer: VIRTIO_BLK_ID_BYTES (5.2.6), NUL-padded. */
#define VVIRTIO_BLK_SERIAL "avatar-vblk"

/*
 * Where the device's effects leave it; every callback is called without the device's lock held and
 * must not call back into the same device. All are required.
 * mem_read/mem_write: len bytes of guest RAM at ipa; 0, or -EFAULT if any of [ipa, ipa + len) is
 * not guest RAM (the device hands them any address the guest wrote, unchecked).
 * disk_read/disk_write: len bytes at byte offset; 0 or -errno. The device only asks for ranges
 * inside the capacity, and never writes a read-only disk. disk_flush: make writes durable.
 * These four may block: they run in the thread of the vCPU that wrote QueueNotify.
 * set_irq: the interrupt line (InterruptStatus != 0) changed; calls for one device never overlap
 * and come in the order the line changed.
 */
struct vvirtio_blk_ops {
    int (*mem_read)(void *ctx, uint64_t ipa, void *buf, size_t len);
    int (*mem_write)(void *ctx, uint64_t ipa, const void *buf, size_t len);
    int (*disk_read)(void *ctx, uint64_t offset, void *buf, size_t len);
    int (*disk_write)(void *ctx, uint64_t offset, const void *buf, size_t len);
    int (*disk_flush)(void *ctx);
    void (*set_irq)(void *ctx, bool level);
};

/* A split-virtqueue descriptor as the device validated it (2.7.5), host byte order. */
struct vvirtio_blk_desc {
    uint64_t addr;
    uint32_t len;
    bool writable;
};

/**
 * One guest's virtio-blk device. ops, ctx, capacity, read_only and config are fixed after init;
 * lock protects the fields from status to busy. One CPU at a time processes the queue (the one
 * that set busy), unlocked, and owns chain and bounce meanwhile.
 */
struct vvirtio_blk {
    const struct vvirtio_blk_ops *ops;
    void *ctx;
    uint64_t capacity; /* in 512-byte sectors */
    bool read_only;
    uint8_t config[24]; /* struct virtio_blk_config up to blk_size, little-endian (5.2.4) */
    spinlock_t lock;
    uint32_t status; /* device status (2.1) */
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    uint64_t driver_features;
    uint32_t queue_num;
    bool queue_ready;
    uint64_t queue_desc, queue_driver, queue_device; /* descriptor table, avail ring, used ring */
    uint16_t last_avail;                             /* the next avail ring slot to take */
    uint16_t used_idx;                               /* our copy of used->idx */
    uint32_t int_status;                             /* InterruptStatus */
    uint32_t gen;      /* bumped by reset and QueueReady: a processing pass's snapshot is stale */
    bool irq_line;     /* the level last passed to set_irq */
    bool irq_busy;     /* a CPU is in set_irq and re-checks the level before it stops */
    bool notify_again; /* QueueNotify was written while busy: the busy CPU makes another pass */
    bool busy;         /* a CPU is processing the queue */
    struct vvirtio_blk_desc chain[VVIRTIO_BLK_QUEUE_MAX];
    uint8_t bounce[VVIRTIO_BLK_BOUNCE_SIZE];
};

/*
 * Bind ops/ctx and reset. capacity_bytes is rounded down to whole 512-byte sectors; read_only
 * offers VIRTIO_BLK_F_RO and fails writes. The line is taken to be low, set_irq is not called.
 */
void vvirtio_blk_init(struct vvirtio_blk *d, uint64_t capacity_bytes, bool read_only,
                      const struct vvirtio_blk_ops *ops, void *ctx);
/* Back to the initial state, as a write of 0 to Status does; lowers the line if it was up. */
void vvirtio_blk_reset(struct vvirtio_blk *d);

/*
 * A guest access at offset of the window: registers (below 0x100) 32-bit aligned, the device
 * configuration 8, 16 or 32-bit naturally aligned (4.2.2.2). 0, or -EINVAL for any other size,
 * misalignment or an offset past the window (the caller stops the guest). Unknown registers read
 * as zero and ignore writes. A write of QueueNotify processes the queue before it returns.
 */
int vvirtio_blk_read(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t *val);
int vvirtio_blk_write(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t val);

#endif
