/* vfs_fat32.c - adapts the FAT32 library to the VFS operations. */
#include "fs/fat32.h"
#include "fs/vfs.h"
#include "fs/vfs_fat32.h"
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/string.h"

static void fat_time_copy(struct vfs_time *to, const struct fat32_time *from)
{
    to->year = from->year;
    to->month = from->month;
    to->day = from->day;
    to->hour = from->hour;
    to->minute = from->minute;
    to->second = from->second;
}

static void fat_stat_copy(struct vfs_stat *out, const struct fat32_stat *st)
{
    memset(out, 0, sizeof(*out));
    out->size = st->size;
    out->is_dir = st->is_dir;
    out->read_only = (st->attr & FAT32_ATTR_READ_ONLY) != 0;
    fat_time_copy(&out->mtime, &st->mtime);
    fat_time_copy(&out->ctime, &st->ctime);
}

static int fat_stat(void *fs, const char *path, struct vfs_stat *out)
{
    struct fat32_stat st;
    int err = fat32_stat(fs, path, &st);

    if (!err)
        fat_stat_copy(out, &st);
    return err;
}

static int fat_open(void *fs, const char *path, void **node)
{
    return fat32_open(fs, path, (struct fat32_node **)node);
}

static int fat_create(void *fs, const char *path, void **node)
{
    return fat32_create(fs, path, (struct fat32_node **)node);
}

static int fat_close(void *fs, void *node)
{
    return fat32_close(fs, node);
}

static long fat_read(void *fs, void *node, uint64_t off, void *buf, size_t len)
{
    return fat32_read(fs, node, off, buf, len);
}

static long fat_read_to(void *fs, void *node, uint64_t off, const struct io_dest *dst, size_t len)
{
    return fat32_read_to(fs, node, off, dst, len);
}

static long fat_write(void *fs, void *node, uint64_t off, const void *buf, size_t len)
{
    return fat32_write(fs, node, off, buf, len);
}

static int fat_truncate(void *fs, void *node, uint64_t size)
{
    return fat32_truncate(fs, node, size);
}

static int fat_fstat(void *fs, void *node, struct vfs_stat *out)
{
    struct fat32_stat st;
    int err = fat32_fstat(fs, node, &st);

    if (!err)
        fat_stat_copy(out, &st);
    return err;
}

static int fat_mkdir(void *fs, const char *path)
{
    return fat32_mkdir(fs, path);
}

static int fat_unlink(void *fs, const char *path)
{
    return fat32_unlink(fs, path);
}

static int fat_rmdir(void *fs, const char *path)
{
    return fat32_rmdir(fs, path);
}

static int fat_rename(void *fs, const char *from, const char *to)
{
    return fat32_rename(fs, from, to);
}

static int fat_setattr(void *fs, const char *path, const struct vfs_setattr *attr)
{
    const struct vfs_time *t = &attr->mtime;
    struct fat32_time mtime = {t->year, t->month, t->day, t->hour, t->minute, t->second};

    return fat32_setattr(fs, path, attr->read_only, attr->set_mtime ? &mtime : NULL);
}

static int fat_fsetattr(void *fs, void *node, const struct vfs_setattr *attr)
{
    const struct vfs_time *t = &attr->mtime;
    struct fat32_time mtime = {t->year, t->month, t->day, t->hour, t->minute, t->second};

    return fat32_fsetattr(fs, node, attr->read_only, attr->set_mtime ? &mtime : NULL);
}

static int fat_opendir(void *fs, const char *path, void **dir)
{
    struct fat32_dir *d = kmalloc(sizeof(*d));
    int err;

    if (!d)
        return -ENOMEM;
    err = fat32_opendir(fs, path, d);
    if (err) {
        kfree(d);
        return err;
    }
    *dir = d;
    return 0;
}

static int fat_readdir(void *fs, void *dir, struct vfs_dirent *out)
{
    struct fat32_dirent *e = kmalloc(sizeof(*e));
    int r;

    if (!e)
        return -ENOMEM;
    r = fat32_readdir(fs, dir, e);
    if (r == 1) {
        _Static_assert(sizeof(out->name) == sizeof(e->name), "name sizes agree");
        memcpy(out->name, e->name, sizeof(out->name));
        fat_stat_copy(&out->st, &e->st);
    }
    kfree(e);
    return r;
}

static void fat_closedir(void *fs, void *dir)
{
    (void)fs;
    kfree(dir);
}

static int fat_statfs(void *fs, struct vfs_statfs *out)
{
    struct fat32_statfs st;
    int err = fat32_statfs(fs, &st);

    if (err)
        return err;
    out->type = "fat32";
    out->block_size = st.bytes_per_cluster;
    out->total_blocks = st.total_clusters;
    out->free_blocks = st.free_clusters;
    return 0;
}

static int fat_sync(void *fs)
{
    return fat32_sync(fs);
}

static const char *fat_error(void *fs)
{
    return fat32_error(fs);
}

static int fat_unmount(void *fs)
{
    return fat32_unmount(fs);
}

static const struct vfs_fs_ops fat32_vfs_ops = {
    .type = "fat32",
    .stat = fat_stat,
    .open = fat_open,
    .create = fat_create,
    .close = fat_close,
    .read = fat_read,
    .read_to = fat_read_to,
    .write = fat_write,
    .truncate = fat_truncate,
    .fstat = fat_fstat,
    .mkdir = fat_mkdir,
    .unlink = fat_unlink,
    .rmdir = fat_rmdir,
    .rename = fat_rename,
    .setattr = fat_setattr,
    .fsetattr = fat_fsetattr,
    .opendir = fat_opendir,
    .readdir = fat_readdir,
    .closedir = fat_closedir,
    .statfs = fat_statfs,
    .sync = fat_sync,
    .error = fat_error,
    .unmount = fat_unmount,
};

static void fat_now(void *ctx, struct fat32_time *out)
{
    struct vfs_time t;

    (void)ctx;
    vfs_now(&t);
    out->year = t.year;
    out->month = t.month;
    out->day = t.day;
    out->hour = t.hour;
    out->minute = t.minute;
    out->second = t.second;
}

int vfs_fat32_mount(const char *path, struct blockdev *bd, const char *source, const char **why)
{
    struct fat32_mount_opts opts = {.now = fat_now};
    struct fat32_vol *vol;
    int err = fat32_mount(bd, &opts, &vol, why);

    if (err)
        return err;
    err = vfs_mount(path, &fat32_vfs_ops, vol, source);
    if (err) {
        fat32_unmount(vol);
        if (why)
            *why = "mount table full or mount point busy";
    }
    return err;
}
