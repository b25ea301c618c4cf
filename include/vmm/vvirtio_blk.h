/* vvirtio_blk.h - an emulated virtio-blk device on virtio-mmio version 2 (virtio 1.2, 4.2, 5.2). */
#ifndef VMM_VVIRTIO_BLK_H
#define VMM_VVIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"
#include "vmm/virq_line.h"

/* The MMIO window: registers at 0x000-0x0ff, the device configuration from 0x100 (4.2.2). */
#define VVIRTIO_BLK_WINDOW_SIZE 0x200
/* The request queue's largest size (QueueNumMax); the driver may pick any smaller power of 2. */
#define VVIRTIO_BLK_QUEUE_MAX 128
/*
 * One vvirtio_blk_step() moves at most this much data: large enough that the disk sees large
 * requests, small enough that the worker soon notices a stop or a reset between two steps.
 */
#define VVIRTIO_BLK_STEP_SIZE (1u << 20)
/* The GET_ID answer: VIRTIO_BLK_ID_BYTES (5.2.6), NUL-padded. */
#define VVIRTIO_BLK_SERIAL "avatar-vblk"

/*
 * Where the device's effects leave it; every callback is called without the device's lock held
 * (map excepted) and must not call back into the same device. All are required.
 * map: the host address of the guest RAM byte at ipa, and in *contiguous how many bytes from
 * there (1 to len) are guest RAM at consecutive host addresses; NULL if ipa is not guest RAM. The
 * device hands it any address the guest wrote, and touches only bytes map gave it. It must not
 * sleep: it is called under the device's lock too. Guest RAM stays put while the device exists.
 * disk_read/disk_write: len bytes at byte offset between the disk and buf, which is guest RAM from
 * map; 0 or -errno. The device only asks for ranges inside the capacity, and never writes a
 * read-only disk. disk_flush: make writes durable. These three may block: they are called only
 * from vvirtio_blk_step(), in the worker's thread.
 * set_irq: the interrupt line (InterruptStatus != 0) changed; calls for one device never overlap
 * and come in the order the line changed.
 * notify: the driver has made buffers available: vvirtio_blk_step() has work (wake the worker).
 * Called from the guest's MMIO write: it must not block.
 */
struct vvirtio_blk_ops {
    void *(*map)(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous);
    int (*disk_read)(void *ctx, uint64_t offset, void *buf, size_t len);
    int (*disk_write)(void *ctx, uint64_t offset, const void *buf, size_t len);
    int (*disk_flush)(void *ctx);
    void (*set_irq)(void *ctx, bool level);
    void (*notify)(void *ctx);
};

/* A split-virtqueue descriptor as the device validated it (2.7.5), host byte order. */
struct vvirtio_blk_desc {
    uint64_t addr;
    uint32_t len;
    bool writable;
};

/* What a request still has to do before it is answered. */
enum vvirtio_blk_req_kind {
    VVIRTIO_BLK_REQ_NEW,    /* taken from the ring, header not read yet */
    VVIRTIO_BLK_REQ_DATA,   /* IN or OUT: left bytes to move from cur/offset on */
    VVIRTIO_BLK_REQ_FLUSH,  /* FLUSH, or an OUT whose data is written but must be made durable */
    VVIRTIO_BLK_REQ_GET_ID, /* the serial to write */
    VVIRTIO_BLK_REQ_ANSWER, /* nothing: status holds the answer */
};

/*
 * The request the worker is carrying out, kept between steps. Buffers are framed freely (2.7.4,
 * VERSION_1 implies ANY_LAYOUT): the device-readable descriptors chain[0, n_out) form one byte
 * stream (header, then OUT data) and the writable ones chain[n_out, n) another (IN data), less the
 * status, which is the last byte of the chain.
 */
struct vvirtio_blk_req {
    bool active;
    uint32_t gen; /* the device's gen when it was taken: a change drops it */
    uint16_t head;
    unsigned n_out, n;
    uint64_t out_len, in_len; /* bytes in each stream; in_len leaves out the status byte */
    bool has_status;          /* the last descriptor is writable and its last byte is guest RAM */
    uint64_t status_addr;
    bool write_through; /* FLUSH was not negotiated: an OUT is durable before it is answered */
    enum vvirtio_blk_req_kind kind;
    uint8_t status;   /* the answer, once kind is ANSWER */
    bool write;       /* data: OUT (the readable stream to the disk), else IN */
    unsigned cur;     /* data: the descriptor the next step starts in, */
    uint32_t cur_off; /* and how far into it */
    uint64_t offset;  /* data: the disk byte offset of the next step */
    uint64_t left;    /* data: bytes still to move */
};

/**
 * One guest's virtio-blk device. ops, ctx, capacity, read_only and config are fixed after init;
 * lock protects the fields from status to work_pending. req and chain belong to the worker, the
 * one thread that calls vvirtio_blk_step().
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
    uint32_t gen;         /* bumped by reset and QueueReady: the worker's request is stale */
    struct virq_line irq; /* InterruptStatus != 0 */
    bool work_pending;    /* QueueNotify came since the worker last looked at the avail ring */
    struct vvirtio_blk_req req;
    struct vvirtio_blk_desc chain[VVIRTIO_BLK_QUEUE_MAX];
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
 * as zero and ignore writes. Bounded work that never blocks: a write of QueueNotify only records
 * it and calls notify; the requests are served by vvirtio_blk_step().
 */
int vvirtio_blk_read(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t *val);
int vvirtio_blk_write(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t val);

/*
 * The worker's side. One step: take the next available request if none is in progress, then carry
 * it on by at most VVIRTIO_BLK_STEP_SIZE bytes of data (or its one flush), and answer it through
 * the used ring once it is done. True if there may be more to do (call again), false when the
 * ring is empty or the queue unusable: then wait for vvirtio_blk_notified(). A reset or a change
 * of QueueReady drops the request in progress unanswered. Only one thread may call it.
 */
bool vvirtio_blk_step(struct vvirtio_blk *d);
/* Whether QueueNotify came since the worker last looked at the avail ring (its wait condition). */
bool vvirtio_blk_notified(struct vvirtio_blk *d);

#endif
