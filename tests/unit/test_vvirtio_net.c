/* test_vvirtio_net.c - the emulated virtio-net device, driven as a virtio driver drives it, and
 * by hostile and random rings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/vvirtio_net.h"

/* virtio-mmio registers (virtio 1.2, 4.2.2). */
#define MAGIC          0x000
#define VERSION        0x004
#define DEVICE_ID      0x008
#define DEV_FEATURES   0x010
#define DEV_FEAT_SEL   0x014
#define DRV_FEATURES   0x020
#define DRV_FEAT_SEL   0x024
#define QUEUE_SEL      0x030
#define QUEUE_NUM_MAX  0x034
#define QUEUE_NUM      0x038
#define QUEUE_READY    0x044
#define QUEUE_NOTIFY   0x050
#define INT_STATUS     0x060
#define INT_ACK        0x064
#define STATUS         0x070
#define QUEUE_DESC_LO  0x080
#define QUEUE_DESC_HI  0x084
#define QUEUE_AVAIL_LO 0x090
#define QUEUE_USED_LO  0x0a0
#define CONFIG         0x100

#define S_ACK         0x01u
#define S_DRIVER      0x02u
#define S_DRIVER_OK   0x04u
#define S_FEATURES_OK 0x08u
#define S_NEEDS_RESET 0x40u

#define F_MAC       (1ull << 5)
#define F_MRG       (1ull << 15)
#define F_STATUS    (1ull << 16)
#define F_VERSION_1 (1ull << 32)

#define D_NEXT     1u
#define D_WRITE    2u
#define D_INDIRECT 4u

#define HDR 12u

/* Guest RAM: 1 MiB at IPA 0x40000000, which map hands out at most 64 KiB at a time. */
#define RAM_BASE  0x40000000ull
#define RAM_SIZE  (1u << 20)
#define MAP_CHUNK (64u << 10)
static uint8_t *ram;

/* The rings of queue q (0 RX, 1 TX) and the data area, at fixed places in RAM. */
#define QNUM 16u
static unsigned qnum = QNUM; /* the size bring_up gives both queues */
#define DESC_IPA(q)  (RAM_BASE + 0x1000 + (q)*0x1000)
#define AVAIL_IPA(q) (RAM_BASE + 0x3000 + (q)*0x1000)
#define USED_IPA(q)  (RAM_BASE + 0x5000 + (q)*0x1000)
#define BUF_IPA(i)   (RAM_BASE + 0x10000 + (uint64_t)(i)*0x1000)
#define OUTSIDE_IPA  (RAM_BASE + RAM_SIZE + 0x1000)
#define STRADDLE_IPA (RAM_BASE + RAM_SIZE - 8)

static struct vvirtio_net dev;
static int irq_calls, sends, flushes;
static bool irq_level;
static size_t sent_len[64];
static uint8_t sent[64][VSWITCH_FRAME_MAX];
static bool map_out_of_bounds; /* the device asked map for bytes it then used past *contiguous */

static void *fake_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    (void)ctx;
    if (ipa < RAM_BASE || ipa - RAM_BASE >= RAM_SIZE || len == 0)
        return NULL;
    uint64_t off = ipa - RAM_BASE, n = MAP_CHUNK - off % MAP_CHUNK;

    if (n > len)
        n = len;
    *contiguous = n;
    return ram + off;
}

static void fake_irq(void *ctx, bool level)
{
    (void)ctx;
    irq_calls++;
    irq_level = level;
}

static void fake_send(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX)
        map_out_of_bounds = true; /* the device must never pass such a length on */
    if (sends < 64) {
        sent_len[sends] = len;
        memcpy(sent[sends], frame, len < VSWITCH_FRAME_MAX ? len : VSWITCH_FRAME_MAX);
    }
    sends++;
}

static void fake_flush(void *ctx)
{
    (void)ctx;
    flushes++;
}

static const struct vvirtio_net_ops ops = {fake_map, fake_irq, fake_send, fake_flush};
static const uint8_t test_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0;
    CHECK_EQ(vvirtio_net_read(&dev, off, 4, &v), 0);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    CHECK_EQ(vvirtio_net_write(&dev, off, 4, v), 0);
}

static uint8_t *at(uint64_t ipa)
{
    return ram + (ipa - RAM_BASE);
}

static void put16(uint64_t ipa, uint16_t v)
{
    memcpy(at(ipa), &v, 2);
}

static uint16_t get16(uint64_t ipa)
{
    uint16_t v;
    memcpy(&v, at(ipa), 2);
    return v;
}

static uint32_t get32(uint64_t ipa)
{
    uint32_t v;
    memcpy(&v, at(ipa), 4);
    return v;
}

static void set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *p = at(DESC_IPA(q) + i * 16);

    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

/* Make head available in queue q. */
static void post(unsigned q, uint16_t head)
{
    uint16_t idx = get16(AVAIL_IPA(q) + 2);

    put16(AVAIL_IPA(q) + 4 + (idx % qnum) * 2, head);
    put16(AVAIL_IPA(q) + 2, (uint16_t)(idx + 1));
}

static void setup_queue(unsigned q, uint32_t num)
{
    wr(QUEUE_SEL, q);
    wr(QUEUE_NUM, num);
    wr(QUEUE_DESC_LO, (uint32_t)DESC_IPA(q));
    wr(QUEUE_DESC_HI, 0);
    wr(QUEUE_AVAIL_LO, (uint32_t)AVAIL_IPA(q));
    wr(QUEUE_USED_LO, (uint32_t)USED_IPA(q));
    wr(QUEUE_READY, 1);
}

/* A fresh device and RAM, initialised as Linux does (3.1.1) with the given features. */
static void bring_up(uint64_t features)
{
    memset(ram, 0, RAM_SIZE);
    irq_calls = sends = flushes = 0;
    irq_level = false;
    map_out_of_bounds = false;
    vvirtio_net_init(&dev, test_mac, &ops, NULL);
    wr(STATUS, S_ACK);
    wr(STATUS, S_ACK | S_DRIVER);
    wr(DRV_FEAT_SEL, 0);
    wr(DRV_FEATURES, (uint32_t)features);
    wr(DRV_FEAT_SEL, 1);
    wr(DRV_FEATURES, (uint32_t)(features >> 32));
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    CHECK(rd(STATUS) & S_FEATURES_OK);
    setup_queue(0, qnum);
    setup_queue(1, qnum);
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* A frame of len bytes to dst 02:aa.. with a recognisable payload. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed + i * 7);
    memcpy(f, (uint8_t[]){2, 0xaa, 0, 0, 0, 1}, 6);
}

static struct vvirtio_net_stats stats(void)
{
    struct vvirtio_net_stats s;
    vvirtio_net_get_stats(&dev, &s);
    return s;
}

static void test_registers(void)
{
    uint64_t v = 0;

    bring_up(F_VERSION_1 | F_MAC | F_MRG | F_STATUS);
    CHECK_EQ(rd(MAGIC), 0x74726976);
    CHECK_EQ(rd(VERSION), 2);
    CHECK_EQ(rd(DEVICE_ID), 1);
    wr(DEV_FEAT_SEL, 0);
    CHECK_EQ(rd(DEV_FEATURES), (uint32_t)(F_MAC | F_MRG | F_STATUS));
    wr(DEV_FEAT_SEL, 1);
    CHECK_EQ(rd(DEV_FEATURES), 1);
    wr(QUEUE_SEL, 1);
    CHECK_EQ(rd(QUEUE_NUM_MAX), VVIRTIO_NET_QUEUE_MAX);
    wr(QUEUE_SEL, 2); /* no control queue */
    CHECK_EQ(rd(QUEUE_NUM_MAX), 0);
    for (unsigned i = 0; i < 6; i++) {
        CHECK_EQ(vvirtio_net_read(&dev, CONFIG + i, 1, &v), 0);
        CHECK_EQ(v, test_mac[i]);
    }
    CHECK_EQ(vvirtio_net_read(&dev, CONFIG + 6, 2, &v), 0);
    CHECK_EQ(v, 1); /* VIRTIO_NET_S_LINK_UP */
    CHECK_EQ(vvirtio_net_read(&dev, CONFIG + 1, 2, &v), -EINVAL);
    CHECK_EQ(vvirtio_net_read(&dev, 0x2, 4, &v), -EINVAL);
    CHECK_EQ(vvirtio_net_write(&dev, VVIRTIO_NET_WINDOW_SIZE, 4, 0), -EINVAL);
}

static void test_features_need_version_1(void)
{
    vvirtio_net_init(&dev, test_mac, &ops, NULL);
    wr(STATUS, S_ACK | S_DRIVER);
    wr(DRV_FEAT_SEL, 0);
    wr(DRV_FEATURES, (uint32_t)F_MAC);
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    CHECK(!(rd(STATUS) & S_FEATURES_OK));
    /* A feature never offered (CSUM, bit 0) is refused too. */
    wr(STATUS, 0);
    wr(STATUS, S_ACK | S_DRIVER);
    wr(DRV_FEAT_SEL, 0);
    wr(DRV_FEATURES, 1);
    wr(DRV_FEAT_SEL, 1);
    wr(DRV_FEATURES, 1);
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    CHECK(!(rd(STATUS) & S_FEATURES_OK));
}

static void test_tx_batch(void)
{
    uint8_t f[200];

    bring_up(F_VERSION_1 | F_MRG);
    /* Frame 0: header and frame in one descriptor; frame 1: header apart, frame over two. */
    make_frame(f, 100, 1);
    memcpy(at(BUF_IPA(0)) + HDR, f, 100);
    set_desc(1, 0, BUF_IPA(0), HDR + 100, 0, 0);
    make_frame(f, 200, 2);
    memcpy(at(BUF_IPA(2)), f, 50);
    memcpy(at(BUF_IPA(3)), f + 50, 150);
    set_desc(1, 1, BUF_IPA(1), HDR, D_NEXT, 5);
    set_desc(1, 5, BUF_IPA(2), 50, D_NEXT, 6);
    set_desc(1, 6, BUF_IPA(3), 150, 0, 0);
    post(1, 0);
    post(1, 1);
    wr(QUEUE_NOTIFY, 1);
    CHECK_EQ(sends, 2);
    CHECK_EQ(flushes, 1);
    CHECK_EQ(sent_len[0], 100);
    CHECK_EQ(sent_len[1], 200);
    make_frame(f, 200, 2);
    CHECK(!memcmp(sent[1], f, 200));
    CHECK_EQ(get16(USED_IPA(1) + 2), 2);
    CHECK_EQ(get32(USED_IPA(1) + 4), 0);
    CHECK_EQ(get32(USED_IPA(1) + 12), 1);
    CHECK(irq_level);
    CHECK_EQ(rd(INT_STATUS), 1);
    wr(INT_ACK, 1);
    CHECK(!irq_level);
    /* With VIRTQ_AVAIL_F_NO_INTERRUPT the buffer comes back without an interrupt. */
    put16(AVAIL_IPA(1), 1);
    post(1, 0);
    wr(QUEUE_NOTIFY, 1);
    CHECK_EQ(sends, 3);
    CHECK_EQ(get16(USED_IPA(1) + 2), 3);
    CHECK(!irq_level);
    CHECK_EQ(stats().tx_frames, 3);
    /* A notify of the receive queue sends nothing. */
    wr(QUEUE_NOTIFY, 0);
    CHECK_EQ(sends, 3);
}

static void test_tx_malformed(void)
{
    struct vvirtio_net_stats s;

    bring_up(F_VERSION_1 | F_MRG);
    set_desc(1, 0, BUF_IPA(0), HDR + 60, D_NEXT, 1); /* a loop: 0 -> 1 -> 0 */
    set_desc(1, 1, BUF_IPA(1), 10, D_NEXT, 0);
    set_desc(1, 2, OUTSIDE_IPA, HDR + 60, 0, 0);       /* outside RAM */
    set_desc(1, 3, STRADDLE_IPA, HDR + 60, 0, 0);      /* runs off the end of RAM */
    set_desc(1, 4, BUF_IPA(4), HDR + 60, D_WRITE, 0);  /* device-writable */
    set_desc(1, 5, BUF_IPA(5), HDR + 1515, 0, 0);      /* one byte too long */
    set_desc(1, 6, BUF_IPA(6), HDR + 13, 0, 0);        /* shorter than an Ethernet header */
    set_desc(1, 7, BUF_IPA(7), 0, 0, 0);               /* zero length */
    set_desc(1, 8, BUF_IPA(8), HDR + 60, D_NEXT, 200); /* next past the table */
    set_desc(1, 9, BUF_IPA(9), HDR + 60, D_INDIRECT, 0);
    set_desc(1, 10, UINT64_MAX - 4, 16, 0, 0); /* wraps */
    set_desc(1, 11, BUF_IPA(11), 0xffffffffu, 0, 0);
    set_desc(1, 12, BUF_IPA(12), HDR + 1514, 0, 0); /* the largest good frame */
    for (uint16_t i = 0; i <= 12; i++)
        post(1, i);
    wr(QUEUE_NOTIFY, 1);
    s = stats();
    CHECK_EQ(sends, 1);
    CHECK_EQ(sent_len[0], 1514);
    CHECK_EQ(s.tx_frames, 1);
    CHECK_EQ(s.tx_bad_desc, 8);
    CHECK_EQ(s.tx_bad_len, 4);
    CHECK_EQ(s.ring_errors, 0);
    /* Every chain went back, so the driver can reuse them. */
    CHECK_EQ(get16(USED_IPA(1) + 2), 13);
    CHECK(!(rd(STATUS) & S_NEEDS_RESET));
    CHECK(!map_out_of_bounds);
}

static void test_ring_errors(void)
{
    bring_up(F_VERSION_1 | F_MRG);
    put16(AVAIL_IPA(1) + 2, QNUM + 1); /* more available than the queue holds */
    wr(QUEUE_NOTIFY, 1);
    CHECK_EQ(sends, 0);
    CHECK(rd(STATUS) & S_NEEDS_RESET);
    CHECK_EQ(stats().ring_errors, 1);
    CHECK(rd(INT_STATUS) & 2);
    /* After a reset the device works again. */
    bring_up(F_VERSION_1 | F_MRG);
    set_desc(1, 0, BUF_IPA(0), HDR + 60, 0, 0);
    post(1, 0);
    wr(QUEUE_NOTIFY, 1);
    CHECK_EQ(sends, 1);
    /* A queue whose rings are not guest RAM. */
    bring_up(F_VERSION_1 | F_MRG);
    wr(STATUS, 0);
    wr(STATUS, S_ACK | S_DRIVER);
    wr(DRV_FEAT_SEL, 1);
    wr(DRV_FEATURES, 1);
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    wr(QUEUE_SEL, 1);
    wr(QUEUE_NUM, QNUM);
    wr(QUEUE_AVAIL_LO, 0x1000);
    wr(QUEUE_READY, 1);
    wr(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    wr(QUEUE_NOTIFY, 1);
    CHECK(rd(STATUS) & S_NEEDS_RESET);
    /* A queue size that is not a power of 2. */
    vvirtio_net_init(&dev, test_mac, &ops, NULL);
    wr(QUEUE_SEL, 0);
    wr(QUEUE_NUM, 3);
    wr(QUEUE_READY, 1);
    CHECK_EQ(rd(QUEUE_READY), 0);
    CHECK(rd(STATUS) & S_NEEDS_RESET);
}

static void post_rx(uint16_t i, uint32_t len)
{
    set_desc(0, i, BUF_IPA(i), len, D_WRITE, 0);
    post(0, i);
}

static void test_rx_one_buffer(void)
{
    uint8_t f[1514];

    bring_up(F_VERSION_1 | F_MRG);
    post_rx(0, 1526);
    make_frame(f, 1514, 3);
    CHECK(vvirtio_net_rx(&dev, f, 1514));
    CHECK_EQ(get16(USED_IPA(0) + 2), 1);
    CHECK_EQ(get32(USED_IPA(0) + 4), 0);
    CHECK_EQ(get32(USED_IPA(0) + 8), HDR + 1514);
    CHECK_EQ(get16(BUF_IPA(0) + 10), 1); /* num_buffers */
    CHECK(!memcmp(at(BUF_IPA(0)) + HDR, f, 1514));
    /* The interrupt waits for the end of the switch's batch. */
    CHECK(!irq_level);
    vvirtio_net_rx_flush(&dev);
    CHECK(irq_level);
    CHECK_EQ(irq_calls, 1);
    vvirtio_net_rx_flush(&dev);
    CHECK_EQ(irq_calls, 1);
    CHECK_EQ(stats().rx_frames, 1);
}

static void test_rx_mergeable(void)
{
    uint8_t f[1514], got[1526];

    bring_up(F_VERSION_1 | F_MRG);
    for (uint16_t i = 0; i < 4; i++)
        post_rx(i, 512);
    make_frame(f, 1514, 4);
    CHECK(vvirtio_net_rx(&dev, f, 1514));
    CHECK_EQ(get16(USED_IPA(0) + 2), 3);
    CHECK_EQ(get32(USED_IPA(0) + 8), 512);
    CHECK_EQ(get32(USED_IPA(0) + 16), 512);
    CHECK_EQ(get32(USED_IPA(0) + 24), 1526 - 1024);
    CHECK_EQ(get16(BUF_IPA(0) + 10), 3);
    for (unsigned i = 0; i < 3; i++)
        memcpy(got + i * 512, at(BUF_IPA(i)), i < 2 ? 512 : 1526 - 1024);
    CHECK(!memcmp(got + HDR, f, 1514));
    /* One buffer of 512 left: not enough for 1514 bytes, and it stays available. */
    CHECK(!vvirtio_net_rx(&dev, f, 1514));
    CHECK_EQ(get16(USED_IPA(0) + 2), 3);
    CHECK_EQ(stats().rx_no_buffer, 1);
    CHECK(vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(get16(USED_IPA(0) + 2), 4);
    /* Nothing left at all. */
    CHECK(!vvirtio_net_rx(&dev, f, 60));
    CHECK_EQ(stats().rx_no_buffer, 2);
}

/* Without MRG_RXBUF a frame must fit one chain, which may have several descriptors. */
static void test_rx_without_mergeable(void)
{
    uint8_t f[1514];

    bring_up(F_VERSION_1);
    set_desc(0, 0, BUF_IPA(0), HDR, D_WRITE | D_NEXT, 1);
    set_desc(0, 1, BUF_IPA(1), 1514, D_WRITE, 0);
    post(0, 0);
    post_rx(2, 512);
    make_frame(f, 1514, 5);
    CHECK(vvirtio_net_rx(&dev, f, 1514));
    CHECK_EQ(get16(BUF_IPA(0) + 10), 1);
    CHECK(!memcmp(at(BUF_IPA(1)), f, 1514));
    CHECK_EQ(get32(USED_IPA(0) + 8), HDR + 1514);
    /* 512 bytes cannot hold it: that buffer goes back unused and the frame is dropped. */
    CHECK(!vvirtio_net_rx(&dev, f, 1514));
    CHECK_EQ(get16(USED_IPA(0) + 2), 2);
    CHECK_EQ(get32(USED_IPA(0) + 16), 0);
    CHECK_EQ(stats().rx_bad_buffer, 1);
}

static void test_rx_malformed(void)
{
    uint8_t f[100];
    struct vvirtio_net_stats s;

    bring_up(F_VERSION_1 | F_MRG);
    make_frame(f, 100, 6);
    set_desc(0, 0, OUTSIDE_IPA, 2048, D_WRITE, 0);
    set_desc(0, 1, STRADDLE_IPA, 2048, D_WRITE, 0);
    set_desc(0, 2, BUF_IPA(2), 2048, 0, 0); /* device-readable */
    set_desc(0, 3, BUF_IPA(3), 2048, D_WRITE | D_NEXT, 3);
    set_desc(0, 4, UINT64_MAX - 100, 2048, D_WRITE, 0);
    for (uint16_t i = 0; i < 5; i++) {
        post(0, i);
        CHECK(!vvirtio_net_rx(&dev, f, 100));
    }
    s = stats();
    CHECK_EQ(s.rx_bad_buffer, 5);
    CHECK_EQ(s.rx_frames, 0);
    CHECK_EQ(get16(USED_IPA(0) + 2), 5);
    CHECK(irq_level); /* the switch will not flush a port that took nothing */
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ(get32(USED_IPA(0) + 8 + 8 * i), 0);
    CHECK(!(rd(STATUS) & S_NEEDS_RESET));
    /* A zero-length buffer has no room for anything: it goes back unused, the next one is fine. */
    set_desc(0, 5, BUF_IPA(5), 0, D_WRITE, 0);
    post(0, 5);
    CHECK(!vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(stats().rx_bad_buffer, 6);
    post_rx(6, 2048);
    CHECK(vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(get16(BUF_IPA(6) + 10), 1);
    CHECK(!memcmp(at(BUF_IPA(6)) + HDR, f, 100));
    /* Bad lengths from the switch are refused without touching the ring. */
    post_rx(7, 2048);
    CHECK(!vvirtio_net_rx(&dev, f, 13));
    CHECK_EQ(get16(USED_IPA(0) + 2), 7);
    /* A queue the driver has not started takes nothing. */
    vvirtio_net_init(&dev, test_mac, &ops, NULL);
    CHECK(!vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(stats().rx_no_buffer, 1);
}

/*
 * What one frame may cost is bounded: a transmit chain of more than VVIRTIO_NET_DESC_MAX
 * descriptors is dropped even in a queue that could hold it, and so is a frame whose receive
 * buffers take more than that many descriptors; a huge buffer is checked only as far as the
 * frame reaches into it.
 */
static void test_desc_budget(void)
{
    uint8_t f[100];
    struct vvirtio_net_stats s;

    qnum = 128;
    bring_up(F_VERSION_1 | F_MRG);
    /* TX: 65 descriptors of 1 byte plus a frame: too many; 64 in all is fine. */
    for (uint16_t i = 0; i < 65; i++)
        set_desc(1, i, BUF_IPA(0) + i, i < 64 ? 1 : HDR + 60, D_NEXT, (uint16_t)(i + 1));
    set_desc(1, 65, BUF_IPA(0), HDR + 60, 0, 0);
    set_desc(1, 70, BUF_IPA(0), HDR, D_NEXT, 71);
    for (uint16_t i = 71; i < 127; i++)
        set_desc(1, i, BUF_IPA(1) + i, 1, D_NEXT, (uint16_t)(i + 1));
    set_desc(1, 127, BUF_IPA(1), 60, 0, 0); /* 70..127: 58 descriptors */
    post(1, 0);
    post(1, 70);
    wr(QUEUE_NOTIFY, 1);
    s = stats();
    CHECK_EQ(s.tx_bad_desc, 1);
    CHECK_EQ(s.tx_frames, 1);
    CHECK_EQ(sent_len[0], 56 + 60);
    /* RX: 70 one-byte buffers, then a good one: the 65th descriptor ends it; 65 go back. */
    for (uint16_t i = 0; i < 70; i++) {
        set_desc(0, i, BUF_IPA(0) + i, 1, D_WRITE, 0);
        post(0, i);
    }
    post_rx(70, 2048);
    make_frame(f, 100, 8);
    CHECK(!vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(stats().rx_bad_buffer, 65);
    CHECK_EQ(get16(USED_IPA(0) + 2), 65);
    /* A 4 GiB buffer in RAM up to where the frame ends: taken. */
    bring_up(F_VERSION_1 | F_MRG);
    set_desc(0, 0, RAM_BASE + RAM_SIZE - 4096, 0xffffffffu, D_WRITE, 0);
    post(0, 0);
    CHECK(vvirtio_net_rx(&dev, f, 100));
    CHECK(!memcmp(at(RAM_BASE + RAM_SIZE - 4096) + HDR, f, 100));
    qnum = QNUM;
}

/* A reset during which the guest's memory is reused: nothing is written back there. */
static void test_reset_stops_everything(void)
{
    uint8_t f[100];

    bring_up(F_VERSION_1 | F_MRG);
    post_rx(0, 2048);
    wr(STATUS, 0);
    make_frame(f, 100, 7);
    CHECK(!vvirtio_net_rx(&dev, f, 100));
    CHECK_EQ(get16(USED_IPA(0) + 2), 0);
    set_desc(1, 0, BUF_IPA(1), HDR + 60, 0, 0);
    post(1, 0);
    wr(QUEUE_NOTIFY, 1);
    CHECK_EQ(sends, 0);
}

/* Random rings, descriptors and registers: every chain is accounted for, nothing crashes. */
static void test_fuzz_rings(void)
{
    uint8_t f[VSWITCH_FRAME_MAX];
    static const uint64_t addrs[] = {RAM_BASE, OUTSIDE_IPA, STRADDLE_IPA, UINT64_MAX - 3, 0};

    srand(1234);
    for (int round = 0; round < 400; round++) {
        bring_up(F_VERSION_1 | (round & 1 ? F_MRG : 0));
        for (int step = 0; step < 60; step++) {
            unsigned q = rand() & 1, i = rand() % QNUM;
            uint64_t a = addrs[rand() % 5];

            if (a == RAM_BASE)
                a += 0x10000 + (rand() % (RAM_SIZE - 0x10000));
            switch (rand() % 8) {
            case 0:
            case 1:
                set_desc(q, i, a,
                         rand() % 3 ? (uint32_t)(rand() % 2100) : (uint32_t)rand() * 2654435761u,
                         rand() & 7, rand() % 20);
                break;
            case 2: post(q, (uint16_t)(rand() % 20)); break;
            case 3:
                if (rand() % 8 == 0)
                    put16(AVAIL_IPA(q) + 2, (uint16_t)rand());
                else
                    put16(AVAIL_IPA(q), (uint16_t)(rand() & 1));
                break;
            case 4: wr(QUEUE_NOTIFY, q); break;
            case 5: {
                size_t len = rand() % 1600;
                make_frame(f, len < VSWITCH_FRAME_MAX ? len : VSWITCH_FRAME_MAX, (uint8_t)step);
                vvirtio_net_rx(&dev, f, len < VSWITCH_FRAME_MAX ? len : VSWITCH_FRAME_MAX);
                break;
            }
            case 6: vvirtio_net_rx_flush(&dev); break;
            case 7:
                if (rand() % 10 == 0)
                    wr(INT_ACK, 3);
                else if (rand() % 20 == 0)
                    bring_up(F_VERSION_1 | F_MRG);
                break;
            }
        }
        struct vvirtio_net_stats s = stats();
        CHECK_EQ(s.tx_frames, (uint64_t)sends);
        CHECK(!map_out_of_bounds);
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"registers", test_registers},
        {"features_need_version_1", test_features_need_version_1},
        {"tx_batch", test_tx_batch},
        {"tx_malformed", test_tx_malformed},
        {"ring_errors", test_ring_errors},
        {"rx_one_buffer", test_rx_one_buffer},
        {"rx_mergeable", test_rx_mergeable},
        {"rx_without_mergeable", test_rx_without_mergeable},
        {"rx_malformed", test_rx_malformed},
        {"desc_budget", test_desc_budget},
        {"reset_stops_everything", test_reset_stops_everything},
        {"fuzz_rings", test_fuzz_rings},
    };

    ram = malloc(RAM_SIZE);
    int rc = test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
    free(ram);
    return rc;
}
