/* vvirtio_empty.h - a virtio-mmio slot with no device behind it, as QEMU virt shows its unused
 * ones. */
#ifndef VMM_VVIRTIO_EMPTY_H
#define VMM_VVIRTIO_EMPTY_H

#include <stdbool.h>
#include <stdint.h>

/* The transport version an empty slot reports: Avatar's devices' (virtio 1.x, no legacy). */
#define VVIRTIO_EMPTY_VERSION 2u

/*
 * An access at offset (0..slot size) of an empty slot: MagicValue and Version read as a transport,
 * DeviceID 0 says "no device" (virtio 1.2, 4.2.3.1.1), everything else reads 0 and writes are
 * ignored. Size 1, 2 or 4, naturally aligned: 0, or -EINVAL (the caller stops the guest).
 */
int vvirtio_empty_access(uint64_t offset, unsigned size, bool write, uint64_t *val);

#endif
