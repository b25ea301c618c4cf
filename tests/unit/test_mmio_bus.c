/* test_mmio_bus.c - a VM's MMIO bus: registration rules and lookup against a plain scan. */
#include <stdint.h>
#include <string.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/mmio_bus.h"

static int nop_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)ctx;
    (void)v;
    (void)off;
    (void)size;
    *val = 0;
    return 0;
}

static int nop_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)ctx;
    (void)v;
    (void)off;
    (void)size;
    (void)val;
    return 0;
}

static const struct mmio_ops ops = {nop_read, nop_write};
static struct mmio_bus bus;

/* The layout a VM gets: GIC, UART, RTC, two disks, a NIC, the other virtio slots in one run. */
static void test_vm_layout(void)
{
    int tags[6];

    mmio_bus_init(&bus);
    CHECK_EQ(mmio_bus_register(&bus, 0x08000000, 0x01000000, &ops, &tags[0]), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x09000000, 0x1000, &ops, &tags[1]), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x0a000000, 0x200, &ops, &tags[3]), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x0a000400, 0x200, &ops, &tags[5]), 0); /* out of order */
    CHECK_EQ(mmio_bus_register(&bus, 0x0a000200, 0x200, &ops, &tags[4]), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x09010000, 0x1000, &ops, &tags[2]), 0);
    CHECK_EQ(bus.n, 6);
    for (unsigned i = 1; i < bus.n; i++)
        CHECK(bus.r[i - 1].base + bus.r[i - 1].size <= bus.r[i].base);
    CHECK(mmio_bus_find(&bus, 0x08000000)->ctx == &tags[0]);
    CHECK(mmio_bus_find(&bus, 0x08ffffff)->ctx == &tags[0]);
    CHECK(mmio_bus_find(&bus, 0x09000018)->ctx == &tags[1]);
    CHECK(mmio_bus_find(&bus, 0x09010fff)->ctx == &tags[2]);
    CHECK(mmio_bus_find(&bus, 0x0a0001ff)->ctx == &tags[3]);
    CHECK(mmio_bus_find(&bus, 0x0a000200)->ctx == &tags[4]);
    CHECK(mmio_bus_find(&bus, 0x0a000400)->ctx == &tags[5]);
    CHECK(mmio_bus_find(&bus, 0x07ffffff) == NULL);
    CHECK(mmio_bus_find(&bus, 0x09001000) == NULL);
    CHECK(mmio_bus_find(&bus, 0x0a000600) == NULL);
    CHECK(mmio_bus_find(&bus, 0) == NULL);
    CHECK(mmio_bus_find(&bus, UINT64_MAX) == NULL);
}

static void test_refusals(void)
{
    mmio_bus_init(&bus);
    CHECK_EQ(mmio_bus_register(&bus, 0x1000, 0x1000, &ops, NULL), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x1000, 0x1000, &ops, NULL), -EBUSY); /* the same */
    CHECK_EQ(mmio_bus_register(&bus, 0x1fff, 1, &ops, NULL), -EBUSY);      /* last byte */
    CHECK_EQ(mmio_bus_register(&bus, 0x0800, 0x0801, &ops, NULL), -EBUSY); /* first byte */
    CHECK_EQ(mmio_bus_register(&bus, 0x0800, 0x2000, &ops, NULL), -EBUSY); /* around it */
    CHECK_EQ(mmio_bus_register(&bus, 0x0800, 0x0800, &ops, NULL), 0);      /* just below */
    CHECK_EQ(mmio_bus_register(&bus, 0x2000, 0x0800, &ops, NULL), 0);      /* just above */
    CHECK_EQ(mmio_bus_register(&bus, 0x3000, 0, &ops, NULL), -EINVAL);
    CHECK_EQ(mmio_bus_register(&bus, UINT64_MAX - 0xf, 0x20, &ops, NULL), -EINVAL); /* wraps */
    CHECK_EQ(mmio_bus_register(&bus, 0x3000, 0x10, NULL, NULL), -EINVAL);
    CHECK_EQ(bus.n, 3);
    mmio_bus_init(&bus);
    for (unsigned i = 0; i < MMIO_BUS_MAX; i++)
        CHECK_EQ(mmio_bus_register(&bus, 0x10000 + i * 0x100, 0x100, &ops, NULL), 0);
    CHECK_EQ(mmio_bus_register(&bus, 0x100000, 0x100, &ops, NULL), -ENOSPC);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random regions and addresses: find (hint or search) says what a scan of every region says. */
static void test_random_against_scan(void)
{
    for (unsigned round = 0; round < 200 && !test_failed_checks; round++) {
        mmio_bus_init(&bus);
        for (unsigned i = 0; i < 60; i++) {
            uint64_t base = rnd() % 0x10000, size = 1 + rnd() % 0x800;
            int want = 0;

            for (unsigned j = 0; j < bus.n; j++)
                if (base < bus.r[j].base + bus.r[j].size && bus.r[j].base < base + size)
                    want = -EBUSY;
            if (!want && bus.n == MMIO_BUS_MAX)
                want = -ENOSPC;
            CHECK_EQ(mmio_bus_register(&bus, base, size, &ops, (void *)(uintptr_t)(i + 1)), want);
        }
        for (unsigned k = 0; k < 2000 && !test_failed_checks; k++) {
            uint64_t addr = rnd() % 0x11000;
            const struct mmio_region *want = NULL;

            for (unsigned j = 0; j < bus.n; j++)
                if (addr >= bus.r[j].base && addr < bus.r[j].base + bus.r[j].size)
                    want = &bus.r[j];
            CHECK(mmio_bus_find(&bus, addr) == want);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vmm/mmio_bus/vm_layout", test_vm_layout},
        {"vmm/mmio_bus/refusals", test_refusals},
        {"vmm/mmio_bus/random_against_scan", test_random_against_scan},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
