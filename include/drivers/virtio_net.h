/* virtio_net.h - the machine's own NIC: a virtio-net device (virtio 1.1 §5.1) on virtio-mmio. */
#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_mmio.h"

/*
 * Where received frames go. Both run in the NIC's interrupt handler with interrupts masked:
 * receive gets each frame (valid only during the call), batch_end follows the last of a batch.
 */
struct virtio_net_rx_ops {
    void (*receive)(void *ctx, const void *frame, size_t len);
    void (*batch_end)(void *ctx);
};

/** The NIC's state and counters, as a status command shows them. */
struct virtio_net_info {
    struct virtio_mmio_info dev;
    uint8_t mac[6];
    bool has_mac, broken;
    unsigned rx_size, tx_size; /* descriptors (= buffers) of each queue */
    uint64_t rx_frames, rx_bytes, rx_dropped;
    uint64_t tx_frames, tx_bytes, tx_dropped_full, tx_dropped_len;
    uint64_t tx_notifies, rx_notifies, interrupts;
};

struct virtio_net;

/*
 * Find and set up the first virtio-net device: its receive ring is filled and it is running, but
 * received frames wait until virtio_net_start(). NULL if there is none (silently) or it cannot be
 * used (with a message saying why).
 */
struct virtio_net *virtio_net_probe(void);
/* Deliver received frames to ops/ctx from now on (takes the NIC's interrupt): 0 or -errno. */
int virtio_net_start(struct virtio_net *n, const struct virtio_net_rx_ops *ops, void *ctx);
/*
 * Queue one frame (VNET_FRAME_MIN..VNET_FRAME_MAX bytes, copied) for sending, without telling the
 * device yet: true if queued, false if dropped (ring full, bad length, NIC broken; counted). Never
 * blocks; safe with interrupts masked.
 */
bool virtio_net_transmit(struct virtio_net *n, const void *frame, size_t len);
/* Tell the device about the frames queued since the last call (unless it asked not to be told). */
void virtio_net_transmit_flush(struct virtio_net *n);
void virtio_net_get_info(struct virtio_net *n, struct virtio_net_info *out);

#endif
