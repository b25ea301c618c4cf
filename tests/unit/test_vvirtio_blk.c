/* test_vvirtio_blk.c - the emulated virtio-blk device, driven as Linux's virtio drivers drive it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "hw/byteorder.h"
#include "lib/virtio.h"
#include "lib/errno.h"
#include "test.h"
#include "vmm/vvirtio_blk.h"

/* virtio-mmio registers (virtio 1.2, 4.2.2). */
/* The guest's RAM and the disk behind the device: more than a step's worth of each. */
#define RAM_BASE  0x40000000ull
#define RAM_SIZE  (4u << 20)
#define DISK_SIZE (3u << 20)
#define SECTORS   (DISK_SIZE / 512)
#define STEP      VVIRTIO_BLK_STEP_SIZE

/* Where the test's driver keeps things, as offsets into RAM. */
#define DESC_OFF   0x1000u
#define AVAIL_OFF  0x2000u
#define USED_OFF   0x3000u
#define HDR_OFF    0x4000u
#define STAT_OFF   0x4100u
#define DATA_OFF   0x10000u
#define DATA2_OFF  0x20000u
#define BIG_OFF    0x100000u /* 3 MiB from here to the end of RAM */
#define QUEUE_SIZE 128u

/* Apart, so that ASan sees any access past either. */
static uint8_t ram[RAM_SIZE] __attribute__((aligned(16)));
static uint8_t disk[DISK_SIZE];

/* The world outside the device, and what the device asked of it. */
static struct {
    uint64_t calls;      /* callback calls of any kind */
    unsigned mem_faults; /* map refused: outside RAM */
    unsigned disk_bad;   /* disk accesses outside the capacity: must never happen */
    unsigned disk_reads, disk_writes, flushes, notifies;
    uint64_t io_bytes; /* moved by disk_read and disk_write */
    uint64_t io_max;   /* the largest single disk_read or disk_write */
    int disk_error;    /* what disk_read and disk_write fail with, when not 0 */
    int flush_error;   /* what disk_flush fails with */
    /* map's host layout: RAM in chunks of this size; scrambled swaps each even/odd pair of them,
     * so guest RAM contiguous across a chunk boundary is not contiguous on the host. */
    uint64_t chunk;
    bool scrambled;
    bool in_mmio; /* inside vvirtio_blk_read/write: the disk must not be touched */
    bool level;
    bool repeated; /* set_irq was called with the level it already had */
    unsigned irq_calls;
} env;

/* The host offset of guest RAM offset off; the first two chunks (the rings) stay in place. */
static uint64_t host_off(uint64_t off)
{
    return env.scrambled && off >= 2 * env.chunk ? off ^ env.chunk : off;
}

static bool in_ram(uint64_t ipa, size_t len)
{
    return ipa >= RAM_BASE && len <= RAM_SIZE && ipa - RAM_BASE <= RAM_SIZE - len;
}

/* map without the bookkeeping (the worker-thread test calls it from two threads). */
static void *ram_map(uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    uint64_t off, n;

    if (!in_ram(ipa, 1))
        return NULL;
    off = ipa - RAM_BASE;
    n = env.chunk - off % env.chunk;
    *contiguous = n < len ? n : len;
    return ram + host_off(off);
}

static void *fake_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    void *p = ram_map(ipa, len, contiguous);

    CHECK(ctx == &env);
    CHECK(len >= 1);
    env.calls++;
    if (!p)
        env.mem_faults++;
    return p;
}

static bool disk_ok(uint64_t offset, size_t len)
{
    env.calls++;
    CHECK(!env.in_mmio);
    if (len > DISK_SIZE || offset > DISK_SIZE - len) {
        env.disk_bad++;
        return false;
    }
    env.io_bytes += len;
    if (len > env.io_max)
        env.io_max = len;
    return true;
}

/* The buffer must lie in RAM as map handed it out. */
static void check_buf(const void *buf, size_t len)
{
    const uint8_t *p = buf;

    CHECK(p >= ram && len <= RAM_SIZE && (size_t)(p - ram) <= RAM_SIZE - len);
}

static int fake_disk_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    CHECK(ctx == &env);
    check_buf(buf, len);
    if (!disk_ok(offset, len))
        return -EIO;
    env.disk_reads++;
    if (env.disk_error)
        return env.disk_error;
    memcpy(buf, disk + offset, len);
    return 0;
}

static int fake_disk_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    CHECK(ctx == &env);
    check_buf(buf, len);
    if (!disk_ok(offset, len))
        return -EIO;
    env.disk_writes++;
    if (env.disk_error)
        return env.disk_error;
    memcpy(disk + offset, buf, len);
    return 0;
}

static int fake_disk_flush(void *ctx)
{
    CHECK(ctx == &env);
    CHECK(!env.in_mmio);
    env.calls++;
    env.flushes++;
    return env.flush_error;
}

static void fake_set_irq(void *ctx, bool level)
{
    CHECK(ctx == &env);
    env.calls++;
    if (level == env.level)
        env.repeated = true;
    env.level = level;
    env.irq_calls++;
}

static void fake_notify(void *ctx)
{
    CHECK(ctx == &env);
    env.calls++;
    env.notifies++;
}

static const struct vvirtio_blk_ops fake_ops = {
    fake_map, fake_disk_read, fake_disk_write, fake_disk_flush, fake_set_irq, fake_notify,
};

static struct vvirtio_blk dev;

/* The test driver's view of its queue. */
static struct {
    unsigned num;
    uint16_t avail_idx;
    uint16_t used_seen;
} drv;

static void fresh(bool read_only)
{
    memset(&env, 0, sizeof(env));
    memset(&drv, 0, sizeof(drv));
    memset(ram, 0, sizeof(ram));
    env.chunk = RAM_SIZE;
    for (unsigned i = 0; i < DISK_SIZE; i++)
        disk[i] = (uint8_t)(i * 7 + i / 512);
    vvirtio_blk_init(&dev, DISK_SIZE, read_only, &fake_ops, &env);
}

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0xdeadbeef;

    env.in_mmio = true;
    CHECK_EQ(vvirtio_blk_read(&dev, off, 4, &v), 0);
    env.in_mmio = false;
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    env.in_mmio = true;
    CHECK_EQ(vvirtio_blk_write(&dev, off, 4, v), 0);
    env.in_mmio = false;
}

/* The worker's part: steps until it finds nothing to do; how many steps that took. */
static unsigned run(void)
{
    unsigned steps = 0;

    while (vvirtio_blk_step(&dev) && steps < 100000)
        steps++;
    CHECK(steps < 100000);
    CHECK(!vvirtio_blk_notified(&dev));
    return steps;
}

static uint64_t features(void)
{
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(VIRTIO_MMIO_DEVICE_FEATURES);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return hi << 32 | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

static void set_driver_features(uint64_t f)
{
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

/* Linux's virtio_mmio probe, virtio_dev_probe and setup_vq, in their order (3.1.1, 4.2.3). */
static void probe(unsigned num)
{
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(features() & ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
                                      (1ull << VIRTIO_BLK_F_SEG_MAX) |
                                      (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_RO)));
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QUEUE_SIZE);
    memset(ram + DESC_OFF, 0, 0x3000);
    wr(VIRTIO_MMIO_QUEUE_NUM, num);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + DESC_OFF));
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((RAM_BASE + DESC_OFF) >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + AVAIL_OFF));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((RAM_BASE + AVAIL_OFF) >> 32));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + USED_OFF));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((RAM_BASE + USED_OFF) >> 32));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                               VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    drv.num = num;
    drv.avail_idx = 0;
    drv.used_seen = 0;
}

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = ram + DESC_OFF + 16 * i;

    store_le(p, addr, 8);
    store_le(p + 8, len, 4);
    store_le(p + 12, flags, 2);
    store_le(p + 14, next, 2);
}

static void put_hdr(uint64_t off, uint32_t type, uint64_t sector)
{
    store_le(ram + off, type, 4);
    store_le(ram + off + 4, 0, 4);
    store_le(ram + off + 8, sector, 8);
}

/*
 * Make head available and notify, as virtqueue_add and virtqueue_kick do. The trap does nothing
 * but tell the worker: no guest RAM, no disk.
 */
static void make_available(uint16_t head)
{
    store_le(ram + AVAIL_OFF + 4 + 2 * (drv.avail_idx % drv.num), head, 2);
    drv.avail_idx++;
    __atomic_store_n((uint16_t *)(ram + AVAIL_OFF + 2), drv.avail_idx, __ATOMIC_RELEASE);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void post(uint16_t head)
{
    uint64_t calls = env.calls;
    unsigned notifies = env.notifies;

    make_available(head);
    CHECK_EQ(env.notifies, notifies + 1);
    CHECK_EQ(env.calls, calls + 1);
    CHECK(vvirtio_blk_notified(&dev));
}

/* Post head and let the worker serve the queue. */
static void kick(uint16_t head)
{
    post(head);
    run();
}

/* The next used entry must be head's, with length len; the driver acknowledges the interrupt. */
static void expect_used(uint16_t head, uint32_t len)
{
    const uint8_t *e = ram + USED_OFF + 4 + 8 * (drv.used_seen % drv.num);

    CHECK_EQ(load_le(ram + USED_OFF + 2, 2), (uint16_t)(drv.used_seen + 1));
    CHECK_EQ(load_le(e, 4), head);
    CHECK_EQ(load_le(e + 4, 4), len);
    drv.used_seen++;
    CHECK(env.level);
    CHECK(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & 1);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, rd(VIRTIO_MMIO_INTERRUPT_STATUS));
    CHECK(!env.level);
}

/* One request as Linux's virtio_blk builds it: header, data (if any), status. Its status byte. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t data_off, uint32_t len)
{
    bool to_guest = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

    put_hdr(HDR_OFF, type, sector);
    ram[STAT_OFF] = 0xee;
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    if (len) {
        put_desc(1, RAM_BASE + data_off, len,
                 VIRTQ_DESC_F_NEXT | (to_guest ? VIRTQ_DESC_F_WRITE : 0), 2);
        put_desc(2, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    } else {
        put_desc(1, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    }
    kick(0);
    expect_used(0, to_guest ? len + 1 : 1);
    return ram[STAT_OFF];
}

static void test_identity(void)
{
    uint64_t v;

    fresh(false);
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0x52545641);
    CHECK_EQ(features(), (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
                             (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE));
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QUEUE_SIZE);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* only queue 0 exists */
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK_EQ(rd(0x0f0), 0); /* reserved */
    /* capacity as Linux reads a 64-bit field: two 32-bit halves (4.2.2.2) */
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG), SECTORS);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG + 4), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_SEG_MAX), QUEUE_SIZE - 2); /* seg_max */
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_BLK_SIZE), 512);           /* blk_size */
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG + 0xfc), 0);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG, 1, &v), 0);
    CHECK_EQ(v, SECTORS & 0xff);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG + 20, 2, &v), 0);
    CHECK_EQ(v, 512);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG + 21, 1, &v), 0);
    CHECK_EQ(v, 2);
    /* Wrong widths, misalignment and offsets past the window. */
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_MAGIC_VALUE, 1, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_MAGIC_VALUE, 8, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_MAGIC_VALUE + 2, 4, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_write(&dev, VIRTIO_MMIO_STATUS, 2, 1), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG, 8, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG + 1, 2, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG + 2, 4, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, 0x200, 4, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_write(&dev, 0x1000, 4, 0), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG, 3, &v), -EINVAL);
    CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_CONFIG, 0, &v), -EINVAL);
    /* Configuration writes are ignored: nothing there is writable. */
    CHECK_EQ(vvirtio_blk_write(&dev, VIRTIO_MMIO_CONFIG, 4, 7), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG), SECTORS);
    CHECK_EQ(env.calls, 0);
}

static void test_negotiation(void)
{
    fresh(false);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(
        (1ull << VIRTIO_BLK_F_FLUSH)); /* no VERSION_1: no legacy interface to fall back on */
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features((1ull << VIRTIO_F_VERSION_1) |
                        (1ull << VIRTIO_F_INDIRECT_DESC)); /* INDIRECT was not offered */
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features((1ull << VIRTIO_F_VERSION_1) |
                        (1ull << VIRTIO_BLK_F_RO)); /* RO is offered only for a read-only disk */
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(1ull << VIRTIO_F_VERSION_1);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS),
             VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    /* The device's bit cannot be set by the driver, and bits are not cleared but by reset. */
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_NEEDS_RESET);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS),
             VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    fresh(true);
    CHECK_EQ(features(), (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
                             (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                             (1ull << VIRTIO_BLK_F_RO));
}

static void test_write_read_flush(void)
{
    static const char serial[20] = "avatar-vblk";

    fresh(false);
    probe(QUEUE_SIZE);
    for (unsigned i = 0; i < 3 * 512; i++)
        ram[DATA_OFF + i] = (uint8_t)(i ^ 0x5a);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 10, DATA_OFF, 3 * 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(disk + 10 * 512, ram + DATA_OFF, 3 * 512) == 0);
    CHECK_EQ(env.flushes, 0); /* FLUSH was negotiated: writes may be cached */
    memset(ram + DATA2_OFF, 0, 3 * 512);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 10, DATA2_OFF, 3 * 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + DATA2_OFF, ram + DATA_OFF, 3 * 512) == 0);
    CHECK_EQ(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
    CHECK_EQ(env.flushes, 1);
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, DATA_OFF, 20), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + DATA_OFF, serial, 20) == 0);
    CHECK_EQ(request(42, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
    /* Sector 0 and the last sector are inside. */
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + DATA2_OFF, disk, 512) == 0);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, SECTORS - 1, DATA_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(disk + DISK_SIZE - 512, ram + DATA_OFF, 512) == 0);
    /* Round the ring more than once (16-bit indices wrap only much later; slots wrap here). */
    for (unsigned i = 0; i < 3 * QUEUE_SIZE; i++)
        CHECK_EQ(request(VIRTIO_BLK_T_IN, i % SECTORS, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK_EQ(env.mem_faults, 0);
    CHECK_EQ(env.disk_bad, 0);
    CHECK(!env.repeated);
}

/* Without FLUSH negotiated a completed write must be stable: the device flushes it (5.2.6). */
static void test_write_through(void)
{
    fresh(false);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(1ull << VIRTIO_F_VERSION_1);
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + DESC_OFF));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + AVAIL_OFF));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + USED_OFF));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                               VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    drv.num = 8;
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 1, DATA_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK_EQ(env.flushes, 1);
    env.flush_error = -EIO;
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 1, DATA_OFF, 512),
             VIRTIO_BLK_S_IOERR); /* written, but not stable */
    CHECK_EQ(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_IOERR);
}

/* Data split over descriptors of odd sizes, in guest RAM out of order. */
static void test_scatter(void)
{
    static const uint32_t pieces[] = {1000, 3000, 7000, 5000, 4480}; /* 20480 bytes */
    uint32_t off = 0;
    unsigned i;

    fresh(false);
    probe(16);
    for (i = 0; i < 20480; i++)
        ram[DATA_OFF + i] = (uint8_t)(i * 13 + 1);
    put_hdr(HDR_OFF, VIRTIO_BLK_T_OUT, 7);
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    for (i = 0; i < 5; i++) {
        /* The pieces in RAM in reverse order, so a wrong order shows. */
        uint32_t at = DATA2_OFF + 0x2000 * (4 - i);

        memcpy(ram + at, ram + DATA_OFF + off, pieces[i]);
        put_desc(1 + i, RAM_BASE + at, pieces[i], VIRTQ_DESC_F_NEXT, 2 + i);
        off += pieces[i];
    }
    put_desc(6, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(0);
    expect_used(0, 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK(memcmp(disk + 7 * 512, ram + DATA_OFF, 20480) == 0);

    /* The same back, framed differently (2.7.4): header and nothing else in one descriptor, the
     * data and the status sharing the last one. */
    memset(ram + DATA2_OFF, 0, 20481);
    put_hdr(HDR_OFF, VIRTIO_BLK_T_IN, 7);
    put_desc(3, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 9);
    put_desc(9, RAM_BASE + DATA2_OFF, 20481, VIRTQ_DESC_F_WRITE, 0);
    kick(3);
    expect_used(3, 20481);
    CHECK(memcmp(ram + DATA2_OFF, ram + DATA_OFF, 20480) == 0);
    CHECK_EQ(ram[DATA2_OFF + 20480], VIRTIO_BLK_S_OK);

    /* Header split over two descriptors, data in the second's tail. */
    put_hdr(DATA2_OFF, VIRTIO_BLK_T_OUT, 0);
    memcpy(ram + DATA2_OFF + 16, ram + DATA_OFF, 512);
    put_desc(0, RAM_BASE + DATA2_OFF, 5, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + DATA2_OFF + 5, 11 + 512, VIRTQ_DESC_F_NEXT, 2);
    put_desc(2, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(0);
    expect_used(0, 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK(memcmp(disk, ram + DATA_OFF, 512) == 0);
    CHECK_EQ(env.mem_faults, 0);
}

static void test_read_only(void)
{
    uint8_t before[DISK_SIZE];

    fresh(true);
    probe(QUEUE_SIZE);
    memcpy(before, disk, DISK_SIZE);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, DATA_OFF, 512), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(env.disk_writes, 0);
    CHECK(memcmp(before, disk, DISK_SIZE) == 0);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 3, DATA2_OFF, 1024), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + DATA2_OFF, disk + 3 * 512, 1024) == 0);
    CHECK_EQ(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
}

static void test_out_of_range(void)
{
    fresh(false);
    probe(QUEUE_SIZE);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, SECTORS, DATA2_OFF, 512), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, SECTORS - 1, DATA_OFF, 1024), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, UINT64_MAX, DATA2_OFF, 512), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 1ull << 55, DATA_OFF, 512),
             VIRTIO_BLK_S_IOERR); /* sector * 512 wraps */
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 513),
             VIRTIO_BLK_S_IOERR); /* not whole sectors */
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, DATA_OFF, 100), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(env.disk_bad, 0);
    CHECK_EQ(env.disk_reads + env.disk_writes, 0); /* refused before anything moved */
    env.disk_error = -EIO;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, DATA_OFF, 512), VIRTIO_BLK_S_IOERR);
    env.disk_error = 0;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
}

/* Submit head as it stands in the table; the used length and the status byte (0xee: untouched). */
static void malformed(uint16_t head, uint32_t used_len, uint8_t status)
{
    ram[STAT_OFF] = 0xee;
    kick(head);
    expect_used(head, used_len);
    CHECK_EQ(ram[STAT_OFF], status);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_malformed_requests(void)
{
    fresh(false);
    probe(8);
    put_hdr(HDR_OFF, VIRTIO_BLK_T_IN, 0);
    /* Header too short. */
    put_desc(0, RAM_BASE + HDR_OFF, 8, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 1, VIRTIO_BLK_S_IOERR);
    /* Header device-writable: no readable bytes at all. */
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    malformed(0, 1 + 16, VIRTIO_BLK_S_IOERR);
    /* Readable after writable (2.7.4.2). */
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + DATA_OFF, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put_desc(2, RAM_BASE + DATA2_OFF, 512, VIRTQ_DESC_F_NEXT, 3);
    put_desc(3, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 1 + 512, VIRTIO_BLK_S_IOERR);
    /* INDIRECT, not offered. */
    put_desc(1, RAM_BASE + DATA_OFF, 512,
             VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT, 2);
    put_desc(2, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 1 + 512, VIRTIO_BLK_S_IOERR);
    /* A data buffer outside guest RAM: asked for, refused, answered with IOERR. */
    put_desc(1, 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    malformed(0, 1 + 512, VIRTIO_BLK_S_IOERR);
    CHECK(env.mem_faults > 0);
    /* A descriptor whose range wraps past 2^64. */
    put_desc(1, UINT64_MAX - 100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    malformed(0, 1, VIRTIO_BLK_S_IOERR);
    /* A 4 GiB read: refused by range, not buffered. */
    put_desc(1, RAM_BASE, 0xfffffe00u, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    malformed(0, 0xfffffe01u, VIRTIO_BLK_S_IOERR);
    /* The status descriptor read-only: nowhere to answer, the head still returns. */
    put_desc(1, RAM_BASE + STAT_OFF, 1, 0, 0);
    malformed(0, 0, 0xee);
    /* The status descriptor empty. */
    put_desc(1, RAM_BASE + STAT_OFF, 0, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 0, 0xee);
    /* The status byte outside guest RAM. */
    put_desc(1, RAM_BASE + RAM_SIZE, 1, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 0, 0xee);
    /* A next index past the table (where, just past it, lies what would pass for a status). */
    put_desc(1, RAM_BASE + DATA_OFF, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 8);
    put_desc(8, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    malformed(0, 0, 0xee);
    /* A loop: 0 -> 1 -> 2 -> 0; the walk stops after a queue's worth. */
    put_desc(1, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(2, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    env.calls = 0;
    malformed(0, 0, 0xee);
    CHECK(env.calls < 20);
    /* A chain of exactly the queue size is fine. */
    put_hdr(HDR_OFF, VIRTIO_BLK_T_IN, 2);
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i < 7; i++)
        put_desc(i, RAM_BASE + DATA2_OFF + 64 * i, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
                 (uint16_t)(i + 1));
    put_desc(7, RAM_BASE + STAT_OFF, 129, VIRTQ_DESC_F_WRITE, 0);
    ram[STAT_OFF + 128] = 0xee;
    kick(0);
    expect_used(0, 6 * 64 + 129);
    CHECK_EQ(ram[STAT_OFF + 128], VIRTIO_BLK_S_OK); /* the status is the last byte of the 129 */
    CHECK(memcmp(ram + DATA2_OFF + 64, disk + 2 * 512, 384) == 0);
    CHECK(memcmp(ram + STAT_OFF, disk + 2 * 512 + 384, 128) == 0);
    /* After all that the device still works. */
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 1, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK_EQ(env.disk_bad, 0);
    CHECK_EQ(env.disk_writes, 0);
}

/* Rings that cannot be used: DEVICE_NEEDS_RESET, a configuration interrupt, and then nothing. */
static void expect_needs_reset(void)
{
    uint64_t before;

    CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & 2);
    CHECK(env.level);
    before = env.calls;
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(run(), 0);
    CHECK_EQ(env.calls, before);
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK(!env.level);
}

/* A ready queue with one register rewritten to val, then a notification: it must need a reset. */
static void expect_bad_queue_reg(uint64_t reg, uint32_t val)
{
    probe(8);
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(reg, val);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    run();
    expect_needs_reset();
}

static void test_needs_reset(void)
{
    fresh(false);
    /* The available ring outside guest RAM. */
    expect_bad_queue_reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x1000);
    /* A ring that wraps past 2^64. */
    probe(8);
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0xfffffff0u);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0xffffffffu);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    run();
    expect_needs_reset();
    /* The used ring outside guest RAM, found on the first answer. */
    probe(8);
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x2000);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    put_hdr(HDR_OFF, VIRTIO_BLK_T_FLUSH, 0);
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(0);
    expect_needs_reset();
    /* The available index more than a queue ahead. */
    probe(8);
    store_le(ram + AVAIL_OFF + 2, 9, 2);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    run();
    expect_needs_reset();
    /* A head past the table. */
    probe(8);
    kick(8);
    expect_needs_reset();
    /* The descriptor table outside guest RAM. */
    probe(8);
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    kick(0);
    expect_needs_reset();
    /* Rings without the alignment 2.7 requires: an index could not be read in one access. */
    expect_bad_queue_reg(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + USED_OFF + 2));
    expect_bad_queue_reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + AVAIL_OFF + 1));
    /* A queue size that is not a power of 2. */
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(VIRTIO_MMIO_QUEUE_NUM, 3);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
             0); /* no configuration interrupt before DRIVER_OK (2.1.2) */
    wr(VIRTIO_MMIO_STATUS, 0);
    /* And the device works again after a reset. */
    probe(8);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK_EQ(env.disk_bad, 0);
}

static void test_reset_and_gating(void)
{
    fresh(false);
    /* Nothing is consumed before DRIVER_OK (3.1.1). */
    probe(8);
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + DESC_OFF));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + AVAIL_OFF));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + USED_OFF));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    env.calls = 0;
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(run(), 0);
    CHECK_EQ(env.calls, 0);
    /* Setup registers are ignored while the queue is enabled. */
    probe(8);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x1000);
    wr(VIRTIO_MMIO_QUEUE_NUM, 3);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    /* Another queue index is not ours: ignored. */
    env.calls = 0;
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    CHECK(!vvirtio_blk_notified(&dev));
    CHECK_EQ(env.calls, 0);
    /* Reset with the line up takes it down and forgets the ring positions. */
    put_hdr(HDR_OFF, VIRTIO_BLK_T_FLUSH, 0);
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(0);
    CHECK(env.level);
    vvirtio_blk_reset(&dev);
    CHECK(!env.level);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    probe(8);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, DATA2_OFF, 512),
             VIRTIO_BLK_S_OK); /* used->idx starts from 0 again */
    /* Acknowledging only some bits leaves the rest. */
    kick(0);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 2);
    CHECK(env.level);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    CHECK(!env.level);
    CHECK(!env.repeated);
}

/* A small deterministic generator, so a failing fuzz run can be replayed. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Guest RAM at offset off as the guest sees it, byte by byte through map's host layout. */
static uint8_t *gbyte(uint64_t off)
{
    return ram + host_off(off);
}

static uint8_t pattern(uint64_t i, unsigned seed)
{
    return (uint8_t)(i * 131 + (i >> 9) * 7 + seed);
}

/* One IN or OUT request with a single data descriptor, at head 0. */
static void put_data_request(uint32_t type, uint64_t sector, uint64_t data_off, uint32_t len)
{
    put_hdr(HDR_OFF, type, sector);
    ram[STAT_OFF] = 0xee;
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, RAM_BASE + data_off, len,
             VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0), 2);
    put_desc(2, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
}

static void post_data(uint32_t type, uint64_t sector, uint64_t data_off, uint32_t len)
{
    put_data_request(type, sector, data_off, len);
    post(0);
}

/* Nothing answered yet: no used entry, no status, no interrupt. */
static void expect_unanswered(void)
{
    CHECK_EQ(load_le(ram + USED_OFF + 2, 2), drv.used_seen);
    CHECK_EQ(ram[STAT_OFF], 0xee);
    CHECK(!env.level);
}

/*
 * A request larger than a step moves in steps of at most VVIRTIO_BLK_STEP_SIZE, each one disk call
 * straight on guest RAM (no bounce buffer), and is answered only after the last.
 */
static void test_large_request_steps(void)
{
    const uint32_t len = 2 * STEP + STEP / 2;

    fresh(false);
    probe(8);
    post_data(VIRTIO_BLK_T_IN, 8, BIG_OFF, len);
    CHECK_EQ(env.io_bytes, 0); /* the notify only told the worker */
    CHECK(vvirtio_blk_step(&dev));
    CHECK_EQ(env.disk_reads, 1);
    CHECK_EQ(env.io_bytes, STEP);
    expect_unanswered();
    CHECK(vvirtio_blk_step(&dev));
    CHECK_EQ(env.disk_reads, 2);
    CHECK_EQ(env.io_bytes, 2 * STEP);
    expect_unanswered();
    CHECK(vvirtio_blk_step(&dev));
    CHECK_EQ(env.disk_reads, 3);
    CHECK_EQ(env.io_bytes, len);
    CHECK(!vvirtio_blk_step(&dev));
    expect_used(0, len + 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK_EQ(env.io_max, STEP);
    CHECK(memcmp(ram + BIG_OFF, disk + 8 * 512, len) == 0);

    /* The same size out, from another pattern. */
    for (uint32_t i = 0; i < len; i++)
        ram[BIG_OFF + i] = pattern(i, 3);
    post_data(VIRTIO_BLK_T_OUT, 16, BIG_OFF, len);
    CHECK_EQ(run(), 3);
    expect_used(0, 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK_EQ(env.disk_writes, 3);
    CHECK_EQ(env.io_max, STEP);
    CHECK(memcmp(disk + 16 * 512, ram + BIG_OFF, len) == 0);
    CHECK_EQ(env.mem_faults, 0);
}

/*
 * Guest RAM contiguous across a chunk boundary is two host ranges: the disk calls split there and
 * each takes the right host memory.
 */
static void test_chunked_ram(void)
{
    const uint64_t chunk = 64 * 1024, from = 2 * chunk + 1000, to = 9 * chunk + 24;
    const uint32_t len = 600 * 512; /* 300 KiB: four boundaries crossed, five host ranges */
    uint64_t i;

    fresh(false);
    env.chunk = chunk;
    env.scrambled = true;
    probe(8);
    for (i = 0; i < len; i++)
        *gbyte(from + i) = pattern(i, 5);
    post_data(VIRTIO_BLK_T_OUT, 100, from, len);
    CHECK_EQ(run(), 1);
    expect_used(0, 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK_EQ(env.disk_writes, 5);
    CHECK(env.io_max <= chunk);
    for (i = 0; i < len && disk[100 * 512 + i] == pattern(i, 5); i++)
        ;
    CHECK_EQ(i, len);
    post_data(VIRTIO_BLK_T_IN, 100, to, len);
    CHECK_EQ(run(), 1);
    expect_used(0, len + 1);
    CHECK_EQ(env.disk_reads, 5);
    for (i = 0; i < len && *gbyte(to + i) == pattern(i, 5); i++)
        ;
    CHECK_EQ(i, len);
    CHECK_EQ(env.mem_faults, 0);
}

/*
 * Data descriptors that are not wholly guest RAM: the request fails with IOERR before the disk is
 * touched, and the device still works afterwards.
 */
static void test_buffers_outside_ram(void)
{
    static const struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {
        {RAM_BASE + RAM_SIZE - 4096, 4096 + 512}, /* runs past the end of RAM */
        {RAM_BASE - 512, 1024},                   /* starts below it */
        {RAM_BASE + RAM_SIZE, 512},               /* just past it */
        {RAM_BASE + (1ull << 30), 512},           /* far above it */
        {0, 512},
    };
    uint8_t before[4096];

    fresh(false);
    probe(8);
    memcpy(before, disk, sizeof(before));
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (unsigned out = 0; out < 2; out++) {
            unsigned faults = env.mem_faults;

            /* A good first descriptor of more than a step, then the bad one. */
            put_hdr(HDR_OFF, out ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0);
            ram[STAT_OFF] = 0xee;
            put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 1);
            put_desc(1, RAM_BASE + BIG_OFF, STEP + 4096,
                     VIRTQ_DESC_F_NEXT | (out ? 0 : VIRTQ_DESC_F_WRITE), 2);
            put_desc(2, bad[i].addr, bad[i].len, VIRTQ_DESC_F_NEXT | (out ? 0 : VIRTQ_DESC_F_WRITE),
                     3);
            put_desc(3, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
            kick(0);
            expect_used(0, out ? 1 : STEP + 4096 + bad[i].len + 1);
            CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_IOERR);
            CHECK(env.mem_faults > faults);
        }
    }
    CHECK_EQ(env.disk_reads + env.disk_writes, 0);
    CHECK(memcmp(disk, before, sizeof(before)) == 0);
    /* The last byte of RAM is RAM. */
    memset(ram + RAM_SIZE - 512, 0, 512);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 1, RAM_SIZE - 512, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + RAM_SIZE - 512, disk + 512, 512) == 0);
}

/* A reset, or QueueReady cleared, between two steps: the request is dropped unanswered. */
static void test_reset_between_steps(void)
{
    for (unsigned how = 0; how < 2; how++) {
        fresh(false);
        probe(8);
        post_data(VIRTIO_BLK_T_IN, 0, BIG_OFF, 3 * STEP);
        CHECK(vvirtio_blk_step(&dev));
        CHECK_EQ(env.io_bytes, STEP);
        if (how == 0)
            wr(VIRTIO_MMIO_STATUS, 0);
        else
            wr(VIRTIO_MMIO_QUEUE_READY, 0);
        CHECK(vvirtio_blk_step(&dev)); /* drops it */
        CHECK(!vvirtio_blk_step(&dev));
        CHECK_EQ(env.io_bytes, STEP);
        expect_unanswered();
        CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
        CHECK_EQ(dev.last_avail, 0);
        probe(8);
        CHECK_EQ(request(VIRTIO_BLK_T_IN, 4, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
        CHECK(memcmp(ram + DATA2_OFF, disk + 4 * 512, 512) == 0);
    }
}

/*
 * A vCPU writes registers while the worker is inside a disk callback: a notify is taken by the
 * worker's next look at the ring, a reset drops what the worker was doing.
 */
static void (*race_action)(void);
static bool race_armed;

static void race_notify(void)
{
    post(1);
}

static void race_reset(void)
{
    wr(VIRTIO_MMIO_STATUS, 0);
}

static int race_disk_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    if (race_armed) {
        race_armed = false;
        race_action();
    }
    return fake_disk_write(ctx, offset, buf, len);
}

/* Head 0 writes sector 4 (and so calls disk_write), head 1 flushes. */
static void race_requests(void)
{
    put_hdr(HDR_OFF, VIRTIO_BLK_T_OUT, 4);
    put_desc(0, RAM_BASE + HDR_OFF, 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc(2, RAM_BASE + DATA_OFF, 512, VIRTQ_DESC_F_NEXT, 3);
    put_desc(3, RAM_BASE + STAT_OFF, 1, VIRTQ_DESC_F_WRITE, 0);
    put_hdr(HDR_OFF + 16, VIRTIO_BLK_T_FLUSH, 0);
    put_desc(1, RAM_BASE + HDR_OFF + 16, 16, VIRTQ_DESC_F_NEXT, 4);
    put_desc(4, RAM_BASE + STAT_OFF + 1, 1, VIRTQ_DESC_F_WRITE, 0);
}

static void test_mmio_during_step(void)
{
    static const struct vvirtio_blk_ops race_ops = {
        fake_map, fake_disk_read, race_disk_write, fake_disk_flush, fake_set_irq, fake_notify,
    };

    fresh(false);
    vvirtio_blk_init(&dev, DISK_SIZE, false, &race_ops, &env); /* ops are bound at init */
    probe(8);
    race_requests();
    race_action = race_notify;
    race_armed = true;
    kick(0);
    CHECK(!race_armed);
    CHECK_EQ(load_le(ram + USED_OFF + 2, 2), 2);
    CHECK_EQ(load_le(ram + USED_OFF + 4, 4), 0);
    CHECK_EQ(load_le(ram + USED_OFF + 12, 4), 1);
    CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
    CHECK_EQ(ram[STAT_OFF + 1], VIRTIO_BLK_S_OK);
    CHECK_EQ(env.flushes, 1);

    /* Both made available at once; a reset arrives during the first. */
    probe(8);
    race_requests();
    env.flushes = 0;
    ram[STAT_OFF] = ram[STAT_OFF + 1] = 0xee;
    store_le(ram + AVAIL_OFF + 4, 0, 2);
    store_le(ram + AVAIL_OFF + 6, 1, 2);
    store_le(ram + AVAIL_OFF + 2, 2, 2);
    race_action = race_reset;
    race_armed = true;
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    run();
    CHECK(!race_armed);
    CHECK_EQ(ram[STAT_OFF], 0xee);     /* written to the disk, but never answered */
    CHECK_EQ(ram[STAT_OFF + 1], 0xee); /* and the flush was never seen */
    CHECK_EQ(load_le(ram + USED_OFF + 2, 2), 0);
    CHECK_EQ(env.flushes, 0);
    CHECK_EQ(dev.last_avail, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK(!env.level);
    probe(8);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 4, DATA2_OFF, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(ram + DATA2_OFF, ram + DATA_OFF, 512) == 0);
}

/*
 * A worker thread against a vCPU thread, as in the hypervisor: requests complete with the right
 * data and interrupts, and resets in the middle of large requests drop them. The callbacks here
 * keep no counters: they run on the worker while the test's thread reads and writes registers.
 */
static struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool stop;
    bool level; /* atomic */
} thr = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

static int thr_disk_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, disk + offset, len);
    return 0;
}

static int thr_disk_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    (void)ctx;
    memcpy(disk + offset, buf, len);
    return 0;
}

static int thr_disk_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static void thr_set_irq(void *ctx, bool level)
{
    (void)ctx;
    __atomic_store_n(&thr.level, level, __ATOMIC_SEQ_CST);
}

static void thr_notify(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&thr.m);
    pthread_cond_signal(&thr.cv);
    pthread_mutex_unlock(&thr.m);
}

static void *thr_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    (void)ctx;
    return ram_map(ipa, len, contiguous);
}

static void *thr_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&thr.m);
    while (!thr.stop) {
        pthread_mutex_unlock(&thr.m);
        bool more = vvirtio_blk_step(&dev);
        pthread_mutex_lock(&thr.m);
        while (!more && !thr.stop && !vvirtio_blk_notified(&dev))
            pthread_cond_wait(&thr.cv, &thr.m);
    }
    pthread_mutex_unlock(&thr.m);
    return NULL;
}

/* Wait (yielding) until used->idx reaches idx; false after a generous bound. */
static bool thr_wait_used(uint16_t idx)
{
    for (long i = 0; i < 10000000; i++) {
        if (__atomic_load_n((uint16_t *)(ram + USED_OFF + 2), __ATOMIC_ACQUIRE) == idx)
            return true;
        sched_yield();
    }
    return false;
}

/* Wait (yielding) until the line is low: the worker may be the one reporting the change. */
static bool thr_wait_line_low(void)
{
    for (long i = 0; i < 10000000; i++) {
        if (!__atomic_load_n(&thr.level, __ATOMIC_SEQ_CST))
            return true;
        sched_yield();
    }
    return false;
}

static void test_worker_thread(void)
{
    static const struct vvirtio_blk_ops thr_ops = {
        thr_map, thr_disk_read, thr_disk_write, thr_disk_flush, thr_set_irq, thr_notify,
    };
    pthread_t worker;
    uint16_t used = 0;

    fresh(false);
    vvirtio_blk_init(&dev, DISK_SIZE, false, &thr_ops, &env); /* ops are bound at init */
    rng_state = 0x5851f42d4c957f2dull;
    probe(8);
    thr.stop = false;
    CHECK_EQ(pthread_create(&worker, NULL, thr_worker, NULL), 0);
    for (unsigned round = 0; round < 400 && !test_failed_checks; round++) {
        uint64_t sector = rng() % (SECTORS - 8);
        unsigned what = (unsigned)(rng() % 8);

        if (what == 0) {
            /* A large read, reset after a while: the line goes down with InterruptStatus. */
            put_data_request(VIRTIO_BLK_T_IN, 0, BIG_OFF, 3 * STEP);
            make_available(0);
            for (unsigned i = rng() % 64; i; i--)
                sched_yield();
            wr(VIRTIO_MMIO_STATUS, 0);
            CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
            CHECK(thr_wait_line_low());
            probe(8);
            used = 0;
            continue;
        }
        if (what < 4) {
            for (unsigned i = 0; i < 4096; i++)
                ram[DATA_OFF + i] = (uint8_t)rng();
            put_data_request(VIRTIO_BLK_T_OUT, sector, DATA_OFF, 4096);
        } else {
            put_data_request(VIRTIO_BLK_T_IN, sector, DATA2_OFF, 4096);
        }
        make_available(0);
        used++;
        CHECK(thr_wait_used(used));
        CHECK_EQ(ram[STAT_OFF], VIRTIO_BLK_S_OK);
        if (what < 4)
            CHECK(memcmp(disk + sector * 512, ram + DATA_OFF, 4096) == 0);
        else
            CHECK(memcmp(ram + DATA2_OFF, disk + sector * 512, 4096) == 0);
        CHECK(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & 1);
        CHECK(__atomic_load_n(&thr.level, __ATOMIC_SEQ_CST));
        wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);
        CHECK(thr_wait_line_low());
    }
    pthread_mutex_lock(&thr.m);
    thr.stop = true;
    pthread_cond_signal(&thr.cv);
    pthread_mutex_unlock(&thr.m);
    pthread_join(worker, NULL);
    CHECK(!__atomic_load_n(&thr.level, __ATOMIC_SEQ_CST));
}

/* The part of RAM the fuzzer mostly uses, so that rings, headers and data run into each other. */
#define FUZZ_SPAN (256u * 1024)

/* Mostly places in or at the edges of guest RAM, sometimes anything. */
static uint64_t fuzz_addr(void)
{
    uint64_t r = rng();

    switch (r % 8) {
    case 0: return rng();
    case 1: return RAM_BASE + RAM_SIZE - (r >> 8) % 64;
    case 2: return RAM_BASE - (r >> 8) % 64;
    case 3: return UINT64_MAX - (r >> 8) % 64;
    default: return RAM_BASE + (r >> 8) % FUZZ_SPAN;
    }
}

static uint32_t fuzz_len(void)
{
    static const uint32_t lens[] = {0, 1, 15, 16, 17, 511, 512, 513, 4096, 0x7fffffff, 0xffffffff};
    uint64_t r = rng();

    return r % 3 ? lens[(r >> 8) % 11] : (uint32_t)(r >> 8) % 70000;
}

/* Mostly whole sectors, up to 8 KiB; sometimes more than a step. */
static uint32_t fuzz_data_len(void)
{
    uint64_t r = rng();

    if (r % 64 == 0)
        return 512 * (uint32_t)(1 + (r >> 8) % SECTORS);
    return r % 4 ? 512 * (uint32_t)(1 + (r >> 8) % 16) : fuzz_len();
}

/* Mostly a buffer wholly in guest RAM; a large one above the span, where there is room. */
static uint64_t fuzz_buffer(uint32_t len)
{
    if (rng() % 4 == 0)
        return fuzz_addr();
    if (len < FUZZ_SPAN)
        return RAM_BASE + rng() % (FUZZ_SPAN - len);
    return len < RAM_SIZE - FUZZ_SPAN ? RAM_BASE + FUZZ_SPAN + rng() % (RAM_SIZE - FUZZ_SPAN - len)
                                      : fuzz_addr();
}

/* Where the fuzzer believes the rings are (its last setup), for scribbling into them. */
static struct {
    uint64_t desc, avail;
    unsigned num;
    uint16_t avail_idx;
} fz;

static void fuzz_scribble(uint64_t ipa, const void *buf, size_t len)
{
    if (in_ram(ipa, len))
        memcpy(ram + (ipa - RAM_BASE), buf, len);
}

/* A chain that is plausible and then damaged in one random place. */
static void fuzz_chain(void)
{
    static const uint32_t types[] = {
        VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, 3, 0xffffffffu};
    static const uint64_t sectors[] = {0, 1, SECTORS - 1, SECTORS, UINT64_MAX, 1ull << 55};
    unsigned n = 1 + rng() % 6, num = fz.num ? fz.num : 1;
    uint16_t idx = (uint16_t)(rng() % num), head = idx;
    uint8_t hdr[16], desc[16], slot[2];
    uint64_t hdr_ipa = RAM_BASE + rng() % FUZZ_SPAN;

    store_le(hdr, types[rng() % 6], 4);
    store_le(hdr + 4, 0, 4);
    store_le(hdr + 8, rng() % 2 ? rng() % SECTORS : sectors[rng() % 6], 8);
    fuzz_scribble(hdr_ipa, hdr, sizeof(hdr));
    for (unsigned i = 0; i < n; i++) {
        bool last = i == n - 1;
        uint16_t next = (uint16_t)(rng() % num);
        uint32_t len = i == 0 ? 16 : last ? 1 : fuzz_data_len();
        uint64_t addr = i == 0 ? hdr_ipa : fuzz_buffer(len);
        uint16_t flags = (last ? 0 : 1) | (i > 0 && (last || rng() % 2) ? 2 : 0);

        if (rng() % 4 == 0) {
            switch (rng() % 4) {
            case 0: addr = fuzz_addr(); break;
            case 1: len = fuzz_len(); break;
            case 2: flags = (uint16_t)rng(); break;
            default: next = (uint16_t)rng(); break;
            }
        }
        store_le(desc, addr, 8);
        store_le(desc + 8, len, 4);
        store_le(desc + 12, flags, 2);
        store_le(desc + 14, next, 2);
        fuzz_scribble(fz.desc + 16ull * idx, desc, sizeof(desc));
        idx = next;
    }
    store_le(slot, rng() % 64 ? head : (uint16_t)rng(), 2);
    fuzz_scribble(fz.avail + 4 + 2ull * (fz.avail_idx % num), slot, sizeof(slot));
    fz.avail_idx += rng() % 256 ? 1 : (uint16_t)rng();
    store_le(slot, fz.avail_idx, 2);
    fuzz_scribble(fz.avail + 2, slot, sizeof(slot));
}

/* A ring's place: mostly somewhere in guest RAM, 16-byte aligned. */
static uint64_t fuzz_ring(void)
{
    return rng() % 8 ? RAM_BASE + (rng() % FUZZ_SPAN & ~15ull) : fuzz_addr();
}

/* A driver setup with random (mostly sane) sizes and ring places. */
static void fuzz_setup(void)
{
    static const uint32_t nums[] = {1, 2, 4, 8, 16, 32, 64, 128, 0, 3, 256, 0xffffffff};
    uint32_t num = nums[rng() % 12];
    uint64_t desc = fuzz_ring(), avail = fuzz_ring(), used = fuzz_ring();
    uint8_t zero[2] = {0, 0};

    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(rng() % 8 ? (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH)
                                  : rng());
    wr(VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_NUM, num);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                               VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    /* Linux starts from zeroed rings; sometimes the fuzzer does not. */
    if (rng() % 8) {
        fuzz_scribble(avail + 2, zero, 2);
        fuzz_scribble(used + 2, zero, 2);
    }
    fz.desc = desc;
    fz.avail = avail;
    fz.num = num <= QUEUE_SIZE ? num : 0;
    fz.avail_idx = 0;
}

/* A register access anywhere, any size. */
static void fuzz_register(void)
{
    static const unsigned sizes[] = {1, 2, 4, 4, 4, 8, 3};
    uint64_t r = rng(), v = rng(), off = (r >> 8) % 0x240;
    unsigned size = sizes[r % 7];

    if ((r >> 40) % 16 == 0)
        v &= 0xff;
    if ((r >> 44) % 2) {
        uint64_t got;
        vvirtio_blk_read(&dev, off, size, &got);
    } else {
        vvirtio_blk_write(&dev, off, size, v);
    }
}

/*
 * A register access does no queue work: at most a notify and two line changes. One step is
 * bounded too: the avail index and slot, at most num descriptors and the status byte's check,
 * then header, validation and data pieces (RAM is one host range here, so at most one call per
 * descriptor each, none past a step's worth of data), a flush, the answer's three writes and two
 * line changes.
 */
#define FUZZ_MAX_MMIO_CALLS 3
#define FUZZ_MAX_STEP_CALLS (2 + 4 * QUEUE_SIZE + 8)

static void fuzz_run(bool read_only, uint64_t seed, int ops)
{
    unsigned full_steps = 0;

    fresh(read_only);
    memset(&fz, 0, sizeof(fz));
    rng_state = seed;
    for (int op = 0; op < ops; op++) {
        uint64_t before = env.calls, v = 0;
        unsigned r = rng() % 100;
        /* A driver that finds the device broken sets it up again, sooner or later. */
        bool dead =
            (dev.status & VIRTIO_STATUS_NEEDS_RESET) || !(dev.status & VIRTIO_STATUS_DRIVER_OK);

        if (r < (dead ? 30 : 2)) {
            fuzz_setup();
        } else if (r < 50) {
            fuzz_chain();
        } else if (r < 55) {
            uint64_t ipa = RAM_BASE + rng() % FUZZ_SPAN;
            uint8_t junk[64];
            for (unsigned i = 0; i < sizeof(junk); i++)
                junk[i] = (uint8_t)rng();
            fuzz_scribble(ipa, junk, 1 + rng() % sizeof(junk));
        } else if (r < 85) {
            wr(VIRTIO_MMIO_QUEUE_NOTIFY, rng() % 16 ? 0 : (uint32_t)rng());
        } else if (r < 95) {
            fuzz_register();
        } else {
            wr(VIRTIO_MMIO_INTERRUPT_ACK, (uint32_t)rng());
        }
        if (r >= 55)
            CHECK(env.calls - before <= FUZZ_MAX_MMIO_CALLS);
        /* The worker runs a few steps between the driver's moves, or catches up. */
        for (unsigned k = rng() % 8 ? (unsigned)(rng() % 3) : 1000; k; k--) {
            uint64_t calls = env.calls, bytes = env.io_bytes;
            bool more = vvirtio_blk_step(&dev);

            CHECK(env.calls - calls <= FUZZ_MAX_STEP_CALLS);
            CHECK(env.io_bytes - bytes <= STEP);
            full_steps += env.io_bytes - bytes == STEP;
            if (!more)
                break;
        }
        CHECK_EQ(vvirtio_blk_read(&dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4, &v), 0);
        CHECK_EQ(env.level, v != 0);
        CHECK_EQ(dev.last_avail, dev.used_idx);
        if (test_failed_checks || env.disk_bad || env.repeated) {
            fprintf(stderr, "  fuzz: first failure at operation %d\n", op);
            break;
        }
    }
    run();
    CHECK_EQ(env.disk_bad, 0);
    CHECK(!env.repeated);
    if (read_only)
        CHECK_EQ(env.disk_writes, 0);
    else
        CHECK(env.disk_writes > 0); /* the fuzzer reaches real writes, */
    CHECK(env.disk_reads > 0);      /* real reads */
    CHECK(env.mem_faults > 0);      /* and addresses outside RAM, */
    CHECK(full_steps > 0);          /* and requests longer than a step */
}

static void test_fuzz(void)
{
    fuzz_run(false, 0x9e3779b97f4a7c15ull, 600000);
    fuzz_run(true, 0x2545f4914f6cdd1dull, 200000);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vvirtio_blk/identity", test_identity},
        {"vvirtio_blk/negotiation", test_negotiation},
        {"vvirtio_blk/write_read_flush", test_write_read_flush},
        {"vvirtio_blk/write_through", test_write_through},
        {"vvirtio_blk/scatter", test_scatter},
        {"vvirtio_blk/read_only", test_read_only},
        {"vvirtio_blk/out_of_range", test_out_of_range},
        {"vvirtio_blk/malformed_requests", test_malformed_requests},
        {"vvirtio_blk/needs_reset", test_needs_reset},
        {"vvirtio_blk/reset_and_gating", test_reset_and_gating},
        {"vvirtio_blk/large_request_steps", test_large_request_steps},
        {"vvirtio_blk/chunked_ram", test_chunked_ram},
        {"vvirtio_blk/buffers_outside_ram", test_buffers_outside_ram},
        {"vvirtio_blk/reset_between_steps", test_reset_between_steps},
        {"vvirtio_blk/mmio_during_step", test_mmio_during_step},
        {"vvirtio_blk/worker_thread", test_worker_thread},
        {"vvirtio_blk/fuzz", test_fuzz},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
