/* chrdev.c - the character devices behind /dev (null, zero, random; the terminal is tty.c's). */
#include "kernel/chrdev.h"

#include "arch/uvm.h"
#include "kernel/devfs.h"
#include "kernel/poll.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

static int64_t null_read(uint64_t ubuf, uint64_t len, bool nonblock)
{
    (void)ubuf, (void)len, (void)nonblock;
    return 0;
}

static int64_t zero_read(uint64_t ubuf, uint64_t len, bool nonblock)
{
    static const char zeros[256];
    int64_t done = 0;

    (void)nonblock;
    while ((uint64_t)done < len) {
        size_t n =
            len - (uint64_t)done < sizeof(zeros) ? (size_t)(len - (uint64_t)done) : sizeof(zeros);
        if (uvm_copy_out(uvm(), ubuf + (uint64_t)done, zeros, n))
            return done ? done : -EFAULT;
        done += (int64_t)n;
    }
    return done;
}

/* getrandom's bytes, up to 256 a read. */
static int64_t random_read(uint64_t ubuf, uint64_t len, bool nonblock)
{
    (void)nonblock;
    return sys_getrandom((const uint64_t[]){ubuf, len, 0});
}

static const struct chrdev_ops null_chrdev = {.perm = 0666, .seekable = true, .read = null_read};
static const struct chrdev_ops zero_chrdev = {.perm = 0666, .seekable = true, .read = zero_read};
static const struct chrdev_ops random_chrdev = {
    .perm = 0666, .seekable = true, .read = random_read};

const struct chrdev_ops *chrdev_find(uint32_t rdev)
{
    switch (rdev) {
    case DEVFS_NULL: return &null_chrdev;
    case DEVFS_ZERO: return &zero_chrdev;
    case DEVFS_RANDOM:
    case DEVFS_URANDOM: return &random_chrdev;
    case DEVFS_TTY:
    case DEVFS_CONSOLE: return &tty_chrdev;
    default: return NULL;
    }
}

int64_t chrdev_write_user(const struct chrdev_ops *dev, uint64_t ubuf, uint64_t len)
{
    char buf[256];
    int64_t done = 0;

    if (!dev->write)
        return (int64_t)len;
    while ((uint64_t)done < len) {
        size_t n =
            len - (uint64_t)done < sizeof(buf) ? (size_t)(len - (uint64_t)done) : sizeof(buf);
        if (uvm_copy_in(uvm(), buf, ubuf + (uint64_t)done, n))
            return done ? done : -EFAULT;
        long r = dev->write(buf, n);
        if (r < 0)
            return done ? done : r;
        done += r;
        if ((size_t)r < n)
            break;
    }
    return done;
}

long chrdev_write(const struct chrdev_ops *dev, const char *buf, size_t n)
{
    return dev->write ? dev->write(buf, n) : (long)n;
}

short chrdev_poll(const struct chrdev_ops *dev)
{
    return dev->poll ? dev->poll() : POLLIN | POLLOUT;
}

int64_t chrdev_ioctl(const struct chrdev_ops *dev, unsigned int cmd, uint64_t arg)
{
    return dev->ioctl ? dev->ioctl(cmd, arg) : -ENOTTY;
}
