/* sys_fs.c - system calls on descriptors: read/write (console, files, pipes), pipe2, dup, fcntl,
 * ioctl, sync. */
#include "block/blockdev.h"
#include "fs/vfs.h"
#include "kernel/chrdev.h"
#include "kernel/fd.h"
#include "kernel/kmalloc.h"
#include "kernel/pipe.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "lib/errno.h"
#include "lib/string.h"

#define F_DUPFD         0
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4
#define F_DUPFD_CLOEXEC 1030
#define FIONREAD        0x541b
#define FIONBIO         0x5421
#define IOV_MAX         1024
/*
 * Bounce buffer between user memory and a file: up to 64 KiB, so a large read costs one trip
 * down the file system per 64 KiB, not per page; 4 KiB when memory is short.
 */
#define IO_CHUNK     (64 * 1024)
#define IO_CHUNK_MIN 4096
/* Most bytes of one trip down the file system for a read straight into user memory. */
#define IO_DIRECT_MAX (1024 * 1024)

struct user_iovec {
    uint64_t base, len;
};

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

int64_t sys_close(const uint64_t *a)
{
    return fd_close(proc_current(), (int)a[0]);
}

int64_t sys_dup(const uint64_t *a)
{
    struct fd e;
    int err = fd_get(proc_current(), (int)a[0], &e);

    if (err)
        return err;
    e.cloexec = false;
    int fd = fd_install(proc_current(), &e, 0);
    if (fd < 0)
        fd_release(&e);
    return fd;
}

int64_t sys_dup3(const uint64_t *a)
{
    if ((int)a[0] == (int)a[1] || (a[2] & ~(uint64_t)O_CLOEXEC))
        return -EINVAL;
    return fd_dup_to(proc_current(), (int)a[0], (int)a[1], a[2] & O_CLOEXEC);
}

int64_t sys_fcntl(const uint64_t *a)
{
    struct proc *p = proc_current();
    int fd = (int)a[0];
    struct fd e;
    int err = fd_get(p, fd, &e);

    if (err)
        return err;
    int64_t ret = 0;
    switch ((int)a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((int64_t)a[2] < 0 || a[2] >= PROC_MAX_FDS) {
            ret = -EINVAL;
            break;
        }
        e.cloexec = (int)a[1] == F_DUPFD_CLOEXEC;
        ret = fd_install(p, &e, (int)a[2]);
        if (ret >= 0)
            return ret; /* the table keeps the reference */
        break;
    case F_GETFD: ret = e.cloexec ? FD_CLOEXEC : 0; break;
    case F_SETFD: ret = fd_set_cloexec(p, fd, a[2] & FD_CLOEXEC); break;
    case F_GETFL: ret = e.flags; break;
    /* Only O_NONBLOCK and O_APPEND can change (as in Linux); other bits are ignored. */
    case F_SETFL: ret = fd_set_status_flags(p, fd, (int)a[2], O_NONBLOCK | O_APPEND); break;
    default: ret = -EINVAL;
    }
    fd_release(&e);
    return ret;
}

int64_t sys_ioctl(const uint64_t *a)
{
    struct proc *p = proc_current();
    int fd = (int)a[0];
    struct fd e;
    int err = fd_get(p, fd, &e);

    if (err)
        return err;
    int64_t ret = -ENOTTY;
    if (a[1] == FIONBIO) {
        int on;
        ret = uvm_copy_in(uvm(), &on, a[2], sizeof(on))
                  ? -EFAULT
                  : fd_set_status_flags(p, fd, on ? O_NONBLOCK : 0, O_NONBLOCK);
    } else if (e.kind == FD_DEV) {
        ret = chrdev_ioctl(e.dev, (unsigned int)a[1], a[2]);
    } else if (e.kind == FD_PIPE && a[1] == FIONREAD) {
        int n = (int)pipe_unread(e.pipe);
        ret = uvm_copy_out(uvm(), a[2], &n, sizeof(n)) ? -EFAULT : 0;
    }
    fd_release(&e);
    return ret;
}

int64_t sys_pipe2(const uint64_t *a)
{
    struct proc *p = proc_current();
    int fds[2];

    if (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    struct pipe *pp = pipe_create();
    if (!pp)
        return -ENFILE;
    int flags = (int)(a[1] & O_NONBLOCK);
    bool cloexec = a[1] & O_CLOEXEC;
    struct fd r = {.kind = FD_PIPE, .pipe = pp, .flags = O_RDONLY | flags, .cloexec = cloexec};
    struct fd w = {.kind = FD_PIPE, .pipe = pp, .flags = O_WRONLY | flags, .cloexec = cloexec};
    fds[0] = fd_install(p, &r, 0);
    if (fds[0] < 0) {
        fd_release(&r);
        fd_release(&w);
        return fds[0];
    }
    fds[1] = fd_install(p, &w, 0);
    if (fds[1] < 0) {
        fd_release(&w);
        fd_close(p, fds[0]);
        return fds[1];
    }
    if (uvm_copy_out(uvm(), a[0], fds, sizeof(fds))) {
        fd_close(p, fds[0]);
        fd_close(p, fds[1]);
        return -EFAULT;
    }
    return 0;
}

/* Move up to len bytes between a pipe end and user memory through a bounce buffer. */
static int64_t pipe_io(struct fd *e, uint64_t ubuf, uint64_t len, bool write)
{
    if (fd_pipe_writer(e) != write)
        return -EBADF;
    size_t n = len < PIPE_ATOMIC ? (size_t)len : PIPE_ATOMIC;
    char *buf = kmalloc(PIPE_ATOMIC);
    bool nonblock = e->flags & O_NONBLOCK;
    int64_t done = 0;

    if (!buf)
        return -ENOMEM;
    if (!write) {
        done = pipe_read(e->pipe, buf, n, nonblock);
        if (done > 0 && uvm_copy_out(uvm(), ubuf, buf, (size_t)done))
            done = -EFAULT;
    }
    while (write && (uint64_t)done < len) {
        n = len - (uint64_t)done < PIPE_ATOMIC ? (size_t)(len - (uint64_t)done) : PIPE_ATOMIC;
        long r = uvm_copy_in(uvm(), buf, ubuf + (uint64_t)done, n)
                     ? -EFAULT
                     : pipe_write(e->pipe, buf, n, nonblock);
        if (r == -EPIPE)
            signal_send(proc_current(), SIGPIPE);
        if (r < 0) {
            done = done ? done : r;
            break;
        }
        done += r;
        if ((size_t)r < n)
            break;
    }
    kfree(buf);
    /* Nothing moved because a signal came: restart, or -EINTR for a handler. */
    return done == -EINTR ? -ERESTARTSYS : done;
}

/* io_dest copy into the calling program's memory; ctx points at the user address of offset 0. */
static int user_dest_copy(void *ctx, uint64_t off, const void *src, size_t n)
{
    return uvm_copy_out(uvm(), *(const uint64_t *)ctx + off, src, n);
}

/*
 * Read up to len bytes of a file straight into user memory: the file system copies out of its
 * cache once, with no bounce buffer. Reads go down IO_DIRECT_MAX at a time so the file system's
 * locks are not held for a whole huge read. -ENOTSUP when the file system cannot.
 */
static int64_t file_read_user(struct fd *e, uint64_t ubuf, uint64_t len, int64_t off)
{
    struct io_dest dst = {.copy = user_dest_copy, .ctx = &ubuf};
    int64_t done = 0;

    while ((uint64_t)done < len) {
        size_t n =
            len - (uint64_t)done < IO_DIRECT_MAX ? (size_t)(len - (uint64_t)done) : IO_DIRECT_MAX;
        uint64_t at = (uint64_t)(off + done);
        long r = vfs_read_to(e->file, &dst, n, off >= 0 ? &at : NULL);

        if (r < 0) {
            if (!done)
                done = r;
            break;
        }
        done += r;
        ubuf += (uint64_t)r;
        if ((size_t)r < n)
            break;
    }
    return done;
}

/* Move up to len bytes between a file and user memory through a bounce buffer. */
static int64_t file_io(struct fd *e, uint64_t ubuf, uint64_t len, bool write, int64_t off)
{
    if (!write) {
        int64_t r = file_read_user(e, ubuf, len, off);
        if (r != -ENOTSUP)
            return r;
    }
    size_t chunk = len < IO_CHUNK ? (size_t)len : IO_CHUNK;
    char *buf = kmalloc(chunk);
    int64_t done = 0;

    if (!buf && chunk > IO_CHUNK_MIN) {
        chunk = IO_CHUNK_MIN;
        buf = kmalloc(chunk);
    }
    if (!buf)
        return -ENOMEM;
    while ((uint64_t)done < len) {
        size_t n = len - (uint64_t)done < chunk ? (size_t)(len - (uint64_t)done) : chunk;
        long r;
        if (write) {
            if (uvm_copy_in(uvm(), buf, ubuf + (uint64_t)done, n)) {
                r = -EFAULT;
            } else {
                r = vfs_write(e->file, buf, n);
            }
        } else {
            r = off >= 0 ? vfs_pread(e->file, buf, n, (uint64_t)(off + done))
                         : vfs_read(e->file, buf, n);
            if (r > 0 && uvm_copy_out(uvm(), ubuf + (uint64_t)done, buf, (size_t)r))
                r = -EFAULT;
        }
        if (r < 0) {
            if (!done)
                done = r;
            break;
        }
        done += r;
        if ((size_t)r < n)
            break;
    }
    kfree(buf);
    return done;
}

static int64_t fd_io(int fd, uint64_t ubuf, uint64_t len, bool write, int64_t off)
{
    struct fd e;
    int err = fd_get(proc_current(), fd, &e);

    if (err)
        return err;
    int64_t ret;
    if (!uvm_range_ok(ubuf, len))
        ret = -EFAULT;
    else if (len == 0)
        ret = 0;
    else if (e.kind == FD_DEV && off >= 0 && !e.dev->seekable)
        ret = -ESPIPE;
    else if (e.kind == FD_DEV)
        ret = write ? chrdev_write_user(e.dev, ubuf, len)
                    : e.dev->read(ubuf, len, e.flags & O_NONBLOCK);
    else if (e.kind == FD_PIPE)
        ret = off >= 0 ? -ESPIPE : pipe_io(&e, ubuf, len, write);
    else
        ret = file_io(&e, ubuf, len, write, off);
    fd_release(&e);
    return ret;
}

int64_t sys_read(const uint64_t *a)
{
    return fd_io((int)a[0], a[1], a[2], false, -1);
}

int64_t sys_write(const uint64_t *a)
{
    return fd_io((int)a[0], a[1], a[2], true, -1);
}

int64_t sys_pread64(const uint64_t *a)
{
    if ((int64_t)a[3] < 0)
        return -EINVAL;
    return fd_io((int)a[0], a[1], a[2], false, (int64_t)a[3]);
}

/* Bytes one sendfile call moves at most (Linux's limit too). */
#define SENDFILE_MAX 0x7ffff000L

/* Write n bytes from kernel memory to descriptor e: what was written, or an errno. */
static long fd_write_kernel(struct fd *e, const char *buf, size_t n)
{
    switch (e->kind) {
    case FD_FILE: return vfs_write(e->file, buf, n);
    case FD_PIPE: {
        if (!fd_pipe_writer(e))
            return -EBADF;
        long r = pipe_write(e->pipe, buf, n, e->flags & O_NONBLOCK);
        if (r == -EPIPE)
            signal_send(proc_current(), SIGPIPE);
        return r;
    }
    case FD_DEV: return chrdev_write(e->dev, buf, n);
    default: return -EBADF;
    }
}

/*
 * sendfile(out_fd, in_fd, offset, count): copy from a file to any writable descriptor inside
 * the kernel. With offset, the file is read from *offset (updated after) and its position is
 * left alone. in_fd must be a file (-EINVAL otherwise, as for Linux's non-seekable inputs).
 */
int64_t sys_sendfile(const uint64_t *a)
{
    uint64_t count = a[3] > (uint64_t)SENDFILE_MAX ? (uint64_t)SENDFILE_MAX : a[3];
    struct fd in, out;
    int64_t off = -1, done = 0;
    int err = fd_get(proc_current(), (int)a[1], &in);

    if (err)
        return err;
    err = fd_get(proc_current(), (int)a[0], &out);
    if (err) {
        fd_release(&in);
        return err;
    }
    if (in.kind != FD_FILE)
        err = -EINVAL;
    else if ((out.flags & O_ACCMODE) == O_RDONLY && out.kind != FD_PIPE)
        err = -EBADF;
    else if (a[2] && uvm_copy_in(uvm(), &off, a[2], sizeof(off)))
        err = -EFAULT;
    else if (a[2] && off < 0)
        err = -EINVAL;
    char *buf = err || !count ? NULL : kmalloc(IO_CHUNK);
    if (!err && count && !buf)
        err = -ENOMEM;
    while (!err && (uint64_t)done < count) {
        size_t n = count - (uint64_t)done < IO_CHUNK ? (size_t)(count - (uint64_t)done) : IO_CHUNK;
        long r =
            a[2] ? vfs_pread(in.file, buf, n, (uint64_t)(off + done)) : vfs_read(in.file, buf, n);
        long w = r > 0 ? fd_write_kernel(&out, buf, (size_t)r) : r;

        if (w < 0 && !done)
            err = (int)w;
        if (w > 0)
            done += w;
        /* Bytes read but not written are given back to the input's position. */
        if (!a[2] && r > 0 && w < r)
            vfs_lseek(in.file, (int64_t)(w > 0 ? w : 0) - r, SEEK_CUR);
        if (w <= 0 || (size_t)w < n)
            break;
    }
    kfree(buf);
    if (!err && a[2]) {
        off += done;
        if (uvm_copy_out(uvm(), a[2], &off, sizeof(off)))
            err = done ? 0 : -EFAULT;
    }
    fd_release(&in);
    fd_release(&out);
    if (err == -EINTR)
        return -ERESTARTSYS;
    return err ? err : done;
}

static int64_t vector_io(int fd, uint64_t uiov, uint64_t count, bool write)
{
    struct user_iovec iov;
    int64_t done = 0;

    if (count > IOV_MAX)
        return -EINVAL;
    for (uint64_t i = 0; i < count; i++) {
        if (uvm_copy_in(uvm(), &iov, uiov + i * sizeof(iov), sizeof(iov)))
            return done ? done : -EFAULT;
        if (!iov.len)
            continue;
        int64_t r = fd_io(fd, iov.base, iov.len, write, -1);
        if (r < 0)
            return done ? done : r;
        done += r;
        if ((uint64_t)r < iov.len)
            break;
    }
    return done;
}

int64_t sys_readv(const uint64_t *a)
{
    return vector_io((int)a[0], a[1], a[2], false);
}

int64_t sys_writev(const uint64_t *a)
{
    return vector_io((int)a[0], a[1], a[2], true);
}

int64_t sys_lseek(const uint64_t *a)
{
    struct fd e;
    int err = fd_get(proc_current(), (int)a[0], &e);

    if (err)
        return err;
    int64_t ret = e.kind == FD_FILE ? vfs_lseek(e.file, (int64_t)a[1], (int)a[2])
                  : e.kind == FD_DEV && e.dev->seekable ? 0 /* as Linux: always at 0 */
                                                        : -ESPIPE;
    fd_release(&e);
    return ret;
}

int64_t sys_ftruncate(const uint64_t *a)
{
    struct fd e;
    int err = fd_get(proc_current(), (int)a[0], &e);

    if (err)
        return err;
    int64_t ret = e.kind != FD_FILE   ? -EINVAL
                  : (int64_t)a[1] < 0 ? -EINVAL
                                      : vfs_ftruncate(e.file, a[1]);
    fd_release(&e);
    return ret;
}

/*
 * fsync, fdatasync and syncfs: FAT keeps nothing for a file apart from its volume's blocks, so
 * all three write back the mount holding the file and flush its disk. The console holds nothing
 * to write: a terminal cannot be fsynced (-EINVAL, as Linux says for a tty), and syncfs of the
 * file system it belongs to has nothing to do.
 */
static int64_t fd_sync(int fd, bool whole_fs)
{
    struct fd e;
    int err = fd_get(proc_current(), fd, &e);

    if (err)
        return err;
    int64_t ret = e.kind == FD_FILE ? vfs_fsync(e.file) : whole_fs ? 0 : -EINVAL;
    fd_release(&e);
    return ret;
}

int64_t sys_fsync(const uint64_t *a)
{
    return fd_sync((int)a[0], false);
}

int64_t sys_fdatasync(const uint64_t *a)
{
    return fd_sync((int)a[0], false);
}

int64_t sys_syncfs(const uint64_t *a)
{
    return fd_sync((int)a[0], true);
}

int64_t sys_sync(const uint64_t *a)
{
    (void)a;
    /* sync(2) returns nothing: what fails to write stays dirty for the next fsync to report. */
    vfs_sync_all();
    return 0;
}
