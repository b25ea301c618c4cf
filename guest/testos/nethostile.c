/*
 * nethostile.c - TestOS as a hostile virtio-net driver (bootarg nethostile): it sends looping,
 * out-of-RAM, oversized, zero-length and device-writable transmit chains next to one good
 * frame, breaks its rings once, then keeps receive buffers outside its RAM, readable or looping
 * posted for whatever the switch floods to it. The hypervisor must count all of it and stay up.
 */
#include "nethostile.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "gic.h"
#include "lib/virtio.h"
#include "platform.h"
#include "smp.h"

/* Device status bits (virtio 1.2, 2.1). */
#define STATUS_ACKNOWLEDGE 0x01u
#define STATUS_DRIVER      0x02u
#define STATUS_DRIVER_OK   0x04u
#define STATUS_FEATURES_OK 0x08u
#define STATUS_NEEDS_RESET 0x40u

#define DEVICE_ID_NET  1u         /* 5 "Device Types" */
#define F_VERSION_1_HI 1u         /* VIRTIO_F_VERSION_1: bit 32, bit 0 of the high half */
#define F_MRG_RXBUF    (1u << 15) /* VIRTIO_NET_F_MRG_RXBUF (5.1.3) */

#define DESC_F_NEXT     1u
#define DESC_F_WRITE    2u
#define DESC_F_INDIRECT 4u

#define VQ_SIZE   16
#define RXQ       0
#define TXQ       1
#define NET_HDR   12u /* struct virtio_net_hdr with num_buffers (5.1.6) */
#define TX_ROUNDS 50

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/** One split virtqueue (2.7) with the alignments its parts need. */
struct vq {
    struct vq_desc desc[VQ_SIZE] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VQ_SIZE], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VQ_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
};

static struct vq vqs[2];
static uint8_t good_frame[NET_HDR + 60];
static uint8_t big_buf[0x20000]; /* in RAM, but far more than one frame */
static uintptr_t net_base;
static volatile uint32_t net_irqs;

static uint32_t net_read(uint32_t reg)
{
    return mmio_read32(net_base + reg);
}

static void net_write(uint32_t reg, uint32_t val)
{
    mmio_write32(net_base + reg, val);
}

static void net_irq(struct frame *frame, unsigned int intid)
{
    (void)frame;
    (void)intid;
    net_write(VIRTIO_MMIO_INTERRUPT_ACK, net_read(VIRTIO_MMIO_INTERRUPT_STATUS));
    __atomic_store_n(&net_irqs, net_irqs + 1, __ATOMIC_RELEASE);
}

static unsigned int net_find(void)
{
    for (unsigned int i = 0; i < platform.nvirtio; i++) {
        uintptr_t base = platform.virtio[i];

        if (base < TESTOS_DEVICE_LIMIT &&
            mmio_read32(base + VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC &&
            mmio_read32(base + VIRTIO_MMIO_VERSION) == 2 &&
            mmio_read32(base + VIRTIO_MMIO_DEVICE_ID) == DEVICE_ID_NET)
            return i;
    }
    check_fail("nethostile", "no virtio-net device among %u virtio-mmio transports",
               platform.nvirtio);
}

static void net_queue(unsigned int q)
{
    uintptr_t addr;

    net_write(VIRTIO_MMIO_QUEUE_SEL, q);
    net_write(VIRTIO_MMIO_QUEUE_NUM, VQ_SIZE);
    addr = (uintptr_t)vqs[q].desc;
    net_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)addr);
    net_write(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(addr >> 32));
    addr = (uintptr_t)&vqs[q].avail;
    net_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)addr);
    net_write(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(addr >> 32));
    addr = (uintptr_t)&vqs[q].used;
    net_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)addr);
    net_write(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(addr >> 32));
    net_write(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* 3.1.1 with VERSION_1 and MRG_RXBUF; the rings start empty. */
static void net_init(void)
{
    uint32_t s = STATUS_ACKNOWLEDGE | STATUS_DRIVER;

    for (unsigned int q = 0; q < 2; q++)
        vqs[q].avail.idx = vqs[q].used.idx = 0;
    net_write(VIRTIO_MMIO_STATUS, 0);
    net_write(VIRTIO_MMIO_STATUS, STATUS_ACKNOWLEDGE);
    net_write(VIRTIO_MMIO_STATUS, s);
    net_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    net_write(VIRTIO_MMIO_DRIVER_FEATURES, F_VERSION_1_HI);
    net_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    net_write(VIRTIO_MMIO_DRIVER_FEATURES, F_MRG_RXBUF);
    net_write(VIRTIO_MMIO_STATUS, s | STATUS_FEATURES_OK);
    if (!(net_read(VIRTIO_MMIO_STATUS) & STATUS_FEATURES_OK))
        check_fail("nethostile", "the device refused VERSION_1 | MRG_RXBUF");
    net_queue(RXQ);
    net_queue(TXQ);
    net_write(VIRTIO_MMIO_STATUS, s | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

static void post(unsigned int q, uint16_t head)
{
    struct vq *v = &vqs[q];

    v->avail.ring[v->avail.idx % VQ_SIZE] = head;
    __atomic_store_n(&v->avail.idx, (uint16_t)(v->avail.idx + 1), __ATOMIC_RELEASE);
}

static void notify(unsigned int q)
{
    dsb_sy();
    net_write(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/*
 * One round of bad transmit chains and a good broadcast. The device serves the queue in the
 * notify's trap, so every chain must be back in the used ring when the write returns.
 */
static void net_tx_round(void)
{
    struct vq_desc *d = vqs[TXQ].desc;
    uint64_t beyond = platform.ram_base + platform.ram_size + 0x100000;
    uint16_t want = (uint16_t)(vqs[TXQ].used.idx + 7);

    d[0] = (struct vq_desc){(uintptr_t)good_frame, NET_HDR + 60, DESC_F_NEXT, 1}; /* loop */
    d[1] = (struct vq_desc){(uintptr_t)good_frame, 8, DESC_F_NEXT, 0};
    d[2] = (struct vq_desc){beyond, NET_HDR + 60, 0, 0};                /* outside RAM */
    d[3] = (struct vq_desc){(uintptr_t)big_buf, sizeof(big_buf), 0, 0}; /* oversized */
    d[4] = (struct vq_desc){(uintptr_t)good_frame, NET_HDR + 60, DESC_F_WRITE, 0};
    d[5] = (struct vq_desc){(uintptr_t)good_frame, 0, 0, 0};            /* zero length */
    d[6] = (struct vq_desc){(uintptr_t)good_frame, NET_HDR + 60, 0, 0}; /* the good one */
    d[7] = (struct vq_desc){~0ull - 16, 64, 0, 0};                      /* wraps around */
    for (uint16_t h = 0; h < 8; h++)
        if (h != 1)
            post(TXQ, h);
    notify(TXQ);
    if (__atomic_load_n(&vqs[TXQ].used.idx, __ATOMIC_ACQUIRE) != want)
        check_fail("nethostile", "after a notify the used ring is at %u, not %u", vqs[TXQ].used.idx,
                   want);
}

/* An available index far beyond what the queue can hold: the device must ask for a reset. */
static void net_break_rings(void)
{
    vqs[TXQ].avail.idx = (uint16_t)(vqs[TXQ].avail.idx + 1000);
    notify(TXQ);
    if (!(net_read(VIRTIO_MMIO_STATUS) & STATUS_NEEDS_RESET))
        check_fail("nethostile", "broken rings: status 0x%x without DEVICE_NEEDS_RESET",
                   net_read(VIRTIO_MMIO_STATUS));
}

/* Receive buffers the device must refuse: outside RAM, device-readable, a loop, wrapping. */
static void net_post_bad_rx(void)
{
    struct vq_desc *d = vqs[RXQ].desc;
    uint64_t beyond = platform.ram_base + platform.ram_size + 0x200000;

    d[0] = (struct vq_desc){beyond, 2048, DESC_F_WRITE, 0};
    d[1] = (struct vq_desc){(uintptr_t)big_buf, 2048, 0, 0};
    d[2] = (struct vq_desc){(uintptr_t)big_buf, 2048, DESC_F_WRITE | DESC_F_NEXT, 2};
    d[3] = (struct vq_desc){~0ull - 100, 2048, DESC_F_WRITE, 0};
    d[4] = (struct vq_desc){0x1000, 2048, DESC_F_WRITE | DESC_F_INDIRECT, 0};
    for (uint16_t h = 0; h < 5; h++)
        post(RXQ, h);
}

__attribute__((noreturn)) void nethostile_run(void)
{
    unsigned int i = net_find();
    uint16_t seen;

    net_base = platform.virtio[i];
    exception_set_irq_handler(platform.virtio_irq[i], net_irq);
    gic_enable_irq(platform.virtio_irq[i]);
    net_init();
    /* A broadcast from the device's own MAC (config bytes 0-5), EtherType 0x88b5 (experimental). */
    for (unsigned int b = 0; b < 6; b++) {
        good_frame[NET_HDR + b] = 0xff;
        good_frame[NET_HDR + 6 + b] = *(volatile uint8_t *)(net_base + VIRTIO_MMIO_CONFIG + b);
    }
    good_frame[NET_HDR + 12] = 0x88;
    good_frame[NET_HDR + 13] = 0xb5;
    for (unsigned int r = 0; r < TX_ROUNDS; r++)
        net_tx_round();
    console_printf("TESTOS NETHOSTILE tx: %u rounds of 7 chains (1 good), all given back\n",
                   TX_ROUNDS);
    net_break_rings();
    console_printf("TESTOS NETHOSTILE rings: the device asks for a reset\n");
    net_init();
    net_tx_round();
    console_printf("TESTOS NETHOSTILE reset: the device works again\n");
    net_post_bad_rx();
    notify(RXQ);
    console_printf("TESTOS NETHOSTILE rx: bad buffers posted\n");
    /* Each buffer the device gives back goes up again, for as long as the VM runs. */
    seen = 0;
    for (;;) {
        uint32_t irqs = net_irqs;
        uint16_t used = __atomic_load_n(&vqs[RXQ].used.idx, __ATOMIC_ACQUIRE);

        while (seen != used) {
            uint32_t id = vqs[RXQ].used.ring[seen % VQ_SIZE].id;

            if (vqs[RXQ].used.ring[seen % VQ_SIZE].len != 0)
                check_fail("nethostile", "bad receive buffer %u came back with %u bytes", id,
                           vqs[RXQ].used.ring[seen % VQ_SIZE].len);
            post(RXQ, (uint16_t)id);
            seen++;
        }
        smp_wait_irq(&net_irqs, irqs + 1);
    }
}

bool nethostile_wanted(void)
{
    return platform_bootarg("nethostile");
}
