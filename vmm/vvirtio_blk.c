/* vvirtio_blk.c - the emulated virtio-blk device's MMIO registers, status and interrupt line. */
#include "hw/byteorder.h"
#include "lib/errno.h"
#include "lib/virtio.h"
#include "lib/string.h"
#include "vvirtio_blk_priv.h"

/* Register offsets (virtio 1.2, 4.2.2 "MMIO Device Register Layout"). */

#define MMIO_VERSION 2u /* virtio 1.x register layout, not the legacy one */
/* Not a PCI vendor: "AVTR" as little-endian bytes. Linux's virtio_mmio only prints it. */
#define VENDOR_ID 0x52545641u

/* Device status bits (2.1). */

/*
 * VERSION_1: a modern-only device (Version 2). FLUSH: the disk behind the callbacks may cache
 * writes, and devices should always offer it (5.2.5). SEG_MAX: without it Linux sends one data
 * segment per request. BLK_SIZE: 512, stated rather than assumed.
 */
static uint64_t vvirtio_blk_offered(const struct vvirtio_blk *d)
{
    return VVIRTIO_F_VERSION_1 | VVIRTIO_BLK_F_FLUSH | VVIRTIO_BLK_F_SEG_MAX |
           VVIRTIO_BLK_F_BLK_SIZE | (d->read_only ? VVIRTIO_BLK_F_RO : 0);
}

unsigned long vvirtio_blk_lock(struct vvirtio_blk *d)
{
    return spin_lock_irqsave(&d->lock);
}

/* The line follows InterruptStatus != 0 (4.2.2). */
static bool vvirtio_blk_level(const void *dev)
{
    return ((const struct vvirtio_blk *)dev)->int_status != 0;
}

void vvirtio_blk_unlock_sync(struct vvirtio_blk *d, unsigned long flags)
{
    virq_line_unlock(&d->irq, flags, vvirtio_blk_level, d);
}

/* The worker's request is left alone: it sees gen change and drops it. */
static void vvirtio_blk_reset_locked(struct vvirtio_blk *d)
{
    d->status = 0;
    d->dev_features_sel = 0;
    d->drv_features_sel = 0;
    d->queue_sel = 0;
    d->driver_features = 0;
    d->queue_num = 0;
    d->queue_ready = false;
    d->queue_desc = 0;
    d->queue_driver = 0;
    d->queue_device = 0;
    d->last_avail = 0;
    d->used_idx = 0;
    d->int_status = 0;
    d->work_pending = false;
    d->gen++;
}

void vvirtio_blk_init(struct vvirtio_blk *d, uint64_t capacity_bytes, bool read_only,
                      const struct vvirtio_blk_ops *ops, void *ctx)
{
    d->ops = ops;
    d->ctx = ctx;
    d->capacity = capacity_bytes / VIRTIO_BLK_SECTOR_SIZE;
    d->read_only = read_only;
    /*
     * struct virtio_blk_config (5.2.4): capacity, size_max (not offered), seg_max, geometry (not
     * offered), blk_size. A chain holds seg_max data descriptors, the header and the status, and
     * without indirect descriptors it must fit in the queue (2.7.5).
     */
    memset(d->config, 0, sizeof(d->config));
    store_le(&d->config[VIRTIO_BLK_CFG_CAPACITY], d->capacity, 8);
    store_le(&d->config[VIRTIO_BLK_CFG_SEG_MAX], VVIRTIO_BLK_QUEUE_MAX - 2, 4);
    store_le(&d->config[VIRTIO_BLK_CFG_BLK_SIZE], VIRTIO_BLK_SECTOR_SIZE, 4);
    spin_init(&d->lock);
    d->gen = 0;
    virq_line_init(&d->irq, &d->lock, ops->set_irq, ctx);
    d->req.active = false;
    vvirtio_blk_reset_locked(d);
}

void vvirtio_blk_reset(struct vvirtio_blk *d)
{
    unsigned long flags = vvirtio_blk_lock(d);

    vvirtio_blk_reset_locked(d);
    vvirtio_blk_unlock_sync(d, flags);
}

/* 2.1.2: the device sets DEVICE_NEEDS_RESET and, once the driver is live, says so by interrupt. */
void vvirtio_blk_needs_reset(struct vvirtio_blk *d)
{
    d->status |= VIRTIO_STATUS_NEEDS_RESET;
    if (d->status & VIRTIO_STATUS_DRIVER_OK)
        d->int_status |= VIRTIO_MMIO_INT_CONFIG;
}

/* Registers are 32-bit only; configuration fields are read at their own width (4.2.2.2). */
static bool vvirtio_blk_access_ok(uint64_t offset, unsigned size)
{
    if (offset >= VVIRTIO_BLK_WINDOW_SIZE)
        return false;
    if (offset < VIRTIO_MMIO_CONFIG)
        return size == 4 && (offset & 3) == 0;
    return (size == 1 || size == 2 || size == 4) && (offset & (size - 1)) == 0;
}

static uint32_t vvirtio_blk_reg_read(struct vvirtio_blk *d, uint64_t reg)
{
    uint64_t features = vvirtio_blk_offered(d);

    switch (reg) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return MMIO_VERSION;
    case VIRTIO_MMIO_DEVICE_ID: return VIRTIO_ID_BLOCK;
    case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (d->dev_features_sel > 1)
            return 0;
        return (uint32_t)(features >> (32 * d->dev_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return d->queue_sel == 0 ? VVIRTIO_BLK_QUEUE_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY: return d->queue_sel == 0 && d->queue_ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->int_status;
    case VIRTIO_MMIO_STATUS: return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0; /* the configuration never changes after init */
    default: return 0;                            /* write-only and reserved registers */
    }
}

int vvirtio_blk_read(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t *val)
{
    unsigned long flags;

    if (!vvirtio_blk_access_ok(offset, size))
        return -EINVAL;
    if (offset >= VIRTIO_MMIO_CONFIG) {
        uint64_t v = 0;

        /* Fixed after init, so no lock; bytes past blk_size are fields not offered: zero. */
        for (unsigned i = 0; i < size; i++) {
            uint64_t at = offset - VIRTIO_MMIO_CONFIG + i;

            if (at < sizeof(d->config))
                v |= (uint64_t)d->config[at] << (8 * i);
        }
        *val = v;
        return 0;
    }
    flags = vvirtio_blk_lock(d);
    *val = vvirtio_blk_reg_read(d, offset);
    spin_unlock_irqrestore(&d->lock, flags);
    return 0;
}

/*
 * 3.1.1 step 5: the driver sets FEATURES_OK and re-reads it; leaving it clear refuses the features.
 * Only a subset of what was offered is accepted, and it must include VERSION_1: there is no legacy
 * interface behind Version 2 (6.1).
 */
static void vvirtio_blk_status_write(struct vvirtio_blk *d, uint32_t v)
{
    uint64_t features = d->driver_features;

    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK) &&
        ((features & ~vvirtio_blk_offered(d)) || !(features & VVIRTIO_F_VERSION_1)))
        v &= ~VIRTIO_STATUS_FEATURES_OK;
    /* The driver only ever adds bits (2.1.1); DEVICE_NEEDS_RESET is the device's to set. */
    d->status |= v & 0xff & ~VIRTIO_STATUS_NEEDS_RESET;
}

/*
 * Enabling takes the ring indices back to 0 (2.7.6, 2.7.8). A size that is not a power of 2 no
 * larger than QueueNumMax (2.7) leaves a queue the device cannot use: it needs a reset.
 */
static void vvirtio_blk_queue_ready(struct vvirtio_blk *d, uint32_t v)
{
    uint32_t num = d->queue_num;

    if (!(v & 1)) {
        if (d->queue_ready)
            d->gen++;
        d->queue_ready = false;
        return;
    }
    if (d->queue_ready)
        return;
    if (num == 0 || num > VVIRTIO_BLK_QUEUE_MAX || (num & (num - 1))) {
        vvirtio_blk_needs_reset(d);
        return;
    }
    d->queue_ready = true;
    d->last_avail = 0;
    d->used_idx = 0;
    d->gen++;
}

/* Half of a 64-bit queue address; the driver writes them while the queue is disabled (4.2.3.2). */
static void vvirtio_blk_set_half(uint64_t *addr, uint32_t v, bool high)
{
    unsigned shift = high ? 32 : 0;

    *addr = (*addr & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
}

static void vvirtio_blk_reg_write(struct vvirtio_blk *d, uint64_t reg, uint32_t v)
{
    /* The queue's setup registers act on queue 0 only, and only while it is disabled. */
    bool setup = d->queue_sel == 0 && !d->queue_ready;

    switch (reg) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->dev_features_sel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        /* Features are fixed once accepted (3.1.1). */
        if (d->drv_features_sel <= 1 && !(d->status & VIRTIO_STATUS_FEATURES_OK))
            vvirtio_blk_set_half(&d->driver_features, v, d->drv_features_sel == 1);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->drv_features_sel = v; break;
    case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (setup)
            d->queue_num = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (d->queue_sel == 0)
            vvirtio_blk_queue_ready(d, v);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK: d->int_status &= ~v; break;
    case VIRTIO_MMIO_STATUS:
        if (v == 0)
            vvirtio_blk_reset_locked(d);
        else
            vvirtio_blk_status_write(d, v);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (setup)
            vvirtio_blk_set_half(&d->queue_desc, v, reg == VIRTIO_MMIO_QUEUE_DESC_HIGH);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (setup)
            vvirtio_blk_set_half(&d->queue_driver, v, reg == VIRTIO_MMIO_QUEUE_DRIVER_HIGH);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (setup)
            vvirtio_blk_set_half(&d->queue_device, v, reg == VIRTIO_MMIO_QUEUE_DEVICE_HIGH);
        break;
    default: break; /* read-only and reserved registers */
    }
}

/*
 * The device consumes buffers only once the driver has accepted features and is live (3.1.1), the
 * queue is enabled, and no reset is pending.
 */
bool vvirtio_blk_queue_live(const struct vvirtio_blk *d)
{
    uint32_t live = VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

    return (d->status & (live | VIRTIO_STATUS_NEEDS_RESET)) == live && d->queue_ready;
}

/*
 * QueueNotify, entered locked. The value is the queue index (VIRTIO_F_NOTIFICATION_DATA is not
 * offered). Only noted for the worker: serving the queue here would hold the vCPU in this trap for
 * as long as the disk takes, out of reach of a stop.
 */
static void vvirtio_blk_notify(struct vvirtio_blk *d, uint32_t v, unsigned long flags)
{
    bool work = v == 0 && vvirtio_blk_queue_live(d);

    if (work)
        d->work_pending = true;
    spin_unlock_irqrestore(&d->lock, flags);
    if (work)
        d->ops->notify(d->ctx);
}

bool vvirtio_blk_notified(struct vvirtio_blk *d)
{
    unsigned long flags = vvirtio_blk_lock(d);
    bool pending = d->work_pending;

    spin_unlock_irqrestore(&d->lock, flags);
    return pending;
}

int vvirtio_blk_write(struct vvirtio_blk *d, uint64_t offset, unsigned size, uint64_t val)
{
    unsigned long flags;

    if (!vvirtio_blk_access_ok(offset, size))
        return -EINVAL;
    if (offset >= VIRTIO_MMIO_CONFIG)
        return 0; /* no writable field: VIRTIO_BLK_F_CONFIG_WCE is not offered */
    flags = vvirtio_blk_lock(d);
    if (offset == VIRTIO_MMIO_QUEUE_NOTIFY) {
        vvirtio_blk_notify(d, (uint32_t)val, flags);
        return 0;
    }
    vvirtio_blk_reg_write(d, offset, (uint32_t)val);
    vvirtio_blk_unlock_sync(d, flags);
    return 0;
}
