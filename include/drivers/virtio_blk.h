/* virtio_blk.h - virtio block devices (virtio 1.1 §5.2) on virtio-mmio, each a struct blockdev. */
#ifndef DRIVERS_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "block/blockdev.h"
#include "drivers/virtio_mmio.h" /* the transport facts; the feature bits */

#define VIRTIO_BLK_MAX_DISKS 8

/** A disk as `blk info` shows it. */
struct virtio_blk_info {
    char name[8]; /* "vda", "vdb", ... */
    struct virtio_mmio_info dev;
    uint64_t nsectors;
    uint32_t sector_size;
    uint32_t max_request_bytes; /* larger transfers are split */
    unsigned queue_size;
    unsigned slots; /* requests that can be in flight at once */
    bool read_only;
    bool broken;            /* the device misbehaved and was disabled */
    uint64_t requests;      /* requests completed */
    uint64_t errors;        /* requests that failed */
    unsigned max_in_flight; /* most requests the device held at once */
    uint64_t interrupts;    /* completion interrupts taken */
};

/*
 * Find every virtio-blk device in the device tree, initialise it, register it with the block
 * layer (which caches it) and print one line per disk. Returns the number of disks.
 */
int virtio_blk_probe_all(void);
int virtio_blk_count(void);
int virtio_blk_info(int index, struct virtio_blk_info *out);
/*
 * The batch interface (blockdev_submit_fn) of a raw disk: start all transfers, then wait for
 * all. Each status: 0, -EIO (device error or a disabled device), -EROFS, -EFAULT (buffer not in
 * RAM) or -EINVAL (out of range).
 */
int virtio_blk_submit(struct blockdev *bd, struct blockdev_io *ios, unsigned n);

#endif
