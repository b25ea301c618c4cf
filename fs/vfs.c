/* vfs.c - mount table, path normalisation and resolution, the open file table. */
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "lib/errno.h"
#include "lib/string.h"

struct mount {
    char path[VFS_PATH_MAX]; /* normalised mount point, "/" for the root */
    size_t path_len;
    const struct vfs_fs_ops *ops;
    void *fs;
    char source[16];
    /*
     * Serialises every call into the file system of this mount. A sleeping lock: calls wait
     * for the disk, and other threads (vCPUs among them) must keep their CPUs meanwhile.
     */
    struct mutex lock;
};

struct file {
    struct mount *mnt; /* immutable after open */
    void *node;        /* file node, or directory cursor when is_dir */
    bool is_dir;
    int flags;
    uint64_t pos; /* protected by mnt->lock */
    int refs;     /* protected by files_lock */
};

static struct mount mounts[VFS_MAX_MOUNTS];
static int nmounts;
static spinlock_t mounts_lock = SPINLOCK_INIT; /* protects mounts[] and nmounts */
static struct file files[VFS_MAX_FILES];
static spinlock_t files_lock = SPINLOCK_INIT; /* protects files[].refs and slot allocation */

static void (*vfs_clock)(struct vfs_time *out);

void vfs_set_clock(void (*now)(struct vfs_time *out))
{
    vfs_clock = now;
}

void vfs_now(struct vfs_time *out)
{
    if (vfs_clock) {
        vfs_clock(out);
        return;
    }
    *out = (struct vfs_time){1980, 1, 1, 0, 0, 0};
}

static void mnt_lock(struct mount *m)
{
    mutex_lock(&m->lock);
}

static void mnt_unlock(struct mount *m)
{
    mutex_unlock(&m->lock);
}

int vfs_normalize(const char *cwd, const char *path, char *out)
{
    size_t len = 0;
    const char *src[2] = {path[0] == '/' ? NULL : cwd, path};

    if (!path || (!src[0] && path[0] != '/'))
        return -EINVAL;
    if (!*path)
        return -ENOENT;
    out[len++] = '/';
    for (int s = 0; s < 2; s++) {
        const char *p = src[s];
        if (!p)
            continue;
        while (*p) {
            while (*p == '/')
                p++;
            const char *name = p;
            while (*p && *p != '/')
                p++;
            size_t n = (size_t)(p - name);
            if (n == 0 || (n == 1 && name[0] == '.'))
                continue;
            if (n == 2 && name[0] == '.' && name[1] == '.') {
                /* Up one level; ".." of the root is the root. */
                while (len > 1 && out[len - 1] != '/')
                    len--;
                if (len > 1)
                    len--;
                continue;
            }
            if (len + (len > 1) + n + 1 > VFS_PATH_MAX)
                return -ENAMETOOLONG;
            if (len > 1)
                out[len++] = '/';
            memcpy(out + len, name, n);
            len += n;
        }
    }
    out[len] = '\0';
    return 0;
}

/* Longest mount point that is a prefix of path (on a name boundary); rel gets the rest. */
static struct mount *vfs_resolve(const char *path, char *abs, const char **rel)
{
    int err = vfs_normalize("/", path, abs);
    struct mount *best = NULL;

    if (err)
        return NULL;
    spin_lock(&mounts_lock);
    for (int i = 0; i < nmounts; i++) {
        struct mount *m = &mounts[i];
        size_t n = m->path_len;
        bool match = n == 1 || (!strncmp(abs, m->path, n) && (abs[n] == '/' || abs[n] == '\0'));
        if (match && (!best || n > best->path_len))
            best = m;
    }
    spin_unlock(&mounts_lock);
    if (best)
        *rel = best->path_len == 1 ? abs : (abs[best->path_len] ? abs + best->path_len : "/");
    return best;
}

int vfs_mount(const char *path, const struct vfs_fs_ops *ops, void *fs, const char *source)
{
    char abs[VFS_PATH_MAX];
    int err = vfs_normalize("/", path, abs);

    if (err)
        return err;
    spin_lock(&mounts_lock);
    for (int i = 0; i < nmounts; i++) {
        if (!strcmp(mounts[i].path, abs)) {
            spin_unlock(&mounts_lock);
            return -EBUSY;
        }
    }
    if (nmounts == VFS_MAX_MOUNTS) {
        spin_unlock(&mounts_lock);
        return -ENOSPC;
    }
    struct mount *m = &mounts[nmounts];
    strcpy(m->path, abs);
    m->path_len = strlen(abs);
    m->ops = ops;
    m->fs = fs;
    strncpy(m->source, source ? source : "", sizeof(m->source) - 1);
    mutex_init(&m->lock);
    nmounts++;
    spin_unlock(&mounts_lock);
    return 0;
}

static struct file *file_alloc(void)
{
    spin_lock(&files_lock);
    for (int i = 0; i < VFS_MAX_FILES; i++) {
        if (files[i].refs == 0) {
            memset(&files[i], 0, sizeof(files[i]));
            files[i].refs = 1;
            spin_unlock(&files_lock);
            return &files[i];
        }
    }
    spin_unlock(&files_lock);
    return NULL;
}

static void file_release_slot(struct file *f)
{
    spin_lock(&files_lock);
    f->refs = 0;
    spin_unlock(&files_lock);
}

int vfs_open(const char *path, int flags, struct file **out)
{
    char abs[VFS_PATH_MAX];
    const char *rel;
    struct mount *m = vfs_resolve(path, abs, &rel);
    struct vfs_stat st;
    int acc = flags & O_ACCMODE;
    int err;

    if (!m)
        return path && *path ? -ENOENT : -EINVAL;
    if (acc == 3)
        return -EINVAL;
    struct file *f = file_alloc();
    if (!f)
        return -ENFILE;
    f->mnt = m;
    f->flags = flags;

    mnt_lock(m);
    err = m->ops->stat(m->fs, rel, &st);
    if (err == -ENOENT && (flags & O_CREAT)) {
        err = m->ops->create(m->fs, rel, &f->node);
        goto done;
    }
    if (err)
        goto done;
    if ((flags & O_CREAT) && (flags & O_EXCL)) {
        err = -EEXIST;
    } else if (st.is_dir) {
        if (acc != O_RDONLY)
            err = -EISDIR;
        else
            err = m->ops->opendir(m->fs, rel, &f->node);
        f->is_dir = true;
    } else if (flags & O_DIRECTORY) {
        err = -ENOTDIR;
    } else {
        if (acc != O_RDONLY && st.read_only)
            err = -EACCES;
        else
            err = m->ops->open(m->fs, rel, &f->node);
        if (!err && (flags & O_TRUNC) && acc != O_RDONLY) {
            err = m->ops->truncate(m->fs, f->node, 0);
            if (err)
                m->ops->close(m->fs, f->node);
        }
    }
done:
    mnt_unlock(m);
    if (err) {
        file_release_slot(f);
        return err;
    }
    *out = f;
    return 0;
}

struct file *vfs_dup(struct file *f)
{
    spin_lock(&files_lock);
    f->refs++;
    spin_unlock(&files_lock);
    return f;
}

int vfs_close(struct file *f)
{
    int err = 0;

    spin_lock(&files_lock);
    bool last = --f->refs == 0;
    if (last)
        f->refs = 1; /* keep the slot ours until the node is closed */
    spin_unlock(&files_lock);
    if (!last)
        return 0;
    mnt_lock(f->mnt);
    if (f->is_dir)
        f->mnt->ops->closedir(f->mnt->fs, f->node);
    else
        err = f->mnt->ops->close(f->mnt->fs, f->node);
    mnt_unlock(f->mnt);
    file_release_slot(f);
    return err;
}

bool vfs_is_dir(const struct file *f)
{
    return f->is_dir;
}

/* Read at off, or at (and advancing) the file position when off is NULL. */
static long file_read(struct file *f, void *buf, size_t len, const uint64_t *off)
{
    long n;

    if (f->is_dir)
        return -EISDIR;
    if ((f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    mnt_lock(f->mnt);
    n = f->mnt->ops->read(f->mnt->fs, f->node, off ? *off : f->pos, buf, len);
    if (n > 0 && !off)
        f->pos += (uint64_t)n;
    mnt_unlock(f->mnt);
    return n;
}

long vfs_read_to(struct file *f, const struct io_dest *dst, size_t len, const uint64_t *off)
{
    long n;

    if (f->is_dir)
        return -EISDIR;
    if ((f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (!f->mnt->ops->read_to)
        return -ENOTSUP;
    mnt_lock(f->mnt);
    n = f->mnt->ops->read_to(f->mnt->fs, f->node, off ? *off : f->pos, dst, len);
    if (n > 0 && !off)
        f->pos += (uint64_t)n;
    mnt_unlock(f->mnt);
    return n;
}

long vfs_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
    return file_read(f, buf, len, &off);
}

long vfs_read(struct file *f, void *buf, size_t len)
{
    return file_read(f, buf, len, NULL);
}

/* Write at off, or at (and advancing) the file position (the end with O_APPEND) when off is NULL.
 */
static long file_write(struct file *f, const void *buf, size_t len, const uint64_t *off)
{
    long n;

    if (f->is_dir)
        return -EISDIR;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    mnt_lock(f->mnt);
    if (off) {
        n = f->mnt->ops->write(f->mnt->fs, f->node, *off, buf, len);
        mnt_unlock(f->mnt);
        return n;
    }
    if (f->flags & O_APPEND) {
        struct vfs_stat st;
        n = f->mnt->ops->fstat(f->mnt->fs, f->node, &st);
        if (n) {
            mnt_unlock(f->mnt);
            return n;
        }
        f->pos = st.size;
    }
    n = f->mnt->ops->write(f->mnt->fs, f->node, f->pos, buf, len);
    if (n > 0)
        f->pos += (uint64_t)n;
    mnt_unlock(f->mnt);
    return n;
}

long vfs_write(struct file *f, const void *buf, size_t len)
{
    return file_write(f, buf, len, NULL);
}

long vfs_pwrite(struct file *f, const void *buf, size_t len, uint64_t off)
{
    return file_write(f, buf, len, &off);
}

int64_t vfs_lseek(struct file *f, int64_t off, int whence)
{
    struct vfs_stat st;
    int64_t base;
    int err = 0;

    if (f->is_dir)
        return -EISDIR;
    mnt_lock(f->mnt);
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END:
        err = f->mnt->ops->fstat(f->mnt->fs, f->node, &st);
        base = (int64_t)st.size;
        break;
    default: err = -EINVAL;
    }
    if (!err && (off > 0 ? base > INT64_MAX - off : base + off < 0))
        err = -EINVAL;
    if (!err)
        f->pos = (uint64_t)(base + off);
    mnt_unlock(f->mnt);
    return err ? err : (int64_t)f->pos;
}

int vfs_readdir(struct file *f, struct vfs_dirent *out)
{
    int r;

    if (!f->is_dir)
        return -ENOTDIR;
    mnt_lock(f->mnt);
    r = f->mnt->ops->readdir(f->mnt->fs, f->node, out);
    mnt_unlock(f->mnt);
    return r;
}

int vfs_fstat(struct file *f, struct vfs_stat *out)
{
    int err;

    if (f->is_dir) {
        memset(out, 0, sizeof(*out));
        out->is_dir = true;
        return 0;
    }
    mnt_lock(f->mnt);
    err = f->mnt->ops->fstat(f->mnt->fs, f->node, out);
    mnt_unlock(f->mnt);
    return err;
}

int vfs_fsetattr(struct file *f, const struct vfs_setattr *attr)
{
    if (f->is_dir || !f->mnt->ops->fsetattr)
        return -EPERM;
    mnt_lock(f->mnt);
    int err = f->mnt->ops->fsetattr(f->mnt->fs, f->node, attr);
    mnt_unlock(f->mnt);
    return err;
}

int vfs_ftruncate(struct file *f, uint64_t size)
{
    int err;

    if (f->is_dir)
        return -EISDIR;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    mnt_lock(f->mnt);
    err = f->mnt->ops->truncate(f->mnt->fs, f->node, size);
    mnt_unlock(f->mnt);
    return err;
}

/* Run a path operation on the mount holding path. */
#define VFS_PATH_OP(path, call)                                                                    \
    ({                                                                                             \
        char abs_[VFS_PATH_MAX];                                                                   \
        const char *rel;                                                                           \
        struct mount *m = vfs_resolve(path, abs_, &rel);                                           \
        int err_ = -ENOENT;                                                                        \
        if (m) {                                                                                   \
            mnt_lock(m);                                                                           \
            err_ = (call);                                                                         \
            mnt_unlock(m);                                                                         \
        }                                                                                          \
        err_;                                                                                      \
    })

int vfs_stat(const char *path, struct vfs_stat *out)
{
    return VFS_PATH_OP(path, m->ops->stat(m->fs, rel, out));
}

int vfs_mkdir(const char *path)
{
    return VFS_PATH_OP(path, m->ops->mkdir(m->fs, rel));
}

int vfs_unlink(const char *path)
{
    return VFS_PATH_OP(path, m->ops->unlink(m->fs, rel));
}

int vfs_setattr(const char *path, const struct vfs_setattr *attr)
{
    return VFS_PATH_OP(path, m->ops->setattr ? m->ops->setattr(m->fs, rel, attr) : -EPERM);
}

int vfs_rmdir(const char *path)
{
    /* A mount point itself cannot be removed. */
    return VFS_PATH_OP(path, strcmp(rel, "/") ? m->ops->rmdir(m->fs, rel) : -EBUSY);
}

int vfs_rename(const char *from, const char *to)
{
    char abs_from[VFS_PATH_MAX], abs_to[VFS_PATH_MAX];
    const char *rel_from, *rel_to;
    struct mount *m = vfs_resolve(from, abs_from, &rel_from);
    struct mount *m2 = vfs_resolve(to, abs_to, &rel_to);
    int err;

    if (!m || !m2)
        return -ENOENT;
    if (m != m2)
        return -EXDEV;
    mnt_lock(m);
    err = m->ops->rename(m->fs, rel_from, rel_to);
    mnt_unlock(m);
    return err;
}

int vfs_mount_entry(int i, char *path, size_t max, const char **type, const char **source)
{
    spin_lock(&mounts_lock);
    int err = i >= 0 && i < nmounts ? 0 : -ENOENT;
    if (!err) {
        strncpy(path, mounts[i].path, max - 1);
        path[max - 1] = '\0';
        *type = mounts[i].ops->type;
        *source = mounts[i].source;
    }
    spin_unlock(&mounts_lock);
    return err;
}

int vfs_statfs(const char *path, struct vfs_statfs *out, const char **source)
{
    int err = VFS_PATH_OP(path, m->ops->statfs(m->fs, out));

    if (!err && source) {
        char abs[VFS_PATH_MAX];
        const char *rel;
        struct mount *m = vfs_resolve(path, abs, &rel);
        *source = m ? m->source : "";
    }
    return err;
}

const char *vfs_error(const char *path)
{
    char abs[VFS_PATH_MAX];
    const char *rel;
    struct mount *m = vfs_resolve(path, abs, &rel);

    return m && m->ops->error ? m->ops->error(m->fs) : "";
}

/* Write back what the file system and the caches beneath it hold, then flush the disk. */
static int mnt_sync(struct mount *m)
{
    mnt_lock(m);
    int err = m->ops->sync(m->fs);
    mnt_unlock(m);
    return err;
}

int vfs_sync_all(void)
{
    int first = 0;

    for (int i = 0; i < __atomic_load_n(&nmounts, __ATOMIC_ACQUIRE); i++) {
        int err = mnt_sync(&mounts[i]);
        if (err && !first)
            first = err;
    }
    return first;
}

int vfs_fsync(struct file *f)
{
    /* FAT keeps no per-file dirty state apart from the volume's: the file's mount is synced. */
    return mnt_sync(f->mnt);
}

int vfs_read_file(const char *path, void **data, size_t *size, size_t max_size)
{
    struct file *f;
    struct vfs_stat st;
    int err = vfs_open(path, O_RDONLY, &f);

    if (err)
        return err;
    err = vfs_fstat(f, &st);
    if (!err && st.is_dir)
        err = -EISDIR;
    if (!err && st.size > max_size)
        err = -EFBIG;
    void *buf = NULL;
    if (!err) {
        buf = kmalloc(st.size ? st.size : 1);
        if (!buf)
            err = -ENOMEM;
    }
    if (!err) {
        long n = vfs_pread(f, buf, st.size, 0);
        if (n < 0)
            err = (int)n;
        else if ((uint64_t)n != st.size)
            err = -EIO;
    }
    vfs_close(f);
    if (err) {
        kfree(buf);
        return err;
    }
    *data = buf;
    *size = st.size;
    return 0;
}

#ifdef AVATAR_HOST
void vfs_reset(void)
{
    for (int i = 0; i < nmounts; i++)
        mounts[i].ops->unmount(mounts[i].fs);
    memset(mounts, 0, sizeof(mounts));
    memset(files, 0, sizeof(files));
    nmounts = 0;
}
#endif
