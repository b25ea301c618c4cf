/* vfs_fat32.h - FAT32 volumes as a VFS file-system type. */
#ifndef FS_VFS_FAT32_H
#define FS_VFS_FAT32_H

#include "block/blockdev.h"

/* Mount the FAT32 volume on bd at path; why gets a reason on failure. */
int vfs_fat32_mount(const char *path, struct blockdev *bd, const char *source, const char **why);

#endif
