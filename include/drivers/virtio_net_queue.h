/* virtio_net_queue.h - the NIC driver's receive and transmit rings: one preallocated buffer per
 * descriptor, frames copied in and out (pure ring bookkeeping, host-tested). */
#ifndef DRIVERS_VIRTIO_NET_QUEUE_H
#define DRIVERS_VIRTIO_NET_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_mmio.h"

/* Ethernet II without the FCS, as the switch carries it: header and at most 1500 payload bytes. */
#define VNET_FRAME_MIN 14u
#define VNET_FRAME_MAX 1514u
/* One buffer holds the virtio-net header and one whole frame; a power of two, so none straddles
 * a page. */
#define VNET_BUF_BYTES 2048u

/*
 * The header before every frame (virtio 1.1 §5.1.6): 12 bytes with VERSION_1 (num_buffers is always
 * there), 10 bytes for a legacy device without VIRTIO_NET_F_MRG_RXBUF. No offloads are negotiated,
 * so a transmitted header is all zeros and a received one carries nothing the driver needs.
 */
#define VNET_HDR_BYTES        12u
#define VNET_HDR_BYTES_LEGACY 10u

/**
 * One queue of the NIC with its buffers: buffer i belongs to descriptor i, and every chain is that
 * one descriptor. Protected by the driver's lock for this queue.
 */
struct vnet_queue {
    struct virtq vq;
    uint8_t *buf;       /* vq.size buffers of VNET_BUF_BYTES, driver's view */
    uint64_t buf_pa;    /* the same, device's view */
    unsigned hdr_bytes; /* VNET_HDR_BYTES or VNET_HDR_BYTES_LEGACY */
    uint64_t frames, bytes;
    uint64_t dropped; /* rx: frames of a length the switch does not carry; tx: ring full */
    uint64_t bad_len; /* tx: frames of a length outside VNET_FRAME_MIN..VNET_FRAME_MAX */
};

/** A received frame, inside its queue's buffer until vnet_rx_refill() gives that back. */
struct vnet_rx_frame {
    const uint8_t *data;
    size_t len;
};

/* Bind buffers (vq.size * VNET_BUF_BYTES bytes at buf / buf_pa) to the set-up virtqueue q->vq. */
void vnet_queue_init(struct vnet_queue *q, uint8_t *buf, uint64_t buf_pa, unsigned hdr_bytes);
/* Post a free buffer on every free descriptor; returns how many were posted. */
unsigned vnet_rx_refill(struct vnet_queue *q);
/*
 * Take the next received frame: 1 with *out, 0 if none, -EIO if the device reported nonsense (the
 * queue must then be given up). A frame of a length outside VNET_FRAME_MIN..VNET_FRAME_MAX is
 * counted in dropped and skipped.
 */
int vnet_rx_next(struct vnet_queue *q, struct vnet_rx_frame *out);
/*
 * Copy a frame into a free buffer and publish it (no notification): 0, -EINVAL for a bad length,
 * -ENOSPC when every buffer is still with the device (both counted), -EIO for a broken ring.
 */
int vnet_tx_add(struct vnet_queue *q, const void *frame, size_t len);
/* Take back every buffer the device has finished sending: how many, or -EIO. */
int vnet_tx_reclaim(struct vnet_queue *q);

#endif
