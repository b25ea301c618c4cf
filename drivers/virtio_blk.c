/* virtio_blk.c - virtio-blk driver: interrupt-driven, several requests in flight, waiters sleep. */
#include "drivers/virtio_blk.h"

#include <stddef.h>

#include "arch/irqflags.h"
#include "arch/memlayout.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "drivers/virtio_mmio.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "lib/errno.h"
#include "lib/string.h"

/* Request types and status values (virtio 1.1 §5.2.6). */
/* Put in the status byte before submission: a device that never writes it fails the request. */
#define VBLK_STATUS_UNSET 0xff

/* Configuration space offsets (virtio 1.1 §5.2.4). */

#define VBLK_WANTED_FEATURES                                                                       \
    ((1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |                            \
     (1ULL << VIRTIO_BLK_F_RO) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH))

#define VBLK_MAX_REQUEST_BYTES (64 * 1024) /* larger transfers are split */
#define VBLK_MAX_SEGS          16          /* data descriptors in one request */
#define VBLK_MAX_SLOTS         32          /* requests in flight per disk */

/** The request header the device reads (virtio 1.1 §5.2.6); little-endian like the CPU. */
struct vblk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/** What the device reads and writes besides the data: one per slot, all in one page. */
struct vblk_dma {
    struct vblk_hdr hdr;
    uint8_t status;
    uint8_t pad[15];
};

/**
 * The requests of one submission still with the device: written under d->lock, read by the
 * waiter without it (an atomic load), so a waiter on one CPU never contends with the completion
 * interrupt on another for the lock.
 */
struct vblk_batch {
    unsigned pending;
};

/** A request in flight. */
struct vblk_slot {
    bool busy;
    uint16_t head; /* its descriptor chain */
    int *status;   /* where a failure is reported; the first one stays */
    struct vblk_batch *batch;
};

struct vblk {
    struct blockdev bd; /* the raw disk; bd.priv points back here */
    struct virtio_mmio dev;
    char name[8];
    uint32_t seg_bytes;           /* most bytes in one data descriptor */
    uint32_t max_request_sectors; /* most sectors in one request */
    unsigned nslots;
    bool read_only, has_flush;
    struct vblk_dma *dma;
    uint64_t dma_pa;
    /*
     * Submitters sleep here until their batch is done or a slot is free; the completion
     * interrupt wakes them (it follows the submitter, vblk_kick: usually on the waiter's CPU).
     */
    struct wait_queue wq;
    spinlock_t lock; /* protects everything below; the completion interrupt takes it too */
    struct virtq vq;
    struct vblk_slot slots[VBLK_MAX_SLOTS];
    int8_t slot_of_head[VIRTQ_MAX_SIZE]; /* -1: no request */
    unsigned nfree;    /* written under lock, also read without it (vblk_slot_free) */
    bool kick_pending; /* chains published that the device has not been told about */
    unsigned irq_cpu;  /* where the completion interrupt goes: the last submitter's CPU */
    bool broken;       /* written under lock, also read without it */
    uint64_t requests, errors;
    unsigned in_flight, max_in_flight;
};

static struct vblk *vblk_disks[VIRTIO_BLK_MAX_DISKS]; /* filled at boot, then read-only */
static int vblk_ndisks;

static void vblk_complete(struct vblk *d, unsigned s, int err)
{
    struct vblk_slot *slot = &d->slots[s];

    if (err) {
        d->errors++;
        if (*slot->status == 0)
            *slot->status = err;
    }
    __atomic_store_n(&slot->batch->pending, slot->batch->pending - 1, __ATOMIC_RELEASE);
    slot->busy = false;
    d->slot_of_head[slot->head] = -1;
    __atomic_store_n(&d->nfree, d->nfree + 1, __ATOMIC_RELEASE);
    d->in_flight--;
    d->requests++;
}

/* The device broke the protocol: stop it (a reset ends its DMA) and fail everything. */
static void vblk_disable(struct vblk *d, const char *why)
{
    kprintf("virtio-blk: %s: %s; disk disabled\n", d->name, why);
    __atomic_store_n(&d->broken, true, __ATOMIC_RELEASE);
    virtio_mmio_fail(&d->dev);
    for (unsigned s = 0; s < d->nslots; s++) {
        if (d->slots[s].busy)
            vblk_complete(d, s, -EIO);
    }
}

/* Complete every request the device has returned. Called with d->lock held. */
static void vblk_reap(struct vblk *d)
{
    uint16_t head;
    uint32_t len;

    while (!d->broken) {
        int r = virtq_get_used(&d->vq, &head, &len);

        if (r == 0)
            return;
        if (r < 0 || d->slot_of_head[head] < 0) {
            vblk_disable(d, "invalid used ring entry");
            return;
        }
        unsigned s = (unsigned)d->slot_of_head[head];
        uint8_t status = *(volatile uint8_t *)&d->dma[s].status;
        vblk_complete(d, s, status == VIRTIO_BLK_S_OK ? 0 : -EIO);
    }
}

static void vblk_irq(unsigned int intid, void *arg)
{
    struct vblk *d = arg;
    (void)intid;

    spin_lock(&d->lock);
    /* Acknowledge first: a completion after the reap raises a new interrupt. */
    virtio_mmio_ack_interrupt(&d->dev);
    vblk_reap(d);
    spin_unlock(&d->lock);
    wait_wake_all(&d->wq);
}

/*
 * Tell the device about the chains published since the last notification, and have their
 * completion interrupt come to this CPU, where the submitter will sleep: taking it here wakes the
 * waiter without a second CPU (an IPI, two CPUs' run-queue locks). It moves only when the
 * submitting CPU changes.
 */
static void vblk_kick(struct vblk *d)
{
    unsigned long flags = spin_lock_irqsave(&d->lock);

    if (d->irq_cpu != cpu_id()) {
        irq_route_here((unsigned int)d->dev.irq);
        d->irq_cpu = cpu_id();
    }
    if (d->kick_pending && !d->broken)
        virtq_kick(&d->dev, &d->vq);
    d->kick_pending = false;
    spin_unlock_irqrestore(&d->lock, flags);
}

/*
 * Sleep until done(d, arg) holds. The interrupt reaps completions and wakes the queue, on
 * whichever CPU takes it; done() reads with atomic loads, not under d->lock, so a waiter
 * rechecking never holds up the interrupt on another CPU (nor waits for it). Before the
 * scheduler runs threads (boot, as CPU 0's idle thread) the sleep is a WFI that the interrupt
 * ends (sched_block).
 */
static void vblk_wait(struct vblk *d, bool (*done)(struct vblk *, void *), void *arg)
{
    vblk_kick(d);
    wait_event(&d->wq, done(d, arg));
}

static bool vblk_slot_free(struct vblk *d, void *arg)
{
    (void)arg;
    return __atomic_load_n(&d->nfree, __ATOMIC_ACQUIRE) > 0 ||
           __atomic_load_n(&d->broken, __ATOMIC_ACQUIRE);
}

static bool vblk_batch_done(struct vblk *d, void *arg)
{
    (void)d;
    return __atomic_load_n(&((struct vblk_batch *)arg)->pending, __ATOMIC_ACQUIRE) == 0;
}

/* Build and publish the chain of slot s: header, data segments, status byte. */
static int vblk_add_chain(struct vblk *d, unsigned s, uint32_t type, uint8_t *buf, uint32_t bytes,
                          uint16_t *head)
{
    struct virtq_buf bufs[VBLK_MAX_SEGS + 2];
    uint64_t slot_pa = d->dma_pa + s * sizeof(struct vblk_dma);
    unsigned n = 0;

    bufs[n++] = (struct virtq_buf){slot_pa + offsetof(struct vblk_dma, hdr),
                                   sizeof(struct vblk_hdr), false};
    for (uint32_t off = 0; off < bytes; off += d->seg_bytes) {
        uint32_t len = bytes - off < d->seg_bytes ? bytes - off : d->seg_bytes;

        if (n > VBLK_MAX_SEGS)
            return -EINVAL; /* cannot happen: max_request_sectors bounds the segments */
        bufs[n++] = (struct virtq_buf){virt_to_phys(buf + off), len, type == VIRTIO_BLK_T_IN};
    }
    bufs[n++] = (struct virtq_buf){slot_pa + offsetof(struct vblk_dma, status), 1, true};
    return virtq_add(&d->vq, bufs, n, head);
}

/*
 * Queue one request (sector in 512-byte units; no data for a flush) without notifying the
 * device. Waits for a free slot when all are in flight. On failure (-EIO for a disabled
 * device) *status is set too.
 */
static int vblk_start(struct vblk *d, uint32_t type, uint64_t sector, uint8_t *buf, uint32_t bytes,
                      int *status, struct vblk_batch *batch)
{
    unsigned long flags;
    unsigned s = 0;
    uint16_t head;
    int err = -EIO;

    for (;;) {
        flags = spin_lock_irqsave(&d->lock);
        if (d->broken || d->nfree)
            break;
        spin_unlock_irqrestore(&d->lock, flags);
        vblk_wait(d, vblk_slot_free, NULL);
    }
    if (!d->broken) {
        while (d->slots[s].busy)
            s++;
        d->dma[s].hdr = (struct vblk_hdr){.type = type, .reserved = 0, .sector = sector};
        d->dma[s].status = VBLK_STATUS_UNSET;
        err = vblk_add_chain(d, s, type, buf, bytes, &head);
    }
    if (err) {
        if (*status == 0)
            *status = err;
        spin_unlock_irqrestore(&d->lock, flags);
        return err;
    }
    d->slots[s] = (struct vblk_slot){.busy = true, .head = head, .status = status, .batch = batch};
    d->slot_of_head[head] = (int8_t)s;
    __atomic_store_n(&d->nfree, d->nfree - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&batch->pending, batch->pending + 1, __ATOMIC_RELAXED);
    if (++d->in_flight > d->max_in_flight)
        d->max_in_flight = d->in_flight;
    d->kick_pending = true;
    spin_unlock_irqrestore(&d->lock, flags);
    return 0;
}

static int vblk_check(const struct vblk *d, const struct blockdev_io *io)
{
    uint64_t bytes = (uint64_t)io->count * d->bd.sector_size;

    if (io->lba > d->bd.nsectors || io->count > d->bd.nsectors - io->lba)
        return -EINVAL;
    if (io->write && d->read_only)
        return -EROFS;
    /* The device gets physical addresses: the buffer must be RAM in the linear map. */
    if (io->count && (!io->buf || !platform_va_in_ram((uint64_t)(uintptr_t)io->buf, bytes)))
        return -EFAULT;
    return 0;
}

int virtio_blk_submit(struct blockdev *bd, struct blockdev_io *ios, unsigned n)
{
    struct vblk *d = bd->priv;
    struct vblk_batch batch = {0};
    uint32_t ss = bd->sector_size;
    int first = 0;

    for (unsigned i = 0; i < n; i++) {
        struct blockdev_io *io = &ios[i];

        /* Once its first request is queued, io->status belongs to the completion path. */
        io->status = vblk_check(d, io);
        if (io->status)
            continue;
        for (uint32_t done = 0; done < io->count;) {
            uint32_t count = io->count - done;
            if (count > d->max_request_sectors)
                count = d->max_request_sectors;
            uint64_t sector = (io->lba + done) * (ss / 512);
            uint8_t *buf = (uint8_t *)io->buf + (size_t)done * ss;

            if (vblk_start(d, io->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, buf,
                           count * ss, &io->status, &batch))
                break;
            done += count;
        }
    }
    vblk_wait(d, vblk_batch_done, &batch);
    for (unsigned i = 0; i < n && !first; i++)
        first = ios[i].status;
    return first;
}

static int vblk_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf)
{
    struct blockdev_io io = {.lba = lba, .count = count, .write = false, .buf = buf};

    return virtio_blk_submit(bd, &io, 1);
}

static int vblk_write(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf)
{
    struct blockdev_io io = {.lba = lba, .count = count, .write = true, .buf = (void *)buf};

    return virtio_blk_submit(bd, &io, 1);
}

/* Without VIRTIO_BLK_F_FLUSH the device has no volatile write cache to flush. */
static int vblk_flush(struct blockdev *bd)
{
    struct vblk *d = bd->priv;
    struct vblk_batch batch = {0};
    int status = 0;

    if (!d->has_flush)
        return 0;
    vblk_start(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &status, &batch);
    vblk_wait(d, vblk_batch_done, &batch);
    return status;
}

/* Block size, capacity and request limits from configuration space, checked. */
static const char *vblk_read_config(struct vblk *d)
{
    struct virtio_mmio *dev = &d->dev;
    uint32_t ss = 512, seg_bytes = VBLK_MAX_REQUEST_BYTES, segs = 1;

    if (virtio_mmio_has_feature(dev, VIRTIO_BLK_F_BLK_SIZE)) {
        ss = virtio_mmio_config_read32(dev, VIRTIO_BLK_CFG_BLK_SIZE);
        if (ss < 512 || ss > BLOCKDEV_MAX_SECTOR_BYTES || (ss & (ss - 1)))
            return "unsupported block size";
    }
    if (virtio_mmio_has_feature(dev, VIRTIO_BLK_F_SIZE_MAX)) {
        uint32_t size_max = virtio_mmio_config_read32(dev, VIRTIO_BLK_CFG_SIZE_MAX);
        if (size_max < ss)
            return "size_max below the block size";
        if (size_max < seg_bytes)
            seg_bytes = size_max - size_max % ss;
    }
    /* Without SEG_MAX the only safe assumption is one data descriptor per request. */
    if (virtio_mmio_has_feature(dev, VIRTIO_BLK_F_SEG_MAX)) {
        segs = virtio_mmio_config_read32(dev, VIRTIO_BLK_CFG_SEG_MAX);
        if (segs == 0)
            return "seg_max is 0";
        if (segs > VBLK_MAX_SEGS)
            segs = VBLK_MAX_SEGS;
    }
    uint64_t request = (uint64_t)segs * seg_bytes;
    if (request > VBLK_MAX_REQUEST_BYTES)
        request = VBLK_MAX_REQUEST_BYTES;
    d->seg_bytes = seg_bytes;
    d->max_request_sectors = (uint32_t)(request / ss);
    d->read_only = virtio_mmio_has_feature(dev, VIRTIO_BLK_F_RO);
    d->has_flush = virtio_mmio_has_feature(dev, VIRTIO_BLK_F_FLUSH);
    d->bd = (struct blockdev){.sector_size = ss,
                              .nsectors = virtio_mmio_config_read64(dev, VIRTIO_BLK_CFG_CAPACITY) /
                                          (ss / 512),
                              .read = vblk_read,
                              .write = d->read_only ? NULL : vblk_write,
                              .flush = vblk_flush,
                              .priv = d};
    return NULL;
}

/* Everything between the status handshake's DRIVER and DRIVER_OK (virtio 1.1 §3.1.1). */
static const char *vblk_setup(struct vblk *d)
{
    const char *why;

    if (virtio_mmio_begin_init(&d->dev))
        return "device did not reset";
    if (virtio_mmio_negotiate(&d->dev, VBLK_WANTED_FEATURES))
        return "feature negotiation failed";
    why = vblk_read_config(d);
    if (why)
        return why;
    d->dma_pa = page_alloc_zeroed(0);
    if (!d->dma_pa)
        return "out of memory";
    d->dma = phys_to_virt(d->dma_pa);
    if (virtio_mmio_queue_setup(&d->dev, &d->vq, 0, VIRTQ_MAX_SIZE))
        return "cannot set up the request queue";
    uint32_t segs = (d->max_request_sectors * d->bd.sector_size + d->seg_bytes - 1) / d->seg_bytes;
    d->nslots = d->vq.size / (segs + 2);
    if (d->nslots > VBLK_MAX_SLOTS)
        d->nslots = VBLK_MAX_SLOTS;
    if (d->nslots == 0)
        return "request queue too small";
    d->nfree = d->nslots;
    memset(d->slot_of_head, -1, sizeof(d->slot_of_head));
    /* Waiters sleep until the completion interrupt: without one a disk is not usable. */
    if (d->dev.irq < 32 || irq_register((unsigned int)d->dev.irq, vblk_irq, d))
        return "no usable interrupt";
    d->irq_cpu = cpu_id();
    virtio_mmio_driver_ok(&d->dev);
    return NULL;
}

static void vblk_init(const struct virtio_mmio *dev)
{
    struct vblk *d = kzalloc(sizeof(*d));

    if (!d) {
        kprintf("virtio-blk: 0x%08lx: out of memory\n", (unsigned long)dev->pa);
        return;
    }
    d->dev = *dev;
    spin_init(&d->lock);
    wait_queue_init(&d->wq);
    d->name[0] = 'v';
    d->name[1] = 'd';
    d->name[2] = (char)('a' + vblk_ndisks);
    const char *why = vblk_setup(d);
    if (why) {
        kprintf("virtio-blk: 0x%08lx: %s\n", (unsigned long)dev->pa, why);
        /* Reset stops the device before its memory goes back; the IRQ was not registered. */
        virtio_mmio_fail(&d->dev);
        if (d->vq.ring_pa)
            page_free(d->vq.ring_pa, d->vq.ring_order);
        if (d->dma_pa)
            page_free(d->dma_pa, 0);
        kfree(d);
        return;
    }
    vblk_disks[vblk_ndisks++] = d;
    uint64_t bytes = d->bd.nsectors * d->bd.sector_size;
    kprintf("virtio-blk: %s 0x%08lx irq %d: %lu sectors (%lu MiB)%s\n", d->name,
            (unsigned long)dev->pa, dev->irq, (unsigned long)d->bd.nsectors,
            (unsigned long)(bytes >> 20), d->read_only ? " read-only" : "");
    int err = blockdev_register(d->name, &d->bd, virtio_blk_submit);
    if (err)
        kprintf("virtio-blk: %s: not registered with the block layer (%d)\n", d->name, err);
}

int virtio_blk_probe_all(void)
{
    for (int i = 0; i < platform.nvirtio; i++) {
        struct virtio_mmio dev;
        int err = virtio_mmio_probe(&dev, platform.virtio[i].reg.base, platform.virtio[i].reg.size,
                                    platform.virtio[i].irq);

        if (err == -ENODEV)
            continue; /* an empty slot */
        if (err) {
            kprintf("virtio-mmio: 0x%08lx: not a usable virtio-mmio device (%d)\n",
                    (unsigned long)platform.virtio[i].reg.base, err);
            continue;
        }
        if (dev.device_id != VIRTIO_ID_BLOCK)
            continue;
        if (vblk_ndisks == VIRTIO_BLK_MAX_DISKS) {
            kprintf("virtio-blk: more than %d disks, 0x%08lx ignored\n", VIRTIO_BLK_MAX_DISKS,
                    (unsigned long)dev.pa);
            continue;
        }
        vblk_init(&dev);
    }
    return vblk_ndisks;
}

int virtio_blk_count(void)
{
    return vblk_ndisks;
}

int virtio_blk_info(int index, struct virtio_blk_info *out)
{
    if (index < 0 || index >= vblk_ndisks)
        return -ENODEV;
    struct vblk *d = vblk_disks[index];

    unsigned long flags = spin_lock_irqsave(&d->lock);
    *out = (struct virtio_blk_info){
        .dev = virtio_mmio_describe(&d->dev),
        .nsectors = d->bd.nsectors,
        .sector_size = d->bd.sector_size,
        .max_request_bytes = d->max_request_sectors * d->bd.sector_size,
        .queue_size = d->vq.size,
        .slots = d->nslots,
        .read_only = d->read_only,
        .broken = d->broken,
        .requests = d->requests,
        .errors = d->errors,
        .max_in_flight = d->max_in_flight,
        .interrupts = irq_count((unsigned int)d->dev.irq),
    };
    spin_unlock_irqrestore(&d->lock, flags);
    memcpy(out->name, d->name, sizeof(out->name));
    return 0;
}
