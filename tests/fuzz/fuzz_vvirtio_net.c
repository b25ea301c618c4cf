/* fuzz_vvirtio_net.c - fuzz target for the virtio-net device model: any guest RAM (rings,
 * descriptors, buffers) and any order of notifies, received frames, acks and resets; nothing may
 * crash, touch memory map did not give, or pass the switch a frame of a bad length.
 *
 * libFuzzer (from the repo root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DAVATAR_HOST -Iinclude \
 *       tests/fuzz/fuzz_vvirtio_net.c vmm/vvirtio_net.c vmm/vvirtio_net_ring.c \
 *       tests/unit/host_shim.c -o build/fuzz/fuzz_vvirtio_net
 *   mkdir -p build/fuzz/vnet && build/fuzz/fuzz_vvirtio_net build/fuzz/vnet
 *
 * Standalone regression run, no libFuzzer needed (what `make test` runs, as
 * build/unit/test_fuzz_vvirtio_net): the same target on fixed-seed random inputs, then
 * "PASS vmm/vvirtio_net_fuzz_regression".
 *   build/unit/test_fuzz_vvirtio_net [iterations [seed]]     (default 3000 iterations, seed 1)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/virtio.h"
#include "vmm/vvirtio_net.h"

#define RAM_BASE   0x40000000ull
#define RAM_SIZE   (64u << 10)
#define SCRIPT_MAX 64u /* the input's first bytes are the operations, the rest is guest RAM */

/* Where the driver put its queues (the fuzzer writes what is in them). */
static const uint64_t queue_at[2][3] = {
    {RAM_BASE + 0x1000, RAM_BASE + 0x1800, RAM_BASE + 0x1c00},
    {RAM_BASE + 0x2000, RAM_BASE + 0x2800, RAM_BASE + 0x2c00},
};

static uint8_t *ram;
static uint64_t sends;
static struct vvirtio_net dev;

static void fuzz_die(const char *why)
{
    fprintf(stderr, "fuzz_vvirtio_net: %s\n", why);
    abort();
}

/* RAM in pieces of at most 4 KiB, so multi-piece copies are exercised. */
static void *fz_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    uint64_t off, n;

    (void)ctx;
    if (ipa < RAM_BASE || ipa - RAM_BASE >= RAM_SIZE || !len)
        return NULL;
    off = ipa - RAM_BASE;
    n = 4096 - off % 4096;
    *contiguous = n < len ? n : len;
    return ram + off;
}

static void fz_irq(void *ctx, bool level)
{
    (void)ctx;
    (void)level;
}

static void fz_send(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX)
        fuzz_die("a frame of a bad length reached the switch");
    /* Read it all: ASan catches a frame that is not all in the device's buffer. */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += ((const uint8_t *)frame)[i];
    sends++;
}

static void fz_flush(void *ctx)
{
    (void)ctx;
}

static const struct vvirtio_net_ops ops = {fz_map, fz_irq, fz_send, fz_flush};

static void reg(uint64_t off, uint32_t v)
{
    if (vvirtio_net_write(&dev, off, 4, v))
        fuzz_die("a register write was refused");
}

/*
 * The driver's start (3.1.1) after a reset: features from the script, queues of size num where
 * they are.
 */
static void bring_up(uint8_t features, uint32_t num)
{
    reg(VIRTIO_MMIO_STATUS, 0);
    reg(VIRTIO_MMIO_STATUS, 3);
    reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg(VIRTIO_MMIO_DRIVER_FEATURES, features & 1);
    reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg(VIRTIO_MMIO_DRIVER_FEATURES, features & 2 ? 1u << 15 : 0);
    reg(VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < 2; q++) {
        reg(VIRTIO_MMIO_QUEUE_SEL, q);
        reg(VIRTIO_MMIO_QUEUE_NUM, num);
        reg(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)queue_at[q][0]);
        reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)queue_at[q][1]);
        reg(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)queue_at[q][2]);
        reg(VIRTIO_MMIO_QUEUE_READY, 1);
    }
    reg(VIRTIO_MMIO_STATUS, 0xf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t sizes[] = {1, 2, 8, 16, 64, 256, 3, 512};
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    size_t nscript = size < SCRIPT_MAX ? size : SCRIPT_MAX;
    uint8_t frame[VSWITCH_FRAME_MAX];
    struct vvirtio_net_stats st;

    if (!ram)
        ram = malloc(RAM_SIZE);
    memset(ram, 0, RAM_SIZE);
    memcpy(ram + 0x1000, data + nscript,
           size - nscript < RAM_SIZE - 0x1000 ? size - nscript : RAM_SIZE - 0x1000);
    memset(frame, 0x5a, sizeof(frame));
    sends = 0;
    vvirtio_net_init(&dev, mac, &ops, NULL);
    bring_up(nscript ? data[0] : 3, sizes[nscript > 1 ? data[1] % 8 : 3]);
    for (size_t i = 2; i < nscript; i++) {
        uint8_t op = data[i];

        switch (op % 6) {
        case 0:
        case 1: reg(VIRTIO_MMIO_QUEUE_NOTIFY, op >> 7); break;
        case 2: vvirtio_net_rx(&dev, frame, (op * 13u) % (VSWITCH_FRAME_MAX + 20)); break;
        case 3: vvirtio_net_rx_flush(&dev); break;
        case 4: reg(VIRTIO_MMIO_INTERRUPT_ACK, op >> 6); break;
        case 5:
            if (op & 0x80)
                bring_up(op >> 5, sizes[op % 8]);
            break;
        }
    }
    vvirtio_net_get_stats(&dev, &st);
    if (st.tx_frames != sends)
        fuzz_die("tx_frames differs from the frames sent");
    return 0;
}

#ifdef FUZZ_STANDALONE
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

/* Where RAM byte ipa comes from in an input. */
static size_t input_at(uint64_t ipa)
{
    return SCRIPT_MAX + (size_t)(ipa - RAM_BASE - 0x1000);
}

/*
 * Inputs shaped like rings: descriptors with small lengths and addresses near RAM, avail rings
 * whose index is mostly within a queue of the last one (else every input is a ring error).
 */
static size_t make_input(uint8_t *buf, size_t cap)
{
    size_t min = input_at(queue_at[1][2]), len = min + rng_next() % (cap - min);

    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng_next();
    for (size_t i = SCRIPT_MAX; i + 16 <= len; i += 16) {
        uint64_t addr = RAM_BASE + rng_next() % (RAM_SIZE + 0x1000);
        uint32_t dlen = (uint32_t)(rng_next() % 4 ? rng_next() % 2000 : rng_next() << 20);
        uint16_t flags = (uint16_t)(rng_next() % 8), next = (uint16_t)(rng_next() % 20);

        if (rng_next() % 3 == 0)
            continue; /* keep the raw bytes: avail and used rings, headers */
        memcpy(buf + i, &addr, 8);
        memcpy(buf + i + 8, &dlen, 4);
        memcpy(buf + i + 12, &flags, 2);
        memcpy(buf + i + 14, &next, 2);
    }
    for (unsigned q = 0; q < 2 && rng_next() % 8; q++) {
        uint8_t *avail = buf + input_at(queue_at[q][1]);
        uint16_t idx = (uint16_t)(rng_next() % 9);

        avail[0] = (uint8_t)(rng_next() % 2); /* flags: VIRTQ_AVAIL_F_NO_INTERRUPT or not */
        avail[1] = 0;
        memcpy(avail + 2, &idx, 2);
        for (unsigned e = 0; e < 16; e++)
            avail[4 + 2 * e] = (uint8_t)(rng_next() % 20), avail[5 + 2 * e] = 0;
    }
    return len;
}

int main(int argc, char **argv)
{
    unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 0) : 3000;
    static uint8_t buf[SCRIPT_MAX + 0x4000];

    rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    for (unsigned long i = 0; i < iterations; i++)
        LLVMFuzzerTestOneInput(buf, make_input(buf, sizeof(buf)));
    free(ram);
    printf("PASS vmm/vvirtio_net_fuzz_regression\n");
    return 0;
}
#endif
