/* virtio_mmio.c - virtio-mmio transport (version 2 and legacy 1) and split virtqueues. */
#include "drivers/virtio_mmio.h"

#include "arch/memlayout.h"
#include "arch/mmio.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"
#include "lib/virtio.h"
#include "virtq_barrier.h"

/* Register offsets (virtio 1.1 §4.2.2; §4.2.4 for the legacy-only ones). */

/* Device status bits (virtio 1.1 §2.1). */

/* The legacy ring layout aligns the used ring to this; we use it for both versions. */
#define VIRTQ_ALIGN 4096
/* Polls of Status while a version 2 device finishes its reset. */
#define RESET_POLLS    1000000
#define CONFIG_RETRIES 100

static uint32_t reg_read(const struct virtio_mmio *dev, unsigned off)
{
    return mmio_read32(dev->base + off);
}

static void reg_write(const struct virtio_mmio *dev, unsigned off, uint32_t v)
{
    mmio_write32(dev->base + off, v);
}

int virtio_mmio_probe(struct virtio_mmio *dev, uint64_t pa, uint64_t size, int irq)
{
    *dev = (struct virtio_mmio){
        .base = (uintptr_t)phys_to_virt(pa), .pa = pa, .size = size, .irq = irq};
    if (size < VIRTIO_MMIO_CONFIG)
        return -EINVAL;
    if (reg_read(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
        return -EINVAL;
    dev->version = reg_read(dev, VIRTIO_MMIO_VERSION);
    if (dev->version != 1 && dev->version != 2)
        return -ENOTSUP;
    dev->device_id = reg_read(dev, VIRTIO_MMIO_DEVICE_ID);
    dev->vendor_id = reg_read(dev, VIRTIO_MMIO_VENDOR_ID);
    return dev->device_id ? 0 : -ENODEV;
}

/* Writing 0 resets the device; a version 2 device says it is done by reading back 0 (§4.2.3.1). */
static int reset(struct virtio_mmio *dev)
{
    reg_write(dev, VIRTIO_MMIO_STATUS, 0);
    if (dev->version == 1)
        return 0;
    for (int i = 0; i < RESET_POLLS; i++) {
        if (reg_read(dev, VIRTIO_MMIO_STATUS) == 0)
            return 0;
    }
    return -ETIMEDOUT;
}

static void set_status(struct virtio_mmio *dev, uint32_t bits)
{
    reg_write(dev, VIRTIO_MMIO_STATUS, reg_read(dev, VIRTIO_MMIO_STATUS) | bits);
}

int virtio_mmio_begin_init(struct virtio_mmio *dev)
{
    int err = reset(dev);

    if (err)
        return err;
    set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(dev, VIRTIO_STATUS_DRIVER);
    return 0;
}

int virtio_mmio_negotiate(struct virtio_mmio *dev, uint64_t wanted)
{
    uint64_t offered;

    reg_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    offered = reg_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    if (dev->version == 2) {
        reg_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        offered |= (uint64_t)reg_read(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
        /* A modern device must offer VERSION_1, and a modern driver must accept it. */
        if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
            return -ENOTSUP;
        wanted |= 1ULL << VIRTIO_F_VERSION_1;
    } else {
        wanted &= 0xffffffffULL; /* legacy devices have only 32 feature bits */
    }
    dev->features = offered & wanted;
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)dev->features);
    if (dev->version == 1)
        return 0;
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(dev->features >> 32));
    set_status(dev, VIRTIO_STATUS_FEATURES_OK);
    /* The device clears FEATURES_OK if it cannot work with this subset (§3.1.1 step 6). */
    return (reg_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) ? 0 : -ENOTSUP;
}

struct virtio_mmio_info virtio_mmio_describe(const struct virtio_mmio *dev)
{
    return (struct virtio_mmio_info){dev->pa, dev->irq, dev->version, dev->features};
}

bool virtio_mmio_has_feature(const struct virtio_mmio *dev, unsigned bit)
{
    return bit < 64 && (dev->features & (1ULL << bit));
}

/* Bytes of the contiguous legacy layout: descriptors, available ring, then the used ring. */
static uint64_t ring_used_offset(unsigned size)
{
    uint64_t front = 16ULL * size + 6 + 2ULL * size;

    return (front + VIRTQ_ALIGN - 1) & ~(uint64_t)(VIRTQ_ALIGN - 1);
}

static uint64_t ring_bytes(unsigned size)
{
    return ring_used_offset(size) + 6 + 8ULL * size;
}

static void queue_register(struct virtio_mmio *dev, struct virtq *vq)
{
    uint64_t desc = vq->ring_pa;
    uint64_t avail = desc + 16ULL * vq->size;
    uint64_t used = desc + ring_used_offset(vq->size);

    reg_write(dev, VIRTIO_MMIO_QUEUE_NUM, vq->size);
    /* The zeroed rings must be in memory before the device may look at them. */
    virtio_dsb();
    if (dev->version == 1) {
        reg_write(dev, VIRTIO_MMIO_QUEUE_ALIGN, VIRTQ_ALIGN);
        reg_write(dev, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(vq->ring_pa / PAGE_SIZE));
        return;
    }
    reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    reg_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    reg_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    reg_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}

int virtio_mmio_queue_setup(struct virtio_mmio *dev, struct virtq *vq, unsigned index,
                            unsigned max_size)
{
    unsigned size = 1, order = 0;

    if (dev->version == 1)
        reg_write(dev, VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE_SIZE);
    reg_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    if (reg_read(dev, dev->version == 1 ? VIRTIO_MMIO_QUEUE_PFN : VIRTIO_MMIO_QUEUE_READY) != 0)
        return -EBUSY;
    uint32_t max = reg_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max > max_size)
        max = max_size;
    if (max > VIRTQ_MAX_SIZE)
        max = VIRTQ_MAX_SIZE;
    if (max == 0)
        return -ENOENT;
    while (size * 2 <= max) /* split rings have a power-of-two size (§2.6) */
        size *= 2;
    while ((PAGE_SIZE << order) < ring_bytes(size))
        order++;
    uint64_t pa = page_alloc_zeroed(order);
    if (!pa)
        return -ENOMEM;
    if (dev->version == 1 && pa / PAGE_SIZE > 0xffffffffULL) {
        page_free(pa, order);
        return -ERANGE; /* QueuePFN is 32 bits */
    }
    *vq = (struct virtq){.index = index,
                         .size = (uint16_t)size,
                         .ring_pa = pa,
                         .ring_order = order,
                         .num_free = (uint16_t)size};
    uint8_t *va = phys_to_virt(pa);
    vq->desc = (struct virtq_desc *)va;
    vq->avail = (struct virtq_avail *)(va + 16 * size);
    vq->used = (struct virtq_used *)(va + ring_used_offset(size));
    for (unsigned i = 0; i < size; i++)
        vq->free_next[i] = (uint16_t)(i + 1);
    queue_register(dev, vq);
    return 0;
}

void virtio_mmio_driver_ok(struct virtio_mmio *dev)
{
    set_status(dev, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_mmio_fail(struct virtio_mmio *dev)
{
    reset(dev);
    reg_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
}

uint32_t virtio_mmio_config_read32(struct virtio_mmio *dev, unsigned offset)
{
    return reg_read(dev, VIRTIO_MMIO_CONFIG + offset);
}

uint64_t virtio_mmio_config_read64(struct virtio_mmio *dev, unsigned offset)
{
    uint32_t lo, hi, again;

    /*
     * The two halves can tear if the device changes the field in between: version 2 has a
     * generation counter for that (§4.2.2), legacy devices only the re-read of the high half.
     */
    for (int i = 0; i < CONFIG_RETRIES; i++) {
        uint32_t gen = dev->version == 2 ? reg_read(dev, VIRTIO_MMIO_CONFIG_GENERATION) : 0;

        hi = virtio_mmio_config_read32(dev, offset + 4);
        lo = virtio_mmio_config_read32(dev, offset);
        again = virtio_mmio_config_read32(dev, offset + 4);
        if (again == hi &&
            (dev->version == 1 || reg_read(dev, VIRTIO_MMIO_CONFIG_GENERATION) == gen))
            break;
    }
    return (uint64_t)hi << 32 | lo;
}

uint32_t virtio_mmio_ack_interrupt(struct virtio_mmio *dev)
{
    uint32_t status = reg_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS);

    if (status)
        reg_write(dev, VIRTIO_MMIO_INTERRUPT_ACK, status);
    return status;
}

void virtq_kick(struct virtio_mmio *dev, struct virtq *vq)
{
    virtio_dsb();
    reg_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, vq->index);
}
