/* vvirtio_empty.c - the registers of a virtio-mmio slot that holds no device. */
#include "vmm/vvirtio_empty.h"

#include "lib/errno.h"
#include "lib/virtio.h"
#include "vmm/layout.h"

int vvirtio_empty_access(uint64_t offset, unsigned size, bool write, uint64_t *val)
{
    if ((size != 1 && size != 2 && size != 4) || offset % size || offset >= GUEST_VIRTIO_SLOT_SIZE)
        return -EINVAL;
    if (write)
        return 0;
    uint32_t word = 0;
    switch (offset & ~3UL) {
    case VIRTIO_MMIO_MAGIC_VALUE: word = VIRTIO_MMIO_MAGIC; break;
    case VIRTIO_MMIO_VERSION: word = VVIRTIO_EMPTY_VERSION; break;
    default: break; /* DeviceID 0: nothing here */
    }
    word >>= 8 * (offset & 3);
    *val = size == 4 ? word : word & ((1u << (8 * size)) - 1);
    return 0;
}
