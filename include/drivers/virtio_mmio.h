/* virtio_mmio.h - virtio-mmio transport (version 2 and legacy version 1) and split virtqueues. */
#ifndef DRIVERS_VIRTIO_MMIO_H
#define DRIVERS_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/virtio.h" /* device IDs, feature bits, descriptor flags */

/** One virtio-mmio device slot. Written only during initialisation. */
struct virtio_mmio {
    uintptr_t base; /* register window, kernel VA */
    uint64_t pa;
    uint64_t size;
    int irq;
    uint32_t version; /* 1 legacy, 2 modern */
    uint32_t device_id;
    uint32_t vendor_id;
    uint64_t features; /* negotiated */
};

/** A device as its driver's status report shows it (virtio_mmio_describe). */
struct virtio_mmio_info {
    uint64_t pa; /* register window */
    int irq;
    uint32_t version;  /* virtio-mmio 1 (legacy) or 2 */
    uint64_t features; /* negotiated */
};

/** Split-ring layout shared with the device (virtio 1.1 §2.6). */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* The most descriptors one queue gets: enough for dozens of requests in flight. */
#define VIRTQ_MAX_SIZE 128

/** One buffer of a descriptor chain, as the driver hands it over. */
struct virtq_buf {
    uint64_t pa;
    uint32_t len;
    bool device_writes;
};

/**
 * A split virtqueue. The ring memory is shared with the device; everything else is the driver's
 * own record, so a device that scribbles over the rings cannot mislead the bookkeeping.
 * All fields are protected by the owning driver's lock.
 */
struct virtq {
    unsigned index;
    uint16_t size; /* descriptors, a power of two */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint64_t ring_pa;
    unsigned ring_order;
    uint16_t free_head; /* first free descriptor, chained through free_next */
    uint16_t num_free;
    uint16_t avail_idx; /* next avail->idx the driver publishes */
    uint16_t last_used; /* used->idx already consumed */
    uint16_t free_next[VIRTQ_MAX_SIZE];
    uint16_t chain_len[VIRTQ_MAX_SIZE];   /* descriptors of the chain headed here, 0: idle */
    uint32_t chain_write[VIRTQ_MAX_SIZE]; /* device-writable bytes of that chain */
};

/* Check the magic and version of the slot at pa; -ENODEV for an empty slot (device ID 0). */
int virtio_mmio_probe(struct virtio_mmio *dev, uint64_t pa, uint64_t size, int irq);
/* Reset, then ACKNOWLEDGE and DRIVER (virtio 1.1 §3.1.1 steps 1-3). */
int virtio_mmio_begin_init(struct virtio_mmio *dev);
/*
 * Accept the offered subset of wanted (plus VERSION_1 on a version 2 device, where it is
 * required) and, on version 2, set FEATURES_OK and check the device kept it. The result is in
 * dev->features.
 */
int virtio_mmio_negotiate(struct virtio_mmio *dev, uint64_t wanted);
/* Allocate and register queue index with at most max_size descriptors. */
int virtio_mmio_queue_setup(struct virtio_mmio *dev, struct virtq *vq, unsigned index,
                            unsigned max_size);
void virtio_mmio_driver_ok(struct virtio_mmio *dev);
/* Give up on the device: set FAILED after a reset, so it stops touching memory. */
void virtio_mmio_fail(struct virtio_mmio *dev);
/* The transport's facts about dev, for a driver's info call. */
struct virtio_mmio_info virtio_mmio_describe(const struct virtio_mmio *dev);
bool virtio_mmio_has_feature(const struct virtio_mmio *dev, unsigned bit);
/* Little-endian config-space reads at 4-byte aligned offsets (64-bit: consistent snapshot). */
uint32_t virtio_mmio_config_read32(struct virtio_mmio *dev, unsigned offset);
uint64_t virtio_mmio_config_read64(struct virtio_mmio *dev, unsigned offset);
/* Read InterruptStatus and acknowledge exactly those bits; returns them. */
uint32_t virtio_mmio_ack_interrupt(struct virtio_mmio *dev);

/*
 * Build a chain of n buffers (lengths already validated by the caller; zero lengths refused),
 * publish it in the available ring and return its head. -ENOSPC when descriptors run out.
 */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, uint16_t *head);
/* The descriptor the next virtq_add() will head its chain with, or -ENOSPC. */
int virtq_next_head(const struct virtq *vq);
/* Whether the device wants to be notified of new chains (it clears VIRTQ_USED_F_NO_NOTIFY). */
bool virtq_notify_needed(struct virtq *vq);
/* Ask the device for interrupts on this queue's completions, or to leave them out (a hint). */
void virtq_set_interrupts(struct virtq *vq, bool on);
/* Tell the device about newly published chains. */
void virtq_kick(struct virtio_mmio *dev, struct virtq *vq);
/*
 * Take one completed chain: 1 with *head and *len, 0 if none is pending, -EIO if the device
 * reported nonsense (unknown head, length past the chain's writable bytes, index run-away).
 */
int virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len);

#endif
