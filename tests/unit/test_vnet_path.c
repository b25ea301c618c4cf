/* test_vnet_path.c - two virtio-net device models joined by the switch, as vm_net.c joins them:
 * a frame from one guest's transmit ring lands in the other's receive ring, one interrupt per
 * batch; both sending at once from two threads neither deadlocks nor loses count. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/time.h"
#include "test.h"
#include "vmm/vswitch.h"
#include "vmm/vvirtio_net.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (512u << 10)
#define QNUM     64u
#define HDR      12u

/* Offsets in a guest's RAM: queue q's rings, then transmit and receive buffers. */
#define DESC(q)  (0x1000u + (q)*0x3000u)
#define AVAIL(q) (0x2000u + (q)*0x3000u)
#define USED(q)  (0x2800u + (q)*0x3000u)
#define TXBUF(i) (0x8000u + (i)*0x800u)
#define RXBUF(i) (0x28000u + (i)*0x800u)

uint64_t time_now_ns(void)
{
    return 1;
}

/** A guest: its RAM, its NIC, its port, and what its interrupt line did. */
struct guest {
    uint8_t *ram;
    struct vvirtio_net dev;
    struct vswitch_port *port;
    int irq_raises;
    bool irq_level;
    uint8_t mac[6];
};

static void *g_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    struct guest *g = ctx;

    if (ipa < RAM_BASE || ipa - RAM_BASE >= RAM_SIZE || !len)
        return NULL;
    *contiguous = RAM_SIZE - (ipa - RAM_BASE) < len ? RAM_SIZE - (ipa - RAM_BASE) : len;
    return g->ram + (ipa - RAM_BASE);
}

static void g_irq(void *ctx, bool level)
{
    struct guest *g = ctx;

    g->irq_raises += level && !g->irq_level;
    g->irq_level = level;
}

static void g_send(void *ctx, const void *frame, size_t len)
{
    vswitch_send(((struct guest *)ctx)->port, frame, len);
}

static void g_flush(void *ctx)
{
    vswitch_flush(((struct guest *)ctx)->port);
}

static bool g_deliver(void *ctx, const void *frame, size_t len)
{
    return vvirtio_net_rx(&((struct guest *)ctx)->dev, frame, len);
}

static void g_deliver_flush(void *ctx)
{
    vvirtio_net_rx_flush(&((struct guest *)ctx)->dev);
}

static const struct vvirtio_net_ops dev_ops = {g_map, g_irq, g_send, g_flush};
static const struct vswitch_port_ops port_ops = {g_deliver, g_deliver_flush};

static void reg(struct guest *g, uint64_t off, uint32_t v)
{
    CHECK_EQ(vvirtio_net_write(&g->dev, off, 4, v), 0);
}

static void put(struct guest *g, uint32_t off, const void *v, size_t n)
{
    memcpy(g->ram + off, v, n);
}

static uint16_t get16(struct guest *g, uint32_t off)
{
    uint16_t v;

    memcpy(&v, g->ram + off, 2);
    return v;
}

static void set_desc(struct guest *g, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags)
{
    uint8_t raw[16] = {0};

    memcpy(raw, &addr, 8);
    memcpy(raw + 8, &len, 4);
    memcpy(raw + 12, &flags, 2);
    put(g, DESC(q) + i * 16, raw, 16);
}

static void post(struct guest *g, unsigned q, uint16_t head)
{
    uint16_t idx = get16(g, AVAIL(q) + 2), next = (uint16_t)(idx + 1);

    put(g, AVAIL(q) + 4 + (idx % QNUM) * 2, &head, 2);
    __atomic_store_n((uint16_t *)(g->ram + AVAIL(q) + 2), next, __ATOMIC_RELEASE);
}

static void guest_up(struct guest *g, uint8_t id, const char *sw)
{
    static const uint32_t regs[][2] = {{0x070, 1}, {0x070, 3},        {0x024, 1},  {0x020, 1},
                                       {0x024, 0}, {0x020, 1u << 15}, {0x070, 0xb}};

    memset(g, 0, sizeof(*g));
    g->ram = calloc(1, RAM_SIZE);
    memcpy(g->mac, (uint8_t[]){2, 0, 0, 0, 0, id}, 6);
    vvirtio_net_init(&g->dev, g->mac, &dev_ops, g);
    g->port = vswitch_attach(sw, id == 1 ? "g1" : "g2", &port_ops, g);
    CHECK(g->port != NULL);
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        reg(g, regs[i][0], regs[i][1]);
    for (unsigned q = 0; q < 2; q++) {
        reg(g, 0x030, q);
        reg(g, 0x038, QNUM);
        reg(g, 0x080, (uint32_t)(RAM_BASE + DESC(q)));
        reg(g, 0x090, (uint32_t)(RAM_BASE + AVAIL(q)));
        reg(g, 0x0a0, (uint32_t)(RAM_BASE + USED(q)));
        reg(g, 0x044, 1);
    }
    reg(g, 0x070, 0xf);
}

static void guest_down(struct guest *g)
{
    vswitch_detach(g->port);
    free(g->ram);
}

/* Queue n frames of len bytes from g to the station to (slot i of the transmit ring each). */
static void queue_frames(struct guest *g, const uint8_t *to, unsigned n, uint32_t len)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *f = g->ram + TXBUF(i) + HDR;

        memset(g->ram + TXBUF(i), 0, HDR);
        memcpy(f, to, 6);
        memcpy(f + 6, g->mac, 6);
        for (uint32_t b = 12; b < len; b++)
            f[b] = (uint8_t)(i + b);
        set_desc(g, 1, i, RAM_BASE + TXBUF(i), HDR + len, 0);
        post(g, 1, (uint16_t)i);
    }
}

static void post_rx(struct guest *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        set_desc(g, 0, i, RAM_BASE + RXBUF(i), 2048, 2);
        post(g, 0, (uint16_t)i);
    }
}

static void test_frames_cross(void)
{
    struct guest a, b;
    struct vswitch_port_stats st;
    struct vvirtio_net_stats sa, sb;

    guest_up(&a, 1, "p1");
    guest_up(&b, 2, "p1");
    post_rx(&b, 8);
    queue_frames(&a, b.mac, 5, 600);
    reg(&a, 0x050, 1);
    /* Five frames in b's ring, one interrupt for the batch. */
    CHECK_EQ(get16(&b, USED(0) + 2), 5);
    CHECK_EQ(b.irq_raises, 1);
    CHECK_EQ(get16(&b, RXBUF(4) + 10), 1);
    CHECK(!memcmp(b.ram + RXBUF(4) + HDR, a.ram + TXBUF(4) + HDR, 600));
    /* b's ring has 3 buffers left: of 5 more, 2 are dropped and counted on both sides. */
    reg(&b, 0x064, 1);
    queue_frames(&a, b.mac, 5, 60);
    reg(&a, 0x050, 1);
    CHECK_EQ(get16(&b, USED(0) + 2), 8);
    vvirtio_net_get_stats(&b.dev, &sb);
    vvirtio_net_get_stats(&a.dev, &sa);
    CHECK_EQ(sa.tx_frames, 10);
    CHECK_EQ(sb.rx_frames, 8);
    CHECK_EQ(sb.rx_no_buffer, 2);
    vswitch_port_stats(b.port, &st);
    CHECK_EQ(st.tx_frames, 8);
    CHECK_EQ(st.drop_refused, 2);
    guest_down(&a);
    guest_down(&b);
}

/** One sender's thread: rounds of a full transmit ring, given back before the next round. */
struct sender {
    struct guest *g;
    const uint8_t *to;
    unsigned rounds;
};

static void *send_rounds(void *arg)
{
    struct sender *s = arg;

    for (unsigned r = 0; r < s->rounds; r++) {
        queue_frames(s->g, s->to, QNUM / 2, 100 + r % 1000);
        reg(s->g, 0x050, 1);
    }
    return NULL;
}

/* Both guests transmit to each other at once: the lock rules hold (no deadlock) and every frame
 * is accounted for: delivered or refused. */
static void test_both_ways_at_once(void)
{
    struct guest a, b;
    struct sender sa, sb;
    pthread_t ta, tb;
    struct vvirtio_net_stats na, nb;
    struct vswitch_port_stats pa, pb;

    guest_up(&a, 1, "p2");
    guest_up(&b, 2, "p2");
    post_rx(&a, QNUM);
    post_rx(&b, QNUM);
    sa = (struct sender){&a, b.mac, 300};
    sb = (struct sender){&b, a.mac, 300};
    CHECK_EQ(pthread_create(&ta, NULL, send_rounds, &sa), 0);
    CHECK_EQ(pthread_create(&tb, NULL, send_rounds, &sb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    vvirtio_net_get_stats(&a.dev, &na);
    vvirtio_net_get_stats(&b.dev, &nb);
    vswitch_port_stats(a.port, &pa);
    vswitch_port_stats(b.port, &pb);
    CHECK_EQ(na.tx_frames, 300 * (QNUM / 2));
    CHECK_EQ(nb.tx_frames, 300 * (QNUM / 2));
    CHECK_EQ(nb.rx_frames + nb.rx_no_buffer, na.tx_frames);
    CHECK_EQ(na.rx_frames + na.rx_no_buffer, nb.tx_frames);
    CHECK_EQ(na.rx_frames, QNUM); /* the receive rings were never refilled */
    CHECK_EQ(pb.tx_frames + pb.drop_refused, pa.rx_frames);
    guest_down(&a);
    guest_down(&b);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"frames_cross", test_frames_cross},
        {"both_ways_at_once", test_both_ways_at_once},
    };
    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
