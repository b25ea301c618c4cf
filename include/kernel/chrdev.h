/* chrdev.h - character devices a descriptor can be (the console, null, zero, random): their ops. */
#ifndef KERNEL_CHRDEV_H
#define KERNEL_CHRDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * What a character device does for the system calls on its descriptors. Every operation but
 * read may be NULL: write then accepts and drops everything, poll reports always ready and ioctl
 * answers -ENOTTY.
 */
struct chrdev_ops {
    unsigned int perm; /* st_mode permission bits */
    bool seekable;     /* lseek stays at 0 and pread ignores the offset (Linux's memory devices) */
    /* Up to len (> 0) bytes into user memory at ubuf: bytes read or -errno. */
    int64_t (*read)(uint64_t ubuf, uint64_t len, bool nonblock);
    /* n bytes from kernel memory: bytes written or -errno. */
    long (*write)(const char *buf, size_t n);
    short (*poll)(void);
    int64_t (*ioctl)(unsigned int cmd, uint64_t arg);
};

/* The terminal (tty.c): fds 0, 1 and 2 of every process, /dev/console and /dev/tty. */
extern const struct chrdev_ops tty_chrdev;

/* The device with number rdev (devfs.h), NULL for a number no driver here serves. */
const struct chrdev_ops *chrdev_find(uint32_t rdev);
/* len (> 0) bytes from user memory at ubuf, in kernel-sized pieces: bytes written or -errno. */
int64_t chrdev_write_user(const struct chrdev_ops *dev, uint64_t ubuf, uint64_t len);
long chrdev_write(const struct chrdev_ops *dev, const char *buf, size_t n);
short chrdev_poll(const struct chrdev_ops *dev);
int64_t chrdev_ioctl(const struct chrdev_ops *dev, unsigned int cmd, uint64_t arg);

#endif
