/* virtio_net.c - virtio-net driver for the machine's own NIC: RX from the interrupt into a hook,
 * TX copied into preallocated buffers, one notification per batch. */
#include "drivers/virtio_net.h"

#include "arch/memlayout.h"
#include "drivers/gic.h"
#include "drivers/virtio_mmio.h"
#include "drivers/virtio_net_queue.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/string.h"

/* Queue indexes (virtio 1.1 §5.1.2): receiveq1 and transmitq1; no control queue. */
#define VNET_RXQ 0
#define VNET_TXQ 1

/* Configuration space (virtio 1.1 §5.1.4): the MAC address comes first. */
#define CFG_MAC 0

/*
 * No offloads (checksum, TSO, mergeable buffers): frames are whole and at most 1514 bytes both
 * ways, so one 2 KiB buffer per descriptor holds any of them. ANY_LAYOUT lets a legacy device
 * take header and frame in one descriptor (VERSION_1 implies it).
 */
#define VNET_WANTED_FEATURES ((1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_F_ANY_LAYOUT))

struct virtio_net {
    struct virtio_mmio dev; /* written at probe only */
    uint8_t mac[6];
    bool has_mac;
    /*
     * Taken by the interrupt handler (which runs on one CPU at a time) and by readers of the
     * counters. Held while frames go to the hook: the switch never calls back into RX.
     */
    spinlock_t rx_lock;
    struct vnet_queue rx;
    const struct virtio_net_rx_ops *ops; /* set once, before the interrupt is enabled */
    void *ctx;
    uint64_t rx_notifies;
    /* Taken by transmit and flush (called by the switch with its lock held); never held while
     * calling the switch. */
    spinlock_t tx_lock;
    struct vnet_queue tx;
    bool tx_pending; /* frames published since the last notification */
    uint64_t tx_notifies;
    bool broken; /* set once, atomically, by whichever path finds the device broken */
    uint64_t buf_pa[2];
    unsigned buf_order[2];
};

static unsigned vnet_order_for(uint64_t bytes)
{
    unsigned order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

/* Buffers for queue q, one per descriptor, in one physically contiguous block. */
static int vnet_queue_buffers(struct virtio_net *n, struct vnet_queue *q, unsigned which)
{
    unsigned order = vnet_order_for((uint64_t)q->vq.size * VNET_BUF_BYTES);
    uint64_t pa = page_alloc(order);

    if (!pa)
        return -ENOMEM;
    n->buf_pa[which] = pa;
    n->buf_order[which] = order;
    vnet_queue_init(q, phys_to_virt(pa), pa,
                    n->dev.version == 2 ? VNET_HDR_BYTES : VNET_HDR_BYTES_LEGACY);
    return 0;
}

static bool vnet_broken(struct virtio_net *n)
{
    return __atomic_load_n(&n->broken, __ATOMIC_ACQUIRE);
}

/* The device broke the ring protocol: stop it (the reset ends its DMA); the first finder reports.
 */
static void vnet_disable(struct virtio_net *n, const char *why)
{
    if (__atomic_exchange_n(&n->broken, true, __ATOMIC_ACQ_REL))
        return;
    kprintf("virtio-net: 0x%08lx: %s; NIC disabled\n", (unsigned long)n->dev.pa, why);
    virtio_mmio_fail(&n->dev);
}

/*
 * Every frame the device has written, to the hook; then the buffers go back in one pass and the
 * device is told once. At most one ring's worth per call: frames that arrive later set
 * InterruptStatus again (it was acknowledged first), so the level interrupt calls us again.
 */
static void vnet_rx_batch(struct virtio_net *n)
{
    struct vnet_rx_frame f;
    unsigned budget = n->rx.vq.size;
    int r = 0;

    while (budget-- && (r = vnet_rx_next(&n->rx, &f)) > 0) {
        if (n->ops)
            n->ops->receive(n->ctx, f.data, f.len);
    }
    if (r < 0) {
        vnet_disable(n, "invalid used ring entry on the receive queue");
        return;
    }
    if (vnet_rx_refill(&n->rx) && virtq_notify_needed(&n->rx.vq)) {
        virtq_kick(&n->dev, &n->rx.vq);
        n->rx_notifies++;
    }
}

static void vnet_irq(unsigned int intid, void *arg)
{
    struct virtio_net *n = arg;
    (void)intid;

    spin_lock(&n->rx_lock);
    /* Acknowledge first: a frame written after the reap raises InterruptStatus again. Config
     * changes (link status) need nothing: the switch does not care whether the link is up. */
    virtio_mmio_ack_interrupt(&n->dev);
    if (!vnet_broken(n))
        vnet_rx_batch(n);
    spin_unlock(&n->rx_lock);
    if (n->ops && n->ops->batch_end)
        n->ops->batch_end(n->ctx);
}

bool virtio_net_transmit(struct virtio_net *n, const void *frame, size_t len)
{
    unsigned long flags = spin_lock_irqsave(&n->tx_lock);
    int r = -EIO;

    if (!vnet_broken(n)) {
        r = vnet_tx_add(&n->tx, frame, len);
        if (r == 0)
            n->tx_pending = true;
        else if (r == -EIO)
            vnet_disable(n, "invalid used ring entry on the transmit queue");
    }
    spin_unlock_irqrestore(&n->tx_lock, flags);
    return r == 0;
}

void virtio_net_transmit_flush(struct virtio_net *n)
{
    unsigned long flags = spin_lock_irqsave(&n->tx_lock);

    if (n->tx_pending && !vnet_broken(n) && virtq_notify_needed(&n->tx.vq)) {
        virtq_kick(&n->dev, &n->tx.vq);
        n->tx_notifies++;
    }
    n->tx_pending = false;
    spin_unlock_irqrestore(&n->tx_lock, flags);
}

/* Everything between the status handshake's DRIVER and DRIVER_OK (virtio 1.1 §3.1.1, §5.1.5). */
static const char *vnet_setup(struct virtio_net *n)
{
    if (virtio_mmio_begin_init(&n->dev))
        return "device did not reset";
    if (virtio_mmio_negotiate(&n->dev, VNET_WANTED_FEATURES))
        return n->dev.version == 2 ? "feature negotiation failed (VERSION_1 refused)"
                                   : "feature negotiation failed";
    n->has_mac = virtio_mmio_has_feature(&n->dev, VIRTIO_NET_F_MAC);
    if (n->has_mac) {
        uint32_t lo = virtio_mmio_config_read32(&n->dev, CFG_MAC);
        uint32_t hi = virtio_mmio_config_read32(&n->dev, CFG_MAC + 4);
        for (int i = 0; i < 4; i++)
            n->mac[i] = (uint8_t)(lo >> (8 * i));
        n->mac[4] = (uint8_t)hi;
        n->mac[5] = (uint8_t)(hi >> 8);
    }
    if (virtio_mmio_queue_setup(&n->dev, &n->rx.vq, VNET_RXQ, VIRTQ_MAX_SIZE) ||
        virtio_mmio_queue_setup(&n->dev, &n->tx.vq, VNET_TXQ, VIRTQ_MAX_SIZE))
        return "cannot set up the receive and transmit queues";
    if (vnet_queue_buffers(n, &n->rx, 0) || vnet_queue_buffers(n, &n->tx, 1))
        return "out of memory for buffers";
    /* Sent buffers are taken back when the ring fills, so their completions need no interrupt. */
    virtq_set_interrupts(&n->tx.vq, false);
    if (n->dev.irq < 32)
        return "no usable interrupt";
    /* The receive ring is full before the device may use it (§5.1.5: it should be). */
    vnet_rx_refill(&n->rx);
    virtio_mmio_driver_ok(&n->dev);
    return NULL;
}

static void vnet_free(struct virtio_net *n)
{
    /* The reset stops the device before its memory goes back. */
    virtio_mmio_fail(&n->dev);
    if (n->rx.vq.ring_pa)
        page_free(n->rx.vq.ring_pa, n->rx.vq.ring_order);
    if (n->tx.vq.ring_pa)
        page_free(n->tx.vq.ring_pa, n->tx.vq.ring_order);
    for (int i = 0; i < 2; i++) {
        if (n->buf_pa[i])
            page_free(n->buf_pa[i], n->buf_order[i]);
    }
    kfree(n);
}

static struct virtio_net *vnet_init(const struct virtio_mmio *dev)
{
    struct virtio_net *n = kzalloc(sizeof(*n));

    if (!n) {
        kprintf("virtio-net: 0x%08lx: out of memory\n", (unsigned long)dev->pa);
        return NULL;
    }
    n->dev = *dev;
    spin_init(&n->rx_lock);
    spin_init(&n->tx_lock);
    const char *why = vnet_setup(n);
    if (why) {
        kprintf("virtio-net: 0x%08lx: %s; no uplink\n", (unsigned long)dev->pa, why);
        vnet_free(n);
        return NULL;
    }
    kprintf("virtio-net: 0x%08lx irq %d: virtio-mmio v%u, %u/%u buffers", (unsigned long)dev->pa,
            dev->irq, dev->version, n->rx.vq.size, n->tx.vq.size);
    if (n->has_mac)
        kprintf(", mac %02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2], n->mac[3],
                n->mac[4], n->mac[5]);
    kprintf("\n");
    return n;
}

struct virtio_net *virtio_net_probe(void)
{
    for (int i = 0; i < platform.nvirtio; i++) {
        struct virtio_mmio dev;

        /* Empty or unusable slots: the disk driver's probe has reported the latter already. */
        if (virtio_mmio_probe(&dev, platform.virtio[i].reg.base, platform.virtio[i].reg.size,
                              platform.virtio[i].irq))
            continue;
        if (dev.device_id == VIRTIO_ID_NET)
            return vnet_init(&dev);
    }
    return NULL;
}

int virtio_net_start(struct virtio_net *n, const struct virtio_net_rx_ops *ops, void *ctx)
{
    n->ops = ops;
    n->ctx = ctx;
    return irq_register((unsigned int)n->dev.irq, vnet_irq, n);
}

void virtio_net_get_info(struct virtio_net *n, struct virtio_net_info *out)
{
    unsigned long flags = spin_lock_irqsave(&n->rx_lock);
    spin_lock(&n->tx_lock);
    *out = (struct virtio_net_info){
        .dev = virtio_mmio_describe(&n->dev),
        .has_mac = n->has_mac,
        .broken = vnet_broken(n),
        .rx_size = n->rx.vq.size,
        .tx_size = n->tx.vq.size,
        .rx_frames = n->rx.frames,
        .rx_bytes = n->rx.bytes,
        .rx_dropped = n->rx.dropped,
        .tx_frames = n->tx.frames,
        .tx_bytes = n->tx.bytes,
        .tx_dropped_full = n->tx.dropped,
        .tx_dropped_len = n->tx.bad_len,
        .tx_notifies = n->tx_notifies,
        .rx_notifies = n->rx_notifies,
        .interrupts = irq_count((unsigned int)n->dev.irq),
    };
    memcpy(out->mac, n->mac, sizeof(out->mac));
    spin_unlock(&n->tx_lock);
    spin_unlock_irqrestore(&n->rx_lock, flags);
}
