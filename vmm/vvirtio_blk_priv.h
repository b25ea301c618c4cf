/* vvirtio_blk_priv.h - what the virtio-blk model's files share (vmm/vvirtio_blk*.c only). */
#ifndef VMM_VVIRTIO_BLK_PRIV_H
#define VMM_VVIRTIO_BLK_PRIV_H

#include <stdint.h>

#include "lib/virtio.h"

#include "vmm/vvirtio_blk.h"

/* The feature bits the model offers, as masks of the 64-bit feature word. */
#define VVIRTIO_BLK_F_SEG_MAX  (1ull << VIRTIO_BLK_F_SEG_MAX)
#define VVIRTIO_BLK_F_RO       (1ull << VIRTIO_BLK_F_RO)
#define VVIRTIO_BLK_F_BLK_SIZE (1ull << VIRTIO_BLK_F_BLK_SIZE)
#define VVIRTIO_BLK_F_FLUSH    (1ull << VIRTIO_BLK_F_FLUSH)
#define VVIRTIO_F_VERSION_1    (1ull << VIRTIO_F_VERSION_1)

/* vvirtio_blk.c: the lock, and what the queue code needs of the register state. */
unsigned long vvirtio_blk_lock(struct vvirtio_blk *d);
/* Release the lock and bring the line to InterruptStatus != 0 (set_irq, unlocked). */
void vvirtio_blk_unlock_sync(struct vvirtio_blk *d, unsigned long flags);
/* Locked: the driver is live, the queue enabled, no reset pending (3.1.1). */
bool vvirtio_blk_queue_live(const struct vvirtio_blk *d);
/* Locked: set DEVICE_NEEDS_RESET (2.1.2) and say so by interrupt once the driver is live. */
void vvirtio_blk_needs_reset(struct vvirtio_blk *d);

/* vvirtio_blk_queue.c: the split virtqueue in guest RAM (2.7). */
/* Copy between guest RAM at ipa and buf: 0, or -EFAULT if any byte is not guest RAM. */
int vvirtio_blk_copy_from(struct vvirtio_blk *d, uint64_t ipa, void *buf, uint64_t len);
int vvirtio_blk_copy_to(struct vvirtio_blk *d, uint64_t ipa, const void *buf, uint64_t len);
/*
 * Take the next available buffer into d->req (kind NEW, or ANSWER when its chain is malformed):
 * true; false when there is none, the queue is not live, or the rings are unusable (then the
 * device needs a reset).
 */
bool vvirtio_blk_take(struct vvirtio_blk *d);
/* Whether d->req was taken since the last reset or QueueReady change. */
bool vvirtio_blk_req_current(struct vvirtio_blk *d);
/* Write d->req's status and return it through the used ring, unless it is stale; it is done. */
void vvirtio_blk_answer(struct vvirtio_blk *d);

#endif
