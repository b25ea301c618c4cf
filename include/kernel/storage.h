/* storage.h - mounting the root file system at boot. */
#ifndef KERNEL_STORAGE_H
#define KERNEL_STORAGE_H

/*
 * Mount the disk "vda" (opened through the block layer, cached) as FAT32 on "/", if there is
 * one. Implemented in shell/storage.c: mounting the root is start-up policy above fs.
 */
void storage_init(void);

/* The disk mounted on "/": the first virtio disk, as the block layer names it. */
#define STORAGE_ROOT_DISK "vda"

#endif
