/* sys_path.c - system calls on paths and directories: open, mkdir, unlink, rename, chdir, stat. */
#include "fs/vfs.h"
#include "drivers/pl031.h"
#include "kernel/chrdev.h"
#include "kernel/fd.h"
#include "kernel/kmalloc.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "lib/errno.h"
#include "lib/string.h"

#define AT_FDCWD            (-100)
#define AT_REMOVEDIR        0x200
#define AT_EMPTY_PATH       0x1000
#define AT_SYMLINK_NOFOLLOW 0x100
#define CLOCK_REALTIME      0
#define UTIME_NOW           ((1L << 30) - 1)
#define UTIME_OMIT          ((1L << 30) - 2)
#define W_OK                2
#define S_IFIFO             0010000
#define S_IFCHR             0020000
#define S_IFDIR             0040000
#define S_IFREG             0100000
#define DT_CHR              2
#define DT_DIR              4
#define DT_REG              8
#define DIRENT_HEAD         19 /* d_ino, d_off, d_reclen, d_type */
#define O_OPEN_FLAGS        (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY)

/** struct stat of arm64 (asm-generic/stat.h). */
struct user_stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev, pad1;
    int64_t st_size;
    int32_t st_blksize, pad2;
    int64_t st_blocks;
    int64_t st_atime_sec, st_atime_nsec, st_mtime_sec, st_mtime_nsec, st_ctime_sec, st_ctime_nsec;
    uint32_t unused[2];
};

/** Path scratch space: the user's string, the cwd copy, the result. Too big for the stack. */
struct path_buf {
    char user[VFS_PATH_MAX];
    char cwd[VFS_PATH_MAX];
    char abs[VFS_PATH_MAX];
};

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

/*
 * The absolute path of (dirfd, user path) in pb->abs. Relative paths are taken from the working
 * directory; a directory descriptor other than AT_FDCWD is not supported for them.
 */
static int path_get(int dirfd, uint64_t upath, struct path_buf *pb)
{
    struct proc *p = proc_current();
    long len = uvm_strncpy_in(uvm(), pb->user, upath, VFS_PATH_MAX);

    if (len < 0)
        return (int)len;
    if (len == 0)
        return -ENOENT;
    if (pb->user[0] != '/' && dirfd != AT_FDCWD) {
        struct fd e;
        int err = fd_get(p, dirfd, &e);
        if (err)
            return err;
        fd_release(&e);
        return -ENOTSUP;
    }
    unsigned long flags = spin_lock_irqsave(&p->lock);
    memcpy(pb->cwd, p->cwd, VFS_PATH_MAX);
    spin_unlock_irqrestore(&p->lock, flags);
    return vfs_normalize(pb->cwd, pb->user, pb->abs);
}

/* Run op on the absolute path of (dirfd, upath). */
static int64_t path_op(int dirfd, uint64_t upath, int (*op)(const char *path))
{
    struct path_buf *pb = kmalloc(sizeof(*pb));

    if (!pb)
        return -ENOMEM;
    int err = path_get(dirfd, upath, pb);
    if (!err)
        err = op(pb->abs);
    kfree(pb);
    return err;
}

/*
 * A device file just opened becomes a descriptor of its device in e (its VFS file closed): each
 * /dev node is opened as its character device (chrdev.h), not as a VFS file. -ENXIO for a
 * number no driver here serves.
 */
static int open_device(struct fd *e)
{
    struct vfs_stat st;
    int err = vfs_fstat(e->file, &st);

    if (err || !st.rdev)
        return err;
    const struct chrdev_ops *dev = chrdev_find(st.rdev);
    if (!dev)
        return -ENXIO;
    vfs_close(e->file);
    e->file = NULL;
    e->kind = FD_DEV;
    e->dev = dev;
    return 0;
}

int64_t sys_openat(const uint64_t *a)
{
    int flags = (int)a[2];
    struct path_buf *pb = kmalloc(sizeof(*pb));
    struct fd e = {.kind = FD_FILE,
                   .flags = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK),
                   .cloexec = (flags & O_CLOEXEC) != 0};

    if (!pb)
        return -ENOMEM;
    int err = path_get((int)a[0], a[1], pb);
    if (!err)
        err = vfs_open(pb->abs, flags & O_OPEN_FLAGS, &e.file);
    kfree(pb);
    if (!err && !vfs_is_dir(e.file)) {
        err = open_device(&e);
        if (err)
            vfs_close(e.file);
    }
    if (err)
        return err;
    int fd = fd_install(proc_current(), &e, 0);
    if (fd < 0)
        fd_release(&e);
    return fd;
}

/* One linux_dirent64 record for d into buf; its length. */
static size_t dirent_encode(char *buf, const struct vfs_dirent *d, uint64_t index)
{
    size_t namelen = strlen(d->name);
    size_t reclen = (DIRENT_HEAD + namelen + 1 + 7) & ~(size_t)7;
    uint64_t ino = index + 1, off = index + 1;
    uint16_t rl = (uint16_t)reclen;

    memset(buf, 0, reclen);
    memcpy(buf, &ino, 8);
    memcpy(buf + 8, &off, 8);
    memcpy(buf + 16, &rl, 2);
    buf[18] = d->st.is_dir ? DT_DIR : d->st.rdev ? DT_CHR : DT_REG;
    memcpy(buf + DIRENT_HEAD, d->name, namelen);
    return reclen;
}

int64_t sys_getdents64(const uint64_t *a)
{
    /* The largest record: a whole VFS name. No entry is read unless that much room is left,
     * because one read cannot be put back. */
    const size_t max_rec = (DIRENT_HEAD + VFS_NAME_MAX + 1 + 7) & ~(size_t)7;
    uint64_t ubuf = a[1], size = a[2], done = 0;
    struct fd e;
    int err = fd_get(proc_current(), (int)a[0], &e);

    if (err)
        return err;
    struct vfs_dirent *d = kmalloc(sizeof(*d) + max_rec);
    char *rec = (char *)(d + 1);
    int64_t ret = 0;
    if (!d)
        ret = -ENOMEM;
    else if (e.kind != FD_FILE || !vfs_is_dir(e.file))
        ret = -ENOTDIR;
    else if (size < max_rec)
        ret = -EINVAL;
    while (!ret && size - done >= max_rec) {
        int r = vfs_readdir(e.file, d);
        if (r <= 0) {
            ret = r;
            break;
        }
        size_t len = dirent_encode(rec, d, done);
        if (uvm_copy_out(uvm(), ubuf + done, rec, len))
            ret = -EFAULT;
        else
            done += len;
    }
    kfree(d);
    fd_release(&e);
    return done ? (int64_t)done : ret;
}

static int do_unlink(const char *path)
{
    return vfs_unlink(path);
}

int64_t sys_unlinkat(const uint64_t *a)
{
    if (a[2] & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    return path_op((int)a[0], a[1], (a[2] & AT_REMOVEDIR) ? vfs_rmdir : do_unlink);
}

int64_t sys_mkdirat(const uint64_t *a)
{
    return path_op((int)a[0], a[1], vfs_mkdir);
}

int64_t sys_renameat(const uint64_t *a)
{
    struct path_buf *from = kmalloc(sizeof(*from)), *to = kmalloc(sizeof(*to));
    int err = from && to ? 0 : -ENOMEM;

    if (!err)
        err = path_get((int)a[0], a[1], from);
    if (!err)
        err = path_get((int)a[2], a[3], to);
    if (!err)
        err = vfs_rename(from->abs, to->abs);
    kfree(from);
    kfree(to);
    return err;
}

static int check_dir(const char *path)
{
    struct vfs_stat st;
    int err = vfs_stat(path, &st);

    return err ? err : st.is_dir ? 0 : -ENOTDIR;
}

int64_t sys_chdir(const uint64_t *a)
{
    struct path_buf *pb = kmalloc(sizeof(*pb));
    struct proc *p = proc_current();

    if (!pb)
        return -ENOMEM;
    int err = path_get(AT_FDCWD, a[0], pb);
    if (!err)
        err = check_dir(pb->abs);
    if (!err) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        memcpy(p->cwd, pb->abs, VFS_PATH_MAX);
        spin_unlock_irqrestore(&p->lock, flags);
    }
    kfree(pb);
    return err;
}

int64_t sys_getcwd(const uint64_t *a)
{
    struct proc *p = proc_current();
    char *cwd = kmalloc(VFS_PATH_MAX);

    if (!cwd)
        return -ENOMEM;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    memcpy(cwd, p->cwd, VFS_PATH_MAX);
    spin_unlock_irqrestore(&p->lock, flags);
    size_t len = strlen(cwd) + 1;
    int64_t ret = len > a[1]                            ? -ERANGE
                  : uvm_copy_out(uvm(), a[0], cwd, len) ? -EFAULT
                                                        : (int64_t)len;
    kfree(cwd);
    return ret;
}

/* Seconds since 1970 for a date (days_from_civil, H. Hinnant's algorithm). */
static int64_t vfs_time_to_epoch(const struct vfs_time *t)
{
    int64_t y = t->year - (t->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (t->month + (t->month > 2 ? -3 : 9)) + 2) / 5 + t->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return days * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
}

/* kind: a descriptor's kind and dev its device (st unused), or FD_FILE for what st describes. */
static int stat_out(uint64_t ubuf, const struct vfs_stat *st, enum fd_kind kind,
                    const struct chrdev_ops *dev)
{
    struct user_stat us;

    memset(&us, 0, sizeof(us));
    us.st_nlink = 1;
    us.st_blksize = 4096;
    if (kind == FD_FILE && st->rdev) {
        dev = chrdev_find(st->rdev);
        us.st_mode = S_IFCHR | (dev ? dev->perm : 0666);
        us.st_rdev = st->rdev;
    } else if (kind == FD_DEV) {
        us.st_mode = S_IFCHR | dev->perm;
    } else if (kind == FD_PIPE) {
        us.st_mode = S_IFIFO | 0600;
    } else {
        us.st_mode = st->is_dir ? S_IFDIR | 0755 : S_IFREG | (st->read_only ? 0444 : 0644);
        us.st_size = (int64_t)st->size;
        us.st_blocks = (int64_t)((st->size + 511) / 512);
        us.st_mtime_sec = vfs_time_to_epoch(&st->mtime);
        us.st_atime_sec = us.st_mtime_sec;
        us.st_ctime_sec = vfs_time_to_epoch(&st->ctime);
    }
    return uvm_copy_out(uvm(), ubuf, &us, sizeof(us));
}

static int64_t fstat_fd(int fd, uint64_t ubuf)
{
    struct vfs_stat st;
    struct fd e;
    int err = fd_get(proc_current(), fd, &e);

    if (err)
        return err;
    if (e.kind == FD_FILE)
        err = vfs_fstat(e.file, &st);
    if (!err)
        err = stat_out(ubuf, &st, e.kind, e.dev);
    fd_release(&e);
    return err;
}

int64_t sys_fstat(const uint64_t *a)
{
    return fstat_fd((int)a[0], a[1]);
}

int64_t sys_newfstatat(const uint64_t *a)
{
    struct path_buf *pb;
    struct vfs_stat st;
    char first;

    if ((a[3] & AT_EMPTY_PATH) && !uvm_copy_in(uvm(), &first, a[1], 1) && first == '\0')
        return fstat_fd((int)a[0], a[2]);
    pb = kmalloc(sizeof(*pb));
    if (!pb)
        return -ENOMEM;
    int err = path_get((int)a[0], a[1], pb);
    if (!err)
        err = vfs_stat(pb->abs, &st);
    if (!err)
        err = stat_out(a[2], &st, FD_FILE, NULL);
    kfree(pb);
    return err;
}

int64_t sys_faccessat(const uint64_t *a)
{
    struct path_buf *pb = kmalloc(sizeof(*pb));
    struct vfs_stat st;

    if (!pb)
        return -ENOMEM;
    int err = path_get((int)a[0], a[1], pb);
    if (!err)
        err = vfs_stat(pb->abs, &st);
    if (!err && (a[2] & W_OK) && st.read_only)
        err = -EACCES;
    kfree(pb);
    return err;
}

int64_t sys_symlinkat(const uint64_t *a)
{
    (void)a;
    return -EPERM; /* FAT32 has no symbolic links */
}

int64_t sys_linkat(const uint64_t *a)
{
    (void)a;
    return -EPERM; /* nor hard links: a file is its one directory entry */
}

int64_t sys_readlinkat(const uint64_t *a)
{
    struct proc *p = proc_current();
    struct path_buf *pb = kmalloc(sizeof(*pb));
    struct vfs_stat st;
    int64_t ret;

    if (!pb)
        return -ENOMEM;
    if ((int64_t)a[3] <= 0) {
        kfree(pb);
        return -EINVAL;
    }
    ret = path_get((int)a[0], a[1], pb);
    if (!ret && !strcmp(pb->abs, "/proc/self/exe")) {
        /* The one link there is: the program's path (no /proc otherwise). */
        unsigned long flags = spin_lock_irqsave(&p->lock);
        strcpy(pb->cwd, p->exe);
        spin_unlock_irqrestore(&p->lock, flags);
        size_t len = strlen(pb->cwd);
        ret = (int64_t)(len < a[3] ? len : a[3]);
        if (!len)
            ret = -ENOENT;
        else if (uvm_copy_out(uvm(), a[2], pb->cwd, (size_t)ret))
            ret = -EFAULT;
    } else if (!ret) {
        ret = vfs_stat(pb->abs, &st);
        if (!ret)
            ret = -EINVAL; /* it exists, and nothing on FAT32 is a link */
    }
    kfree(pb);
    return ret;
}

/* Change attr of the file at (dirfd, upath). */
static int64_t path_setattr(int dirfd, uint64_t upath, const struct vfs_setattr *attr)
{
    struct path_buf *pb = kmalloc(sizeof(*pb));

    if (!pb)
        return -ENOMEM;
    int err = path_get(dirfd, upath, pb);
    if (!err)
        err = vfs_setattr(pb->abs, attr);
    kfree(pb);
    return err;
}

int64_t sys_fchmodat(const uint64_t *a)
{
    /* FAT32 keeps one permission bit: read-only, set when nobody may write (other bits, such
     * as the file type some callers pass along, are ignored as in Linux). */
    struct vfs_setattr attr = {(a[2] & 0222) ? 0 : 1, false, {0, 0, 0, 0, 0, 0}};

    return path_setattr((int)a[0], a[1], &attr);
}

int64_t sys_utimensat(const uint64_t *a)
{
    struct user_timespec {
        int64_t sec, nsec;
    } ts[2];
    struct vfs_setattr attr = {-1, true, {0, 0, 0, 0, 0, 0}};
    uint64_t secs = sys_clock_ns(CLOCK_REALTIME) / 1000000000ULL;

    if (a[3] & ~(uint64_t)AT_SYMLINK_NOFOLLOW)
        return -EINVAL;
    if (a[2]) {
        if (uvm_copy_in(uvm(), ts, a[2], sizeof(ts)))
            return -EFAULT;
        for (int i = 0; i < 2; i++) {
            if (ts[i].nsec != UTIME_NOW && ts[i].nsec != UTIME_OMIT &&
                (ts[i].nsec < 0 || ts[i].nsec >= 1000000000 || ts[i].sec < 0))
                return -EINVAL;
        }
        /* FAT32 has one time stamp to set: the modification time (access is a date). */
        if (ts[1].nsec == UTIME_OMIT)
            attr.set_mtime = false;
        else if (ts[1].nsec != UTIME_NOW)
            secs = (uint64_t)ts[1].sec;
    }
    struct rtc_time t;
    rtc_to_date(secs, &t);
    attr.mtime = (struct vfs_time){t.year, t.month, t.day, t.hour, t.minute, t.second};
    if (!attr.set_mtime)
        return 0;
    if (a[1])
        return path_setattr((int)a[0], a[1], &attr);
    /* futimens: no path, the descriptor's file. */
    struct fd e;
    int err = fd_get(proc_current(), (int)a[0], &e);
    if (err)
        return err;
    err = e.kind == FD_FILE ? vfs_fsetattr(e.file, &attr) : e.kind == FD_PIPE ? -EPERM : 0;
    fd_release(&e);
    return err;
}
