/* devfs.c - /dev: a fixed, flat directory of character devices, each a name and a device number. */
#include "kernel/devfs.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/string.h"

/** One device node. */
struct devfs_node {
    const char *name;
    uint32_t rdev;
};

static const struct devfs_node devfs_nodes[] = {
    {"console", DEVFS_CONSOLE}, {"null", DEVFS_NULL},       {"random", DEVFS_RANDOM},
    {"tty", DEVFS_TTY},         {"urandom", DEVFS_URANDOM}, {"zero", DEVFS_ZERO},
};

#define DEVFS_NNODES (sizeof(devfs_nodes) / sizeof(devfs_nodes[0]))

/** An open directory: the index of the next entry. */
struct devfs_dir {
    unsigned int next;
};

/* The root is the one directory, so every path is "/" or "/<name>". */
static bool devfs_is_root(const char *path)
{
    return !strcmp(path, "/") || !*path;
}

static const struct devfs_node *devfs_find(const char *path)
{
    const char *name = path[0] == '/' ? path + 1 : path;

    for (size_t i = 0; i < DEVFS_NNODES; i++) {
        if (!strcmp(name, devfs_nodes[i].name))
            return &devfs_nodes[i];
    }
    return NULL;
}

static void devfs_fill(struct vfs_stat *out, const struct devfs_node *n)
{
    memset(out, 0, sizeof(*out));
    out->is_dir = !n;
    out->rdev = n ? n->rdev : 0;
    vfs_now(&out->mtime);
    out->ctime = out->mtime;
}

static int devfs_stat(void *fs, const char *path, struct vfs_stat *out)
{
    (void)fs;
    const struct devfs_node *n = devfs_find(path);

    if (!n && !devfs_is_root(path))
        return -ENOENT;
    devfs_fill(out, n);
    return 0;
}

static int devfs_open(void *fs, const char *path, void **node)
{
    (void)fs;
    const struct devfs_node *n = devfs_find(path);

    if (!n)
        return devfs_is_root(path) ? -EISDIR : -ENOENT;
    *node = (void *)n;
    return 0;
}

static int devfs_create(void *fs, const char *path, void **node)
{
    (void)fs;
    (void)path;
    (void)node;
    return -EACCES; /* the set of devices is fixed */
}

static int devfs_close(void *fs, void *node)
{
    (void)fs;
    (void)node;
    return 0;
}

/*
 * Through the VFS alone (the kernel's own readers) null is empty and zero all zeroes. The system
 * calls open every node as a descriptor of the device's own kind and never come here; random and
 * the terminals have no VFS contents.
 */
static long devfs_read(void *fs, void *node, uint64_t off, void *buf, size_t len)
{
    (void)fs;
    (void)off;
    const struct devfs_node *n = node;

    if (n->rdev == DEVFS_NULL)
        return 0;
    if (n->rdev != DEVFS_ZERO)
        return -ENXIO;
    memset(buf, 0, len);
    return (long)len;
}

static long devfs_write(void *fs, void *node, uint64_t off, const void *buf, size_t len)
{
    (void)fs;
    (void)off;
    (void)buf;
    const struct devfs_node *n = node;

    return n->rdev == DEVFS_NULL || n->rdev == DEVFS_ZERO ? (long)len : -ENXIO;
}

static int devfs_truncate(void *fs, void *node, uint64_t size)
{
    (void)fs;
    (void)node;
    (void)size;
    return 0; /* O_TRUNC on a device (`> /dev/null`) does nothing, as in Linux */
}

static int devfs_fstat(void *fs, void *node, struct vfs_stat *out)
{
    (void)fs;
    devfs_fill(out, node);
    return 0;
}

static int devfs_path_op(void *fs, const char *path)
{
    (void)fs;
    (void)path;
    return -EACCES; /* nothing under /dev is made or removed by name */
}

static int devfs_rename(void *fs, const char *from, const char *to)
{
    (void)fs;
    (void)from;
    (void)to;
    return -EACCES;
}

static int devfs_setattr(void *fs, const char *path, const struct vfs_setattr *attr)
{
    (void)attr;
    struct vfs_stat st;

    return devfs_stat(fs, path, &st); /* a device keeps no mode or time to change */
}

static int devfs_fsetattr(void *fs, void *node, const struct vfs_setattr *attr)
{
    (void)fs;
    (void)node;
    (void)attr;
    return 0;
}

static int devfs_opendir(void *fs, const char *path, void **dir)
{
    (void)fs;
    struct devfs_dir *d;

    if (!devfs_is_root(path))
        return devfs_find(path) ? -ENOTDIR : -ENOENT;
    d = kzalloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    *dir = d;
    return 0;
}

static int devfs_readdir(void *fs, void *dir, struct vfs_dirent *out)
{
    (void)fs;
    struct devfs_dir *d = dir;

    if (d->next >= DEVFS_NNODES)
        return 0;
    const struct devfs_node *n = &devfs_nodes[d->next++];
    devfs_fill(&out->st, n);
    strcpy(out->name, n->name);
    return 1;
}

static void devfs_closedir(void *fs, void *dir)
{
    (void)fs;
    kfree(dir);
}

static int devfs_statfs(void *fs, struct vfs_statfs *out)
{
    (void)fs;
    memset(out, 0, sizeof(*out));
    out->type = "devfs";
    out->block_size = 4096;
    return 0;
}

static int devfs_sync(void *fs)
{
    (void)fs;
    return 0;
}

static int devfs_unmount(void *fs)
{
    (void)fs;
    return 0;
}

static const struct vfs_fs_ops devfs_ops = {
    .type = "devfs",
    .stat = devfs_stat,
    .open = devfs_open,
    .create = devfs_create,
    .close = devfs_close,
    .read = devfs_read,
    .write = devfs_write,
    .truncate = devfs_truncate,
    .fstat = devfs_fstat,
    .mkdir = devfs_path_op,
    .unlink = devfs_path_op,
    .rmdir = devfs_path_op,
    .rename = devfs_rename,
    .setattr = devfs_setattr,
    .fsetattr = devfs_fsetattr,
    .opendir = devfs_opendir,
    .readdir = devfs_readdir,
    .closedir = devfs_closedir,
    .statfs = devfs_statfs,
    .sync = devfs_sync,
    .unmount = devfs_unmount,
};

int devfs_mount(void)
{
    return vfs_mount("/dev", &devfs_ops, NULL, "devfs");
}
