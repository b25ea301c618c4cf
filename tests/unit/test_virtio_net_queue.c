/* test_virtio_net_queue.c - the NIC driver's rings against a simulated device: RX buffers posted,
 * frames taken and checked, TX copied, reclaimed, dropped when full, device nonsense refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio_net_queue.h"
#include "lib/errno.h"
#include "test.h"

#define QSIZE 8

/** A queue over host memory: on the host a "physical" address is the pointer itself. */
struct sim {
    struct vnet_queue q;
    void *ring;
    uint8_t *bufs;
    uint16_t dev_avail; /* avail entries the simulated device has taken */
    uint16_t dev_used;  /* used entries it has written */
};

static void sim_init(struct sim *s, unsigned hdr)
{
    memset(s, 0, sizeof(*s));
    s->ring = aligned_alloc(4096, 3 * 4096);
    memset(s->ring, 0, 3 * 4096);
    s->bufs = aligned_alloc(4096, QSIZE * VNET_BUF_BYTES);
    memset(s->bufs, 0xee, QSIZE * VNET_BUF_BYTES);
    struct virtq *vq = &s->q.vq;
    vq->size = QSIZE;
    vq->num_free = QSIZE;
    vq->desc = s->ring;
    vq->avail = (struct virtq_avail *)((uint8_t *)s->ring + 16 * QSIZE);
    vq->used = (struct virtq_used *)((uint8_t *)s->ring + 4096);
    for (unsigned i = 0; i < QSIZE; i++)
        vq->free_next[i] = (uint16_t)(i + 1);
    vnet_queue_init(&s->q, s->bufs, (uint64_t)(uintptr_t)s->bufs, hdr);
}

static void sim_free(struct sim *s)
{
    free(s->ring);
    free(s->bufs);
}

/* The device takes the next available chain: its head, or -1 if none. */
static int dev_take(struct sim *s)
{
    if (s->dev_avail == s->q.vq.avail->idx)
        return -1;
    return s->q.vq.avail->ring[s->dev_avail++ % QSIZE];
}

static void dev_complete(struct sim *s, uint32_t id, uint32_t len)
{
    s->q.vq.used->ring[s->dev_used % QSIZE] = (struct virtq_used_elem){id, len};
    s->dev_used++;
    s->q.vq.used->idx = s->dev_used;
}

/* The device receives a frame of len bytes (pattern seed) into the next posted buffer. */
static int dev_receive(struct sim *s, size_t len, uint8_t seed)
{
    int head = dev_take(s);

    if (head < 0)
        return -1;
    struct virtq_desc *d = &s->q.vq.desc[head];
    CHECK(d->flags & VIRTQ_DESC_F_WRITE);
    CHECK_EQ(d->len, VNET_BUF_BYTES);
    uint8_t *b = (uint8_t *)(uintptr_t)d->addr;
    memset(b, 0, s->q.hdr_bytes);
    for (size_t i = 0; i < len; i++)
        b[s->q.hdr_bytes + i] = (uint8_t)(seed + i);
    dev_complete(s, (uint32_t)head, (uint32_t)(s->q.hdr_bytes + len));
    return head;
}

static void test_rx_fill_and_take(void)
{
    struct sim s;
    struct vnet_rx_frame f;

    sim_init(&s, VNET_HDR_BYTES);
    CHECK_EQ(vnet_rx_refill(&s.q), QSIZE);
    CHECK_EQ(s.q.vq.avail->idx, QSIZE);
    CHECK_EQ(vnet_rx_refill(&s.q), 0); /* every buffer is already with the device */
    CHECK_EQ(vnet_rx_next(&s.q, &f), 0);
    CHECK(dev_receive(&s, 60, 1) >= 0);
    CHECK(dev_receive(&s, VNET_FRAME_MAX, 7) >= 0);
    CHECK_EQ(vnet_rx_next(&s.q, &f), 1);
    CHECK_EQ(f.len, 60);
    CHECK_EQ(f.data[0], 1);
    CHECK_EQ(f.data[59], 60);
    CHECK_EQ(vnet_rx_next(&s.q, &f), 1);
    CHECK_EQ(f.len, VNET_FRAME_MAX);
    CHECK_EQ(f.data[VNET_FRAME_MAX - 1], (uint8_t)(7 + VNET_FRAME_MAX - 1));
    CHECK_EQ(vnet_rx_next(&s.q, &f), 0);
    CHECK_EQ(s.q.frames, 2);
    CHECK_EQ(s.q.bytes, 60 + VNET_FRAME_MAX);
    /* The two buffers go back to the device, and only those. */
    CHECK_EQ(vnet_rx_refill(&s.q), 2);
    CHECK_EQ(s.q.vq.avail->idx, QSIZE + 2);
    sim_free(&s);
}

static void test_rx_bad_lengths_dropped(void)
{
    struct sim s;
    struct vnet_rx_frame f;

    sim_init(&s, VNET_HDR_BYTES_LEGACY);
    vnet_rx_refill(&s.q);
    dev_receive(&s, VNET_FRAME_MIN - 1, 0); /* a runt */
    dev_receive(&s, VNET_FRAME_MAX + 1, 0); /* fits the buffer, not the switch */
    int head = dev_take(&s);
    dev_complete(&s, (uint32_t)head, 3); /* shorter than the header */
    dev_receive(&s, VNET_FRAME_MIN, 9);
    CHECK_EQ(vnet_rx_next(&s.q, &f), 1);
    CHECK_EQ(f.len, VNET_FRAME_MIN);
    CHECK_EQ(f.data[0], 9);
    CHECK_EQ(s.q.dropped, 3);
    CHECK_EQ(s.q.frames, 1);
    CHECK_EQ(vnet_rx_refill(&s.q), 4); /* dropped buffers are reused too */
    sim_free(&s);
}

static void test_rx_device_nonsense(void)
{
    struct sim s;
    struct vnet_rx_frame f;

    sim_init(&s, VNET_HDR_BYTES);
    vnet_rx_refill(&s.q);
    int head = dev_take(&s);
    dev_complete(&s, (uint32_t)head, VNET_BUF_BYTES + 1); /* past the buffer */
    CHECK_EQ(vnet_rx_next(&s.q, &f), -EIO);
    sim_free(&s);

    sim_init(&s, VNET_HDR_BYTES);
    vnet_rx_refill(&s.q);
    dev_complete(&s, QSIZE + 3, 64); /* a head that does not exist */
    CHECK_EQ(vnet_rx_next(&s.q, &f), -EIO);
    sim_free(&s);

    sim_init(&s, VNET_HDR_BYTES);
    vnet_rx_refill(&s.q);
    s.q.vq.used->idx = QSIZE + 1; /* more completions than buffers */
    CHECK_EQ(vnet_rx_next(&s.q, &f), -EIO);
    sim_free(&s);
}

static void test_tx_copy_full_reclaim(void)
{
    struct sim s;
    uint8_t frame[100];

    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(0x40 + i);
    sim_init(&s, VNET_HDR_BYTES);
    for (int i = 0; i < QSIZE; i++)
        CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), 0);
    /* Full, and the device has finished nothing: dropped and counted, never waited for. */
    CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), -ENOSPC);
    CHECK_EQ(s.q.dropped, 1);
    CHECK_EQ(s.q.frames, QSIZE);
    /* What the device reads: a zeroed header, then the frame, in one read-only descriptor. */
    int head = dev_take(&s);
    struct virtq_desc *d = &s.q.vq.desc[head];
    const uint8_t *b = (const uint8_t *)(uintptr_t)d->addr;
    CHECK_EQ(d->len, VNET_HDR_BYTES + sizeof(frame));
    CHECK_EQ(d->flags, 0);
    for (unsigned i = 0; i < VNET_HDR_BYTES; i++)
        CHECK_EQ(b[i], 0);
    CHECK(memcmp(b + VNET_HDR_BYTES, frame, sizeof(frame)) == 0);
    dev_complete(&s, (uint32_t)head, 0);
    head = dev_take(&s);
    dev_complete(&s, (uint32_t)head, 0);
    /* Two sent: the next adds reclaim them and succeed; the third finds the ring full again. */
    CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), 0);
    CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), 0);
    CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), -ENOSPC);
    CHECK_EQ(s.q.dropped, 2);
    CHECK_EQ(s.q.frames, QSIZE + 2);
    sim_free(&s);
}

static void test_tx_bad_lengths(void)
{
    struct sim s;
    static uint8_t big[VNET_FRAME_MAX + 1];

    sim_init(&s, VNET_HDR_BYTES);
    CHECK_EQ(vnet_tx_add(&s.q, big, VNET_FRAME_MIN - 1), -EINVAL);
    CHECK_EQ(vnet_tx_add(&s.q, big, VNET_FRAME_MAX + 1), -EINVAL);
    CHECK_EQ(vnet_tx_add(&s.q, big, VNET_FRAME_MAX), 0);
    CHECK_EQ(s.q.bad_len, 2);
    CHECK_EQ(s.q.frames, 1);
    CHECK_EQ(s.q.vq.num_free, QSIZE - 1);
    sim_free(&s);
}

static void test_tx_device_nonsense(void)
{
    struct sim s;
    uint8_t frame[64] = {0};

    sim_init(&s, VNET_HDR_BYTES);
    for (int i = 0; i < QSIZE; i++)
        vnet_tx_add(&s.q, frame, sizeof(frame));
    dev_complete(&s, QSIZE, 0); /* unknown head: the ring is broken, not merely full */
    CHECK_EQ(vnet_tx_add(&s.q, frame, sizeof(frame)), -EIO);
    sim_free(&s);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"virtio_net_queue/rx_fill_and_take", test_rx_fill_and_take},
        {"virtio_net_queue/rx_bad_lengths_dropped", test_rx_bad_lengths_dropped},
        {"virtio_net_queue/rx_device_nonsense", test_rx_device_nonsense},
        {"virtio_net_queue/tx_copy_full_reclaim", test_tx_copy_full_reclaim},
        {"virtio_net_queue/tx_bad_lengths", test_tx_bad_lengths},
        {"virtio_net_queue/tx_device_nonsense", test_tx_device_nonsense},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
