/* test_vvirtio_empty.c - an empty virtio-mmio slot reads like QEMU virt's unused transports. */
#include <stdint.h>

#include "lib/errno.h"
#include "lib/virtio.h"
#include "test.h"
#include "vmm/layout.h"
#include "vmm/vvirtio_empty.h"

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeef;
    CHECK_EQ(vvirtio_empty_access(off, size, false, &v), 0);
    return v;
}

static void test_registers(void)
{
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE, 4), VIRTIO_MMIO_MAGIC);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION, 4), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID, 4), 0); /* no device */
    for (uint64_t off = VIRTIO_MMIO_VENDOR_ID; off < GUEST_VIRTIO_SLOT_SIZE; off += 4)
        CHECK_EQ(rd(off, 4), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE + 1, 1), 'i');
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE + 2, 2), 0x7472);
}

static void test_writes_ignored(void)
{
    uint64_t v = 0x1234;

    CHECK_EQ(vvirtio_empty_access(VIRTIO_MMIO_STATUS, 4, true, &v), 0);
    CHECK_EQ(vvirtio_empty_access(VIRTIO_MMIO_VERSION, 4, true, &v), 0);
    CHECK_EQ(v, 0x1234);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS, 4), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION, 4), 2);
}

static void test_bad_accesses(void)
{
    uint64_t v;

    CHECK_EQ(vvirtio_empty_access(0, 8, false, &v), -EINVAL);
    CHECK_EQ(vvirtio_empty_access(2, 4, false, &v), -EINVAL);
    CHECK_EQ(vvirtio_empty_access(GUEST_VIRTIO_SLOT_SIZE, 4, false, &v), -EINVAL);
    CHECK_EQ(vvirtio_empty_access(1, 2, true, &v), -EINVAL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vvirtio_empty/registers", test_registers},
        {"vvirtio_empty/writes_ignored", test_writes_ignored},
        {"vvirtio_empty/bad_accesses", test_bad_accesses},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
