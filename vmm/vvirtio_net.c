/* vvirtio_net.c - the emulated virtio-net device's MMIO registers, status and interrupt line. */
#include "lib/errno.h"
#include "lib/string.h"
#include "lib/virtio.h"
#include "vvirtio_net_priv.h"

#define MMIO_VERSION      2u /* virtio 1.x register layout, not the legacy one */
#define DEVICE_ID_NETWORK 1u /* 5 "Device Types" */
/* Not a PCI vendor: "AVTR" as little-endian bytes. Linux's virtio_mmio only prints it. */
#define VENDOR_ID 0x52545641u

/* Device status bits (2.1). */
#define STATUS_DRIVER_OK   0x04u
#define STATUS_FEATURES_OK 0x08u
#define STATUS_NEEDS_RESET 0x40u

#define INT_CONFIG 0x2u /* InterruptStatus: configuration change (4.2.2) */

/* struct virtio_net_config (5.1.4): mac[6], then le16 status; VIRTIO_NET_S_LINK_UP is bit 0. */
#define CONFIG_SIZE   8u
#define CONFIG_STATUS 6u
#define NET_S_LINK_UP 1u

/*
 * VERSION_1: modern only (Version 2). MAC: the manifest's or the derived address. MRG_RXBUF: a
 * frame may span several receive buffers, so the driver can post small ones. STATUS: the link is
 * always up, and says so. No checksum or segmentation offload (CSUM, GUEST_CSUM, *_TSO*): every
 * frame is a whole, checksummed Ethernet frame of at most VSWITCH_FRAME_MAX bytes.
 */
static const uint64_t vvirtio_net_offered =
    VVIRTIO_NET_F_VERSION_1 | VVIRTIO_NET_F_MAC | VVIRTIO_NET_F_MRG_RXBUF | VVIRTIO_NET_F_STATUS;

unsigned long vvirtio_net_lock(struct vvirtio_net *d)
{
    return spin_lock_irqsave(&d->lock);
}

/*
 * The line follows InterruptStatus != 0 (4.2.2). set_irq runs unlocked, so one thread at a time
 * reports (irq_busy) and re-reads the level after each call: changes made meanwhile by other
 * threads are reported by it, in order.
 */
void vvirtio_net_unlock_sync(struct vvirtio_net *d, unsigned long flags)
{
    if (d->irq_busy) {
        spin_unlock_irqrestore(&d->lock, flags);
        return;
    }
    d->irq_busy = true;
    for (;;) {
        bool level = d->int_status != 0;

        if (level == d->irq_line)
            break;
        d->irq_line = level;
        spin_unlock_irqrestore(&d->lock, flags);
        d->ops->set_irq(d->ctx, level);
        flags = vvirtio_net_lock(d);
    }
    d->irq_busy = false;
    spin_unlock_irqrestore(&d->lock, flags);
}

/* A transmit pass in flight sees gen change and gives nothing back. */
static void vvirtio_net_reset_locked(struct vvirtio_net *d)
{
    d->status = 0;
    d->dev_features_sel = 0;
    d->drv_features_sel = 0;
    d->queue_sel = 0;
    d->driver_features = 0;
    memset(d->q, 0, sizeof(d->q));
    d->int_status = 0;
    d->rx_irq_due = false;
    d->gen++;
}

void vvirtio_net_init(struct vvirtio_net *d, const uint8_t mac[6],
                      const struct vvirtio_net_ops *ops, void *ctx)
{
    d->ops = ops;
    d->ctx = ctx;
    memcpy(d->mac, mac, sizeof(d->mac));
    spin_init(&d->lock);
    d->gen = 0;
    d->irq_line = false;
    d->irq_busy = false;
    d->tx_busy = false;
    d->tx_pending = false;
    memset(&d->stats, 0, sizeof(d->stats));
    vvirtio_net_reset_locked(d);
}

void vvirtio_net_needs_reset(struct vvirtio_net *d)
{
    d->stats.ring_errors++;
    d->status |= STATUS_NEEDS_RESET;
    if (d->status & STATUS_DRIVER_OK)
        d->int_status |= INT_CONFIG;
}

bool vvirtio_net_queue_live(const struct vvirtio_net *d, unsigned qi)
{
    uint32_t live = STATUS_FEATURES_OK | STATUS_DRIVER_OK;

    return (d->status & (live | STATUS_NEEDS_RESET)) == live && d->q[qi].ready;
}

/* Registers are 32-bit only; configuration fields are read at their own width (4.2.2.2). */
static bool vvirtio_net_access_ok(uint64_t offset, unsigned size)
{
    if (offset >= VVIRTIO_NET_WINDOW_SIZE)
        return false;
    if (offset < VIRTIO_MMIO_CONFIG)
        return size == 4 && (offset & 3) == 0;
    return (size == 1 || size == 2 || size == 4) && (offset & (size - 1)) == 0;
}

static uint8_t vvirtio_net_config_byte(const struct vvirtio_net *d, uint64_t at)
{
    if (at < sizeof(d->mac))
        return d->mac[at];
    if (at == CONFIG_STATUS)
        return NET_S_LINK_UP;
    return 0; /* status's high byte; fields not offered (max_virtqueue_pairs, mtu, ...) */
}

static uint32_t vvirtio_net_reg_read(struct vvirtio_net *d, uint64_t reg)
{
    const struct vvirtio_net_queue *q =
        d->queue_sel < VVIRTIO_NET_QUEUES ? &d->q[d->queue_sel] : NULL;

    switch (reg) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return MMIO_VERSION;
    case VIRTIO_MMIO_DEVICE_ID: return DEVICE_ID_NETWORK;
    case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (d->dev_features_sel > 1)
            return 0;
        return (uint32_t)(vvirtio_net_offered >> (32 * d->dev_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? VVIRTIO_NET_QUEUE_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q && q->ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->int_status;
    case VIRTIO_MMIO_STATUS: return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0; /* the configuration never changes */
    default: return 0;                            /* write-only and reserved registers */
    }
}

int vvirtio_net_read(struct vvirtio_net *d, uint64_t offset, unsigned size, uint64_t *val)
{
    unsigned long flags;

    if (!vvirtio_net_access_ok(offset, size))
        return -EINVAL;
    if (offset >= VIRTIO_MMIO_CONFIG) {
        uint64_t v = 0;

        for (unsigned i = 0; i < size; i++) {
            uint64_t at = offset - VIRTIO_MMIO_CONFIG + i;

            if (at < CONFIG_SIZE)
                v |= (uint64_t)vvirtio_net_config_byte(d, at) << (8 * i);
        }
        *val = v;
        return 0;
    }
    flags = vvirtio_net_lock(d);
    *val = vvirtio_net_reg_read(d, offset);
    spin_unlock_irqrestore(&d->lock, flags);
    return 0;
}

/*
 * 3.1.1 step 5: the driver sets FEATURES_OK and re-reads it; leaving it clear refuses the features.
 * Only a subset of what was offered is accepted, and it must include VERSION_1 (6.1).
 */
static void vvirtio_net_status_write(struct vvirtio_net *d, uint32_t v)
{
    uint64_t features = d->driver_features;

    if ((v & STATUS_FEATURES_OK) && !(d->status & STATUS_FEATURES_OK) &&
        ((features & ~vvirtio_net_offered) || !(features & VVIRTIO_NET_F_VERSION_1)))
        v &= ~STATUS_FEATURES_OK;
    d->status |= v & 0xff & ~STATUS_NEEDS_RESET;
}

/*
 * Enabling takes the ring indices back to 0 (2.7.6, 2.7.8). A size that is not a power of 2 no
 * larger than QueueNumMax (2.7) leaves a queue the device cannot use: it needs a reset.
 */
static void vvirtio_net_queue_ready(struct vvirtio_net *d, struct vvirtio_net_queue *q, uint32_t v)
{
    if (!(v & 1)) {
        if (q->ready)
            d->gen++;
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    if (q->num == 0 || q->num > VVIRTIO_NET_QUEUE_MAX || (q->num & (q->num - 1))) {
        vvirtio_net_needs_reset(d);
        return;
    }
    q->ready = true;
    q->last_avail = 0;
    q->used_idx = 0;
    d->gen++;
}

static void vvirtio_net_set_half(uint64_t *addr, uint32_t v, bool high)
{
    unsigned shift = high ? 32 : 0;

    *addr = (*addr & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
}

static void vvirtio_net_reg_write(struct vvirtio_net *d, uint64_t reg, uint32_t v)
{
    struct vvirtio_net_queue *q = d->queue_sel < VVIRTIO_NET_QUEUES ? &d->q[d->queue_sel] : NULL;
    /* A queue's setup registers act only while it is disabled (4.2.3.2). */
    bool setup = q && !q->ready;

    switch (reg) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->dev_features_sel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (d->drv_features_sel <= 1 && !(d->status & STATUS_FEATURES_OK))
            vvirtio_net_set_half(&d->driver_features, v, d->drv_features_sel == 1);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->drv_features_sel = v; break;
    case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (setup)
            q->num = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (q)
            vvirtio_net_queue_ready(d, q, v);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK: d->int_status &= ~v; break;
    case VIRTIO_MMIO_STATUS:
        if (v == 0)
            vvirtio_net_reset_locked(d);
        else
            vvirtio_net_status_write(d, v);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (setup)
            vvirtio_net_set_half(&q->desc, v, reg == VIRTIO_MMIO_QUEUE_DESC_HIGH);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (setup)
            vvirtio_net_set_half(&q->avail, v, reg == VIRTIO_MMIO_QUEUE_DRIVER_HIGH);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (setup)
            vvirtio_net_set_half(&q->used, v, reg == VIRTIO_MMIO_QUEUE_DEVICE_HIGH);
        break;
    default: break; /* read-only and reserved registers */
    }
}

/*
 * The value of QueueNotify is the queue index (VIRTIO_F_NOTIFICATION_DATA is not offered). Receive
 * buffers need no notice: frames that find none are dropped, not queued. Transmit is served here,
 * in the notifying vCPU: a pass is bounded by the queue size and never waits.
 */
int vvirtio_net_write(struct vvirtio_net *d, uint64_t offset, unsigned size, uint64_t val)
{
    unsigned long flags;

    if (!vvirtio_net_access_ok(offset, size))
        return -EINVAL;
    if (offset >= VIRTIO_MMIO_CONFIG)
        return 0; /* no writable field: VIRTIO_NET_F_CTRL_MAC_ADDR and the like are not offered */
    flags = vvirtio_net_lock(d);
    if (offset == VIRTIO_MMIO_QUEUE_NOTIFY && val == VVIRTIO_NET_TXQ) {
        vvirtio_net_tx(d, flags);
        return 0;
    }
    if (offset != VIRTIO_MMIO_QUEUE_NOTIFY)
        vvirtio_net_reg_write(d, offset, (uint32_t)val);
    vvirtio_net_unlock_sync(d, flags);
    return 0;
}

void vvirtio_net_rx_flush(struct vvirtio_net *d)
{
    unsigned long flags = vvirtio_net_lock(d);

    if (d->rx_irq_due) {
        d->rx_irq_due = false;
        d->int_status |= VVIRTIO_NET_INT_USED;
    }
    vvirtio_net_unlock_sync(d, flags);
}

void vvirtio_net_get_stats(struct vvirtio_net *d, struct vvirtio_net_stats *out)
{
    unsigned long flags = vvirtio_net_lock(d);

    *out = d->stats;
    spin_unlock_irqrestore(&d->lock, flags);
}
