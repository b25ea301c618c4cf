/* storage.h - mounting the root file system at boot. */
#ifndef KERNEL_STORAGE_H
#define KERNEL_STORAGE_H

/* Mount the first virtio-blk disk (through its block cache) as FAT32 on "/", if there is one. */
void storage_init(void);

#endif
