/*
 * blk.c - TestOS's disk exercises (bootargs blkread, blkwrite, blkloop) over a minimal virtio-blk
 * driver: virtio-mmio version 2, one queue, one request at a time, completion by interrupt.
 */
#include "blk.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "gic.h"
#include "lib/virtio.h"
#include "platform.h"
#include "smp.h"

/* VIRTIO_F_VERSION_1 in the high half of the feature word (DeviceFeaturesSel 1). */
#define F_VERSION_1_HI (1u << (VIRTIO_F_VERSION_1 - 32))

#define VQ_SIZE 8

/* What the exercises move: one 32 MiB read in a single descriptor; a 3 MiB write in two. */
#define READ_SECTOR  8u
#define READ_BYTES   (32UL << 20)
#define WRITE_SECTOR 70000u
#define WRITE_BYTES  (3UL << 20)
#define WRITE_SPLIT  ((1UL << 20) + 512) /* the first descriptor's share: not a step boundary */
#define CHUNK        (2UL << 20)         /* buffers start on 2 MiB boundaries */

/* A split virtqueue (2.7) with the alignments its parts need. */
struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static struct vq_desc vq_desc[VQ_SIZE] __attribute__((aligned(16)));
static struct {
    uint16_t flags, idx, ring[VQ_SIZE], used_event;
} vq_avail __attribute__((aligned(2)));
static struct {
    uint16_t flags, idx;
    struct {
        uint32_t id, len;
    } ring[VQ_SIZE];
    uint16_t avail_event;
} vq_used __attribute__((aligned(4)));

static struct {
    uint32_t type, reserved;
    uint64_t sector;
} blk_hdr;
static volatile uint8_t blk_status;
static volatile uint32_t blk_irqs;
static uintptr_t blk_base;
static uint64_t blk_sectors;

/** One data buffer of a request. */
struct blk_seg {
    uintptr_t addr;
    uint32_t len;
};

extern const char _end[];

static uint32_t blk_read_reg(uint32_t reg)
{
    return mmio_read32(blk_base + reg);
}

static void blk_write_reg(uint32_t reg, uint32_t val)
{
    mmio_write32(blk_base + reg, val);
}

/* Acknowledge what the device raised, so its (level) line drops before the EOI. */
static void blk_irq(struct frame *frame, unsigned int intid)
{
    (void)frame;
    (void)intid;
    blk_write_reg(VIRTIO_MMIO_INTERRUPT_ACK, blk_read_reg(VIRTIO_MMIO_INTERRUPT_STATUS));
    __atomic_store_n(&blk_irqs, blk_irqs + 1, __ATOMIC_RELEASE);
}

/* The first transport with a block device behind it; version 1 (legacy) is refused by name. */
static unsigned int blk_find(void)
{
    for (unsigned int i = 0; i < platform.nvirtio; i++) {
        uintptr_t base = platform.virtio[i];

        if (base >= TESTOS_DEVICE_LIMIT ||
            mmio_read32(base + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
            mmio_read32(base + VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
            continue;
        if (mmio_read32(base + VIRTIO_MMIO_VERSION) != 2)
            check_fail("blk",
                       "virtio-mmio at 0x%lx is legacy (version %u); bare QEMU needs "
                       "-global virtio-mmio.force-legacy=false",
                       base, mmio_read32(base + VIRTIO_MMIO_VERSION));
        return i;
    }
    check_fail("blk", "no virtio-blk device among %u virtio-mmio transports", platform.nvirtio);
}

/* Initialisation as 3.1.1 orders it, accepting VERSION_1 only; queue 0 as 4.2.3.2 sets it up. */
static void blk_init(void)
{
    unsigned int i = blk_find();
    uint64_t addr;

    blk_base = platform.virtio[i];
    blk_write_reg(VIRTIO_MMIO_STATUS, 0);
    blk_write_reg(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    blk_write_reg(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    blk_write_reg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    if (!(blk_read_reg(VIRTIO_MMIO_DEVICE_FEATURES) & F_VERSION_1_HI))
        check_fail("blk", "the device does not offer VIRTIO_F_VERSION_1");
    blk_write_reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    blk_write_reg(VIRTIO_MMIO_DRIVER_FEATURES, F_VERSION_1_HI);
    blk_write_reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    blk_write_reg(VIRTIO_MMIO_DRIVER_FEATURES, 0);
    blk_write_reg(VIRTIO_MMIO_STATUS,
                  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    if (!(blk_read_reg(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
        check_fail("blk", "the device refused VERSION_1 alone");
    blk_write_reg(VIRTIO_MMIO_QUEUE_SEL, 0);
    if (blk_read_reg(VIRTIO_MMIO_QUEUE_READY) || blk_read_reg(VIRTIO_MMIO_QUEUE_NUM_MAX) < VQ_SIZE)
        check_fail("blk", "queue 0 is in use or smaller than %u", VQ_SIZE);
    blk_write_reg(VIRTIO_MMIO_QUEUE_NUM, VQ_SIZE);
    addr = (uintptr_t)vq_desc;
    blk_write_reg(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)addr);
    blk_write_reg(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(addr >> 32));
    addr = (uintptr_t)&vq_avail;
    blk_write_reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)addr);
    blk_write_reg(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(addr >> 32));
    addr = (uintptr_t)&vq_used;
    blk_write_reg(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)addr);
    blk_write_reg(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(addr >> 32));
    blk_write_reg(VIRTIO_MMIO_QUEUE_READY, 1);
    exception_set_irq_handler(platform.virtio_irq[i], blk_irq);
    gic_enable_irq(platform.virtio_irq[i]);
    blk_write_reg(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                          VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    /* capacity (5.2.4), read as two halves like any 64-bit field (4.2.2.2). */
    blk_sectors = blk_read_reg(VIRTIO_MMIO_CONFIG) | (uint64_t)blk_read_reg(VIRTIO_MMIO_CONFIG + 4)
                                                         << 32;
    console_printf("TESTOS BLK virtio-blk at 0x%lx IRQ %u: %lu sectors\n", blk_base,
                   platform.virtio_irq[i], blk_sectors);
}

/* One request: header, the data segments, status; sleeps in WFI until the device answers. */
static uint8_t blk_request(uint32_t type, uint64_t sector, const struct blk_seg *segs,
                           unsigned int nsegs)
{
    uint16_t want = (uint16_t)(vq_used.idx + 1);
    unsigned int i;

    blk_hdr.type = type;
    blk_hdr.reserved = 0;
    blk_hdr.sector = sector;
    blk_status = 0xff;
    vq_desc[0] = (struct vq_desc){(uintptr_t)&blk_hdr, sizeof(blk_hdr), VIRTQ_DESC_F_NEXT, 1};
    for (i = 0; i < nsegs; i++)
        vq_desc[1 + i] = (struct vq_desc){
            segs[i].addr, segs[i].len,
            (uint16_t)(VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0)),
            (uint16_t)(2 + i)};
    vq_desc[1 + i] = (struct vq_desc){(uintptr_t)&blk_status, 1, VIRTQ_DESC_F_WRITE, 0};
    vq_avail.ring[vq_avail.idx % VQ_SIZE] = 0;
    /* The ring entry before the index (2.7.13), the index before the notification. */
    __atomic_store_n(&vq_avail.idx, (uint16_t)(vq_avail.idx + 1), __ATOMIC_RELEASE);
    dsb_sy();
    blk_write_reg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    while (__atomic_load_n(&vq_used.idx, __ATOMIC_ACQUIRE) != want)
        smp_wait_irq(&blk_irqs, blk_irqs + 1);
    if (vq_used.ring[(uint16_t)(want - 1) % VQ_SIZE].id != 0)
        check_fail("blk", "used entry %u names head %u", want - 1,
                   vq_used.ring[(uint16_t)(want - 1) % VQ_SIZE].id);
    return blk_status;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32): the test computes the same on the host. */
static uint32_t crc_table[256];

static uint32_t blk_crc32(const uint8_t *p, uint64_t len)
{
    uint32_t crc = ~0u;

    if (!crc_table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    }
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* RAM above TestOS's image and below the DTB (if it is up there), in whole chunks. */
static uintptr_t blk_buffers(uint64_t need)
{
    uint64_t lo = ((uintptr_t)_end + CHUNK - 1) & ~(CHUNK - 1);
    uint64_t hi = platform.ram_base + platform.ram_size, dtb = (uintptr_t)platform.dtb;

    if (hi > TESTOS_MAP_LIMIT)
        hi = TESTOS_MAP_LIMIT;
    if (dtb >= lo && dtb < hi)
        hi = dtb;
    if (hi < lo || hi - lo < need)
        check_fail("blk", "need %lu MiB of RAM above TestOS (0x%lx), have 0x%lx-0x%lx", need >> 20,
                   (uintptr_t)_end, lo, hi);
    return lo;
}

static void blk_need_sectors(uint64_t sector, uint64_t bytes)
{
    if (blk_sectors < sector + bytes / VIRTIO_BLK_SECTOR_SIZE)
        check_fail("blk", "the disk has %lu sectors, the exercise needs %lu", blk_sectors,
                   sector + bytes / VIRTIO_BLK_SECTOR_SIZE);
}

/* 32 MiB from READ_SECTOR in one descriptor; its CRC for the test to compare. */
static void blk_read_once(unsigned long round)
{
    uintptr_t buf = blk_buffers(READ_BYTES);
    struct blk_seg seg = {buf, (uint32_t)READ_BYTES};
    uint8_t status;

    blk_need_sectors(READ_SECTOR, READ_BYTES);
    console_printf("TESTOS BLK reading %lu bytes from sector %u (round %lu)\n", READ_BYTES,
                   READ_SECTOR, round);
    status = blk_request(VIRTIO_BLK_T_IN, READ_SECTOR, &seg, 1);
    if (status != VIRTIO_BLK_S_OK)
        check_fail("blk", "read of %lu bytes at sector %u: status %u", READ_BYTES, READ_SECTOR,
                   status);
    console_printf("TESTOS BLK read %lu bytes from sector %u: crc32 0x%08x (round %lu)\n",
                   READ_BYTES, READ_SECTOR, blk_crc32((const uint8_t *)buf, READ_BYTES), round);
}

/* The byte at offset i of what blkwrite writes; the test computes the same. */
static uint8_t blk_pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + (i >> 11));
}

/* 3 MiB from two buffers that are not adjacent, then read back in one and compared. */
static void blk_write_check(void)
{
    uintptr_t buf = blk_buffers(3 * CHUNK + WRITE_BYTES);
    uint8_t *first = (uint8_t *)buf, *second = (uint8_t *)(buf + CHUNK);
    uint8_t *back = (uint8_t *)(buf + 3 * CHUNK);
    struct blk_seg out[2] = {{(uintptr_t)first, (uint32_t)WRITE_SPLIT},
                             {(uintptr_t)second, (uint32_t)(WRITE_BYTES - WRITE_SPLIT)}};
    struct blk_seg in = {(uintptr_t)back, (uint32_t)WRITE_BYTES};
    uint8_t status;

    blk_need_sectors(WRITE_SECTOR, WRITE_BYTES);
    for (uint64_t i = 0; i < WRITE_BYTES; i++) {
        uint8_t *at = i < WRITE_SPLIT ? first + i : second + (i - WRITE_SPLIT);
        *at = blk_pattern(i);
        back[i] = (uint8_t)~blk_pattern(i);
    }
    status = blk_request(VIRTIO_BLK_T_OUT, WRITE_SECTOR, out, 2);
    if (status != VIRTIO_BLK_S_OK)
        check_fail("blk", "write of %lu bytes at sector %u: status %u", WRITE_BYTES, WRITE_SECTOR,
                   status);
    status = blk_request(VIRTIO_BLK_T_IN, WRITE_SECTOR, &in, 1);
    if (status != VIRTIO_BLK_S_OK)
        check_fail("blk", "read back at sector %u: status %u", WRITE_SECTOR, status);
    for (uint64_t i = 0; i < WRITE_BYTES; i++)
        if (back[i] != blk_pattern(i))
            check_fail("blk", "byte %lu read back as 0x%x, written 0x%x", i, back[i],
                       blk_pattern(i));
    console_printf("TESTOS BLK wrote %lu bytes at sector %u: crc32 0x%08x, read back equal\n",
                   WRITE_BYTES, WRITE_SECTOR, blk_crc32(back, WRITE_BYTES));
}

/** Bootargs blkwrite, blkread, blkloop (in that order): the exercises asked for. */
void blk_run(void)
{
    blk_init();
    if (platform_bootarg("blkwrite"))
        blk_write_check();
    if (platform_bootarg("blkread"))
        blk_read_once(0);
    if (platform_bootarg("blkloop"))
        for (unsigned long round = 1;; round++)
            blk_read_once(round);
    console_printf("TESTOS BLK done\n");
}

/** Whether the bootargs ask for any disk exercise. */
bool blk_wanted(void)
{
    return platform_bootarg("blkread") || platform_bootarg("blkwrite") ||
           platform_bootarg("blkloop");
}
