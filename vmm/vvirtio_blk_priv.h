/* vvirtio_blk_priv.h - what the virtio-blk model's files share (vmm/vvirtio_blk*.c only). */
#ifndef VMM_VVIRTIO_BLK_PRIV_H
#define VMM_VVIRTIO_BLK_PRIV_H

#include <stdint.h>

#include "vmm/vvirtio_blk.h"

/* Feature bits (virtio 1.2, 5.2.3 and 6). */
#define VVIRTIO_BLK_F_SEG_MAX  (1ull << 2)
#define VVIRTIO_BLK_F_RO       (1ull << 5)
#define VVIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VVIRTIO_BLK_F_FLUSH    (1ull << 9)
#define VVIRTIO_F_VERSION_1    (1ull << 32)

/*
 * What one processing pass works from: the queue as the lock-holder saw it, and the ring positions
 * the pass advances. gen tells whether the queue was reset or re-enabled since.
 */
struct vvirtio_blk_vq {
    uint64_t desc, avail, used;
    uint32_t num;
    uint64_t features; /* negotiated */
    uint16_t last_avail, used_idx;
    uint32_t gen;
};

/*
 * Take every buffer the driver has made available (at most q->num), answer it and return it
 * through the used ring. Called unlocked by the CPU that set d->busy.
 */
void vvirtio_blk_queue_run(struct vvirtio_blk *d, struct vvirtio_blk_vq *q);

/*
 * One buffer has gone to the used ring: record q's ring positions and interrupt the driver. False
 * if the queue was reset or disabled since q was taken, so the pass must stop.
 */
bool vvirtio_blk_queue_used(struct vvirtio_blk *d, const struct vvirtio_blk_vq *q);

/* The rings themselves are unusable: set DEVICE_NEEDS_RESET (2.1.2) unless q is stale. */
void vvirtio_blk_queue_broken(struct vvirtio_blk *d, const struct vvirtio_blk_vq *q);

#endif
