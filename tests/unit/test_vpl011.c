/* test_vpl011.c - the emulated PL011 driven through its register interface, as a guest would. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "hw/pl011.h"
#include "lib/errno.h"
#include "test.h"
#include "vmm/vpl011.h"

/* What the UART did to the outside world. */
static struct {
    uint8_t tx[4096];
    size_t ntx;
    unsigned irq_calls;
    bool level;
    bool repeated; /* set_irq was called with the level it already had */
} out;

static void rec_tx(void *ctx, uint8_t byte)
{
    CHECK(ctx == &out);
    if (out.ntx < sizeof(out.tx))
        out.tx[out.ntx++] = byte;
}

static void rec_set_irq(void *ctx, bool level)
{
    CHECK(ctx == &out);
    if (level == out.level)
        out.repeated = true;
    out.level = level;
    out.irq_calls++;
}

static const struct vpl011_ops rec_ops = {rec_tx, rec_set_irq};

static void fresh(struct vpl011 *u)
{
    memset(&out, 0, sizeof(out));
    vpl011_init(u, &rec_ops, &out);
}

static uint32_t rd(struct vpl011 *u, uint64_t off)
{
    uint64_t v = 0xdeadbeef;

    CHECK_EQ(vpl011_read(u, off, 4, &v), 0);
    return (uint32_t)v;
}

static void wr(struct vpl011 *u, uint64_t off, uint32_t v)
{
    CHECK_EQ(vpl011_write(u, off, 4, v), 0);
}

static void test_reset_and_ids(void)
{
    static const uint8_t ids[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    struct vpl011 u;

    fresh(&u);
    CHECK_EQ(rd(&u, PL011_FR), PL011_FR_TXFE | PL011_FR_RXFE);
    CHECK_EQ(rd(&u, PL011_CR), 0x300);
    CHECK_EQ(rd(&u, PL011_IFLS), 0x12);
    CHECK_EQ(rd(&u, PL011_IMSC), 0);
    CHECK_EQ(rd(&u, PL011_RIS), PL011_INT_TX);
    CHECK_EQ(rd(&u, PL011_MIS), 0);
    CHECK_EQ(rd(&u, PL011_RSR), 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(rd(&u, 0xfe0 + 4 * i), ids[i]);
    CHECK_EQ(out.irq_calls, 0);

    /* Only the defined bits of each register hold a value. */
    static const struct {
        uint64_t off;
        uint32_t mask;
    } rw[] = {{PL011_ILPR, 0xff}, {PL011_IBRD, 0xffff}, {PL011_FBRD, 0x3f}, {PL011_LCR_H, 0xff},
              {PL011_CR, 0xff87}, {PL011_IFLS, 0x3f},   {PL011_DMACR, 0x7}};
    for (unsigned i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
        wr(&u, rw[i].off, 0xffffffff);
        CHECK_EQ(rd(&u, rw[i].off), rw[i].mask);
        wr(&u, rw[i].off, 0);
        CHECK_EQ(rd(&u, rw[i].off), 0);
    }

    /* Read-only registers ignore writes; offsets past the registers read as zero. */
    wr(&u, PL011_FR, 0);
    wr(&u, PL011_RIS, 0);
    wr(&u, PL011_MIS, 0xffffffff);
    wr(&u, 0xfe0, 0);
    wr(&u, 0x04c, 0xffffffff);
    wr(&u, 0x800, 0xffffffff);
    CHECK_EQ(rd(&u, PL011_FR), PL011_FR_TXFE | PL011_FR_RXFE);
    CHECK_EQ(rd(&u, PL011_RIS), PL011_INT_TX);
    CHECK_EQ(rd(&u, 0xfe0), 0x11);
    CHECK_EQ(rd(&u, 0x04c), 0);
    CHECK_EQ(rd(&u, 0x800), 0);
    CHECK_EQ(rd(&u, 0xfdc), 0);
    CHECK_EQ(rd(&u, PL011_ICR), 0);
    CHECK_EQ(out.irq_calls, 0);
    CHECK_EQ(out.ntx, 0);

    /* Reset restores what the guest changed. */
    wr(&u, PL011_CR, 0x1);
    wr(&u, PL011_IBRD, 13);
    vpl011_reset(&u);
    CHECK_EQ(rd(&u, PL011_CR), 0x300);
    CHECK_EQ(rd(&u, PL011_IBRD), 0);
}

static void test_transmit(void)
{
    struct vpl011 u;

    fresh(&u);
    wr(&u, PL011_DR, 0x141); /* bits above 7:0 are not data */
    CHECK_EQ(vpl011_write(&u, PL011_DR, 1, 'B'), 0);
    CHECK_EQ(vpl011_write(&u, PL011_DR, 2, 'C'), 0);
    CHECK_EQ(vpl011_write(&u, PL011_DR + 1, 1, 'D'), 0); /* the error-flag lane: read-only */
    CHECK_EQ(out.ntx, 3);
    CHECK(memcmp(out.tx, "ABC", 3) == 0);
    /* Transmission is instant: the FIFO never fills, PL011_DR can always be written. */
    for (int i = 0; i < 100; i++)
        wr(&u, PL011_DR, 'x');
    CHECK_EQ(rd(&u, PL011_FR) & (PL011_FR_TXFF | PL011_FR_TXFE), PL011_FR_TXFE);
    CHECK_EQ(out.ntx, 103);
    CHECK_EQ(out.irq_calls, 0);
}

static void test_rx_fifo(void)
{
    uint8_t buf[40];
    struct vpl011 u;

    fresh(&u);
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(0xa0 + i);
    CHECK_EQ(vpl011_rx_space(&u), 32);
    CHECK_EQ(vpl011_rx_push(&u, buf, 1), 1);
    CHECK_EQ(rd(&u, PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), 0);
    CHECK_EQ(vpl011_rx_space(&u), 31);
    CHECK_EQ(vpl011_rx_push(&u, buf + 1, 39), 31);
    CHECK_EQ(rd(&u, PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFF);
    CHECK_EQ(vpl011_rx_space(&u), 0);
    CHECK_EQ(vpl011_rx_push(&u, buf + 32, 8), 0);
    CHECK_EQ(vpl011_rx_push(&u, buf, 0), 0);

    /* A byte read of PL011_DR's flag lane does not consume data. */
    uint64_t v;
    CHECK_EQ(vpl011_read(&u, PL011_DR + 1, 1, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(vpl011_rx_space(&u), 0);

    for (unsigned i = 0; i < 32; i++) {
        CHECK_EQ(rd(&u, PL011_DR), 0xa0 + i);
        CHECK_EQ(rd(&u, PL011_FR) & PL011_FR_RXFF, 0);
    }
    CHECK_EQ(rd(&u, PL011_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
    CHECK_EQ(rd(&u, PL011_DR), 0); /* empty: nothing to pop */
    CHECK_EQ(vpl011_rx_space(&u), 32);

    /* The ring wraps: push and pop across the end. */
    CHECK_EQ(vpl011_rx_push(&u, buf, 20), 20);
    for (unsigned i = 0; i < 20; i++)
        CHECK_EQ(rd(&u, PL011_DR), 0xa0 + i);
    CHECK_EQ(vpl011_rx_push(&u, buf, 32), 32);
    for (unsigned i = 0; i < 32; i++)
        CHECK_EQ(rd(&u, PL011_DR), 0xa0 + i);
    CHECK_EQ(out.irq_calls, 0); /* every interrupt stayed masked */
}

static void test_rx_interrupt(void)
{
    const uint8_t byte = 'k';
    struct vpl011 u;

    fresh(&u);
    wr(&u, PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(out.irq_calls, 0); /* nothing received yet */
    CHECK_EQ(vpl011_rx_push(&u, &byte, 1), 1);
    CHECK_EQ(out.irq_calls, 1);
    CHECK(out.level);
    CHECK_EQ(rd(&u, PL011_MIS), PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(rd(&u, PL011_RIS), PL011_INT_RX | PL011_INT_RT | PL011_INT_TX);

    /* RX and RT follow the FIFO: clearing them while data waits does not lower the line. */
    wr(&u, PL011_ICR, PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(rd(&u, PL011_MIS), PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(out.irq_calls, 1);
    CHECK_EQ(vpl011_rx_push(&u, &byte, 1), 1); /* already high: no call */
    CHECK_EQ(out.irq_calls, 1);

    /* Draining the FIFO lowers it. */
    CHECK_EQ(rd(&u, PL011_DR), 'k');
    CHECK_EQ(out.irq_calls, 1);
    CHECK_EQ(rd(&u, PL011_DR), 'k');
    CHECK_EQ(out.irq_calls, 2);
    CHECK(!out.level);
    CHECK_EQ(rd(&u, PL011_MIS), 0);

    /* Masked data raises the line when unmasked, and masking lowers it. */
    wr(&u, PL011_IMSC, 0);
    CHECK_EQ(vpl011_rx_push(&u, &byte, 1), 1);
    CHECK_EQ(out.irq_calls, 2);
    wr(&u, PL011_IMSC, PL011_INT_RT);
    CHECK_EQ(out.irq_calls, 3);
    CHECK(out.level);
    CHECK_EQ(rd(&u, PL011_MIS), PL011_INT_RT);
    CHECK_EQ(vpl011_write(&u, PL011_IMSC, 1, 0), 0);
    CHECK_EQ(out.irq_calls, 4);
    CHECK(!out.level);

    /* Reset with the line up lowers it. */
    wr(&u, PL011_IMSC, PL011_INT_RX);
    CHECK_EQ(out.irq_calls, 5);
    vpl011_reset(&u);
    CHECK_EQ(out.irq_calls, 6);
    CHECK(!out.level);
    CHECK_EQ(rd(&u, PL011_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
    CHECK(!out.repeated);
}

/* Linux's PIO transmit: unmask TXIM with data queued, write PL011_DR in the handler, then mask it.
 */
static void test_tx_interrupt(void)
{
    struct vpl011 u;

    fresh(&u);
    wr(&u, PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(out.irq_calls, 0);
    wr(&u, PL011_IMSC, PL011_INT_RX | PL011_INT_RT | PL011_INT_TX);
    CHECK_EQ(out.irq_calls, 1);
    CHECK(out.level);
    CHECK_EQ(rd(&u, PL011_MIS), PL011_INT_TX);
    while (!(rd(&u, PL011_FR) & PL011_FR_TXFF) && out.ntx < 10)
        wr(&u, PL011_DR, 'a' + (int)out.ntx);
    CHECK_EQ(out.ntx, 10);
    wr(&u, PL011_ICR, PL011_INT_TX); /* the FIFO is still empty, so TX re-asserts at once */
    CHECK_EQ(rd(&u, PL011_MIS), PL011_INT_TX);
    CHECK_EQ(out.irq_calls, 1);
    wr(&u, PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
    CHECK_EQ(out.irq_calls, 2);
    CHECK(!out.level);
    CHECK(!out.repeated);
}

static void test_loopback_overrun(void)
{
    struct vpl011 u;

    fresh(&u);
    wr(&u, PL011_CR, 0x301 | PL011_CR_LBE);
    wr(&u, PL011_IMSC, PL011_INT_OE);
    for (int i = 0; i < 32; i++)
        wr(&u, PL011_DR, 'a' + i % 26);
    CHECK_EQ(out.ntx, 0); /* looped back, not sent */
    CHECK_EQ(rd(&u, PL011_FR) & PL011_FR_RXFF, PL011_FR_RXFF);
    CHECK_EQ(out.irq_calls, 0);
    wr(&u, PL011_DR, 'z'); /* no room: an overrun */
    CHECK_EQ(rd(&u, PL011_RSR), 0x8);
    CHECK_EQ(rd(&u, PL011_RIS) & PL011_INT_OE, PL011_INT_OE);
    CHECK_EQ(out.irq_calls, 1);
    CHECK(out.level);
    wr(&u, PL011_RSR, 0); /* UARTECR */
    CHECK_EQ(rd(&u, PL011_RSR), 0);
    CHECK_EQ(vpl011_write(&u, PL011_ICR + 1, 1, PL011_INT_OE >> 8), 0);
    CHECK_EQ(rd(&u, PL011_RIS) & PL011_INT_OE, 0);
    CHECK_EQ(out.irq_calls, 2);
    CHECK(!out.level);
    CHECK_EQ(rd(&u, PL011_DR), 'a');
    wr(&u, PL011_CR, 0x301);
    wr(&u, PL011_DR, '!');
    CHECK_EQ(out.ntx, 1);
    CHECK_EQ(out.tx[0], '!');
}

static void test_bad_accesses(void)
{
    struct vpl011 u;
    uint64_t v = 0;

    fresh(&u);
    static const unsigned bad_sizes[] = {0, 3, 5, 8, 16};
    for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        CHECK_EQ(vpl011_read(&u, PL011_CR, bad_sizes[i], &v), -EINVAL);
        CHECK_EQ(vpl011_write(&u, PL011_DR, bad_sizes[i], 'x'), -EINVAL);
    }
    CHECK_EQ(vpl011_read(&u, PL011_CR + 1, 2, &v), -EINVAL);
    CHECK_EQ(vpl011_read(&u, PL011_CR + 2, 4, &v), -EINVAL);
    CHECK_EQ(vpl011_write(&u, PL011_DR + 1, 4, 'x'), -EINVAL);
    CHECK_EQ(vpl011_read(&u, 0x1000, 4, &v), -EINVAL);
    CHECK_EQ(vpl011_write(&u, 0x1000, 1, 0), -EINVAL);
    CHECK_EQ(vpl011_read(&u, UINT64_MAX - 3, 4, &v), -EINVAL);
    CHECK_EQ(out.ntx, 0);

    /* Aligned sub-word accesses see and change only their lanes. */
    CHECK_EQ(vpl011_read(&u, PL011_CR + 1, 1, &v), 0);
    CHECK_EQ(v, 0x03);
    CHECK_EQ(vpl011_read(&u, PL011_CR, 2, &v), 0);
    CHECK_EQ(v, 0x300);
    CHECK_EQ(vpl011_read(&u, PL011_CR + 2, 2, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(vpl011_write(&u, PL011_CR, 1, 0x1), 0);
    CHECK_EQ(rd(&u, PL011_CR), 0x301);
    CHECK_EQ(vpl011_write(&u, PL011_CR + 1, 1, 0x1), 0);
    CHECK_EQ(rd(&u, PL011_CR), 0x101);
    CHECK_EQ(vpl011_write(&u, PL011_IBRD, 2, 0x12345),
             0); /* bits past the access size are dropped */
    CHECK_EQ(rd(&u, PL011_IBRD), 0x2345);
    CHECK_EQ(vpl011_read(&u, 0xfe8, 1, &v), 0);
    CHECK_EQ(v, 0x14);
}

/* A small deterministic generator, so a failing fuzz run can be replayed. */
static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/*
 * Random accesses and receives against a model of the FIFO: every read of PL011_DR returns the
 * model's next byte, PL011_FR matches the model's count, and the line always equals PL011_MIS != 0.
 */
static void test_fuzz(void)
{
    static const uint64_t hot[] = {PL011_DR,   PL011_RSR,   PL011_FR,    PL011_ILPR,
                                   PL011_IBRD, PL011_FBRD,  PL011_LCR_H, PL011_CR,
                                   PL011_IFLS, PL011_IMSC,  PL011_RIS,   PL011_MIS,
                                   PL011_ICR,  PL011_DMACR, 0xfe0,       0xffc};
    static const unsigned sizes[] = {1, 2, 4, 4, 4, 3, 8};
    uint8_t model[VPL011_RX_FIFO_DEPTH];
    unsigned head = 0, count = 0;
    size_t sent = 0;
    struct vpl011 u;

    fresh(&u);
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int step = 0; step < 200000; step++) {
        uint32_t r = rng();
        unsigned size = sizes[r % 7];
        uint64_t off = (r >> 3) % 4 ? hot[(r >> 5) % 16] + ((r >> 9) & 3) : (r >> 11) % 0x1100;
        bool ok = (size == 1 || size == 2 || size == 4) && off < 0x1000 && off % size == 0;
        uint64_t val = (uint64_t)rng() << 32 | rng();

        switch ((r >> 24) % 4) {
        case 0: { /* the host receives a burst */
            uint8_t buf[8];
            size_t n = r % 9, took;
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)rng();
            took = vpl011_rx_push(&u, buf, n);
            CHECK_EQ(took, n < 32 - count ? n : 32 - count);
            for (size_t i = 0; i < took; i++)
                model[(head + count++) % 32] = buf[i];
            break;
        }
        case 1: { /* a guest read */
            uint64_t v = 0;
            CHECK_EQ(vpl011_read(&u, off, size, &v), ok ? 0 : -EINVAL);
            if (ok && off == PL011_DR) {
                CHECK_EQ(v, count ? model[head] : 0);
                if (count) {
                    head = (head + 1) % 32;
                    count--;
                }
            }
            if (ok)
                CHECK(v < (1ULL << (8 * size)));
            break;
        }
        default: { /* a guest write; a loopback PL011_DR write receives the byte */
            bool loop = rd(&u, PL011_CR) & PL011_CR_LBE;
            size_t ntx = out.ntx;
            CHECK_EQ(vpl011_write(&u, off, size, val), ok ? 0 : -EINVAL);
            if (ok && off == PL011_DR && loop && count < 32)
                model[(head + count++) % 32] = (uint8_t)val;
            if (ok && off == PL011_DR && !loop) {
                sent++;
                CHECK_EQ(out.ntx, ntx + (ntx < sizeof(out.tx)));
            } else {
                CHECK_EQ(out.ntx, ntx);
            }
            break;
        }
        }
        uint32_t fr = rd(&u, PL011_FR);
        CHECK_EQ(fr & 0x1ff,
                 PL011_FR_TXFE | (count ? 0 : PL011_FR_RXFE) | (count == 32 ? PL011_FR_RXFF : 0));
        CHECK_EQ(vpl011_rx_space(&u), 32 - count);
        CHECK_EQ(out.level, rd(&u, PL011_MIS) != 0);
        CHECK_EQ(rd(&u, PL011_MIS), rd(&u, PL011_RIS) & rd(&u, PL011_IMSC));
        if (test_failed_checks) {
            fprintf(stderr, "  fuzz: first failure at step %d\n", step);
            break;
        }
    }
    CHECK(!out.repeated);
    /* the run reached both effects often enough to mean something */
    CHECK(sent > 100);
    CHECK(out.irq_calls > 100);
}

/* Two threads: one receives, one reads PL011_DR; set_irq calls never overlap and always alternate.
 */
static struct vpl011 race_uart;
static volatile int race_in_irq, race_overlap, race_repeat;
static bool race_level;
static unsigned race_calls;

static void race_tx(void *ctx, uint8_t byte)
{
    (void)ctx;
    (void)byte;
}

static void race_set_irq(void *ctx, bool level)
{
    (void)ctx;
    if (__atomic_exchange_n(&race_in_irq, 1, __ATOMIC_ACQUIRE))
        race_overlap = 1;
    /* Stay a while, so the other thread changes the level while this call is in progress. */
    for (volatile int i = 0; i < 2000; i++)
        continue;
    if (level == race_level)
        race_repeat = 1;
    race_level = level;
    race_calls++;
    __atomic_store_n(&race_in_irq, 0, __ATOMIC_RELEASE);
}

#define RACE_BYTES 20000

static void *race_producer(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < RACE_BYTES;) {
        uint8_t b = (uint8_t)i;
        i += (unsigned)vpl011_rx_push(&race_uart, &b, 1);
        /* One byte at a time: every byte raises the line here and lowers it in the reader. */
        while (vpl011_rx_space(&race_uart) < VPL011_RX_FIFO_DEPTH)
            continue;
    }
    return NULL;
}

static void test_concurrent_irq(void)
{
    static const struct vpl011_ops ops = {race_tx, race_set_irq};
    unsigned got = 0, bad = 0;
    pthread_t t;
    uint64_t v;

    vpl011_init(&race_uart, &ops, NULL);
    CHECK_EQ(vpl011_write(&race_uart, PL011_IMSC, 4, PL011_INT_RX | PL011_INT_RT), 0);
    CHECK_EQ(pthread_create(&t, NULL, race_producer, NULL), 0);
    while (got < RACE_BYTES) {
        CHECK_EQ(vpl011_read(&race_uart, PL011_FR, 4, &v), 0);
        if (v & PL011_FR_RXFE)
            continue;
        CHECK_EQ(vpl011_read(&race_uart, PL011_DR, 4, &v), 0);
        bad += v != (uint8_t)got;
        got++;
    }
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK(!race_overlap);
    CHECK(!race_repeat);
    CHECK(!race_level); /* the FIFO is empty, so the line must have ended low */
    CHECK(race_calls >= 2);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vpl011/reset_and_ids", test_reset_and_ids},
        {"vpl011/transmit", test_transmit},
        {"vpl011/rx_fifo", test_rx_fifo},
        {"vpl011/rx_interrupt", test_rx_interrupt},
        {"vpl011/tx_interrupt", test_tx_interrupt},
        {"vpl011/loopback_overrun", test_loopback_overrun},
        {"vpl011/bad_accesses", test_bad_accesses},
        {"vpl011/fuzz", test_fuzz},
        {"vpl011/concurrent_irq", test_concurrent_irq},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
