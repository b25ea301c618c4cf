/* devfs.h - /dev: the character devices as a VFS mount (null, zero, random, urandom, tty, console).
 */
#ifndef KERNEL_DEVFS_H
#define KERNEL_DEVFS_H

#include <stdint.h>

/*
 * Linux's numbers for these devices (Documentation/admin-guide/devices.txt), encoded as st_rdev
 * encodes them (major << 8 | minor for numbers this small). devfs reports them in vfs_stat.rdev;
 * the system calls turn them into descriptor kinds.
 */
#define DEVFS_RDEV(major, minor) ((uint32_t)(major) << 8 | (uint32_t)(minor))
#define DEVFS_NULL               DEVFS_RDEV(1, 3)
#define DEVFS_ZERO               DEVFS_RDEV(1, 5)
#define DEVFS_RANDOM             DEVFS_RDEV(1, 8)
#define DEVFS_URANDOM            DEVFS_RDEV(1, 9)
#define DEVFS_TTY                DEVFS_RDEV(5, 0)
#define DEVFS_CONSOLE            DEVFS_RDEV(5, 1)

/* Mount it at /dev: 0 or the VFS error. */
int devfs_mount(void);

#endif
