/* vm_disk.h - a VM's emulated virtio-blk disks, each backed by an image file on the host's disk. */
#ifndef VMM_VM_DISK_H
#define VMM_VM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* SPI INTID of virtio-mmio slot i, as on QEMU virt (SPI 16 + i). */
#define VM_VIRTIO_INTID(i) (48u + (i))

/*
 * Open the image of every virtio-blk device of the manifest and start the worker thread that
 * serves its queue; each disk's registers go on the VM's MMIO bus: 0, or -errno with msg set.
 */
int vm_disks_open(struct vm *vm, char *msg, size_t len);
/* The VM stops: each worker leaves after the step it is in (any context, does not wait). */
void vm_disks_stop(struct vm *vm);
/* Teardown: wait for the workers to finish (none touches guest RAM afterwards), flush, close. */
void vm_disks_close(struct vm *vm);

#endif
