/* cmd_fs.c - the `fs` shell command group and `sync`: files on the mounted volumes. */
#include "block/bcache.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/errno.h"
#include "lib/string.h"

#define COPY_CHUNK 4096

static int fs_fail(const char *op, const char *path, int err)
{
    kprintf("fs %s %s: %s", op, path, errno_str(err));
    if (err == -EUCLEAN)
        kprintf(" (%s)", vfs_error(path));
    kprintf("\n");
    return err;
}

static int fs_ls(const char *path)
{
    struct vfs_dirent *e = kmalloc(sizeof(*e));
    struct vfs_stat st;
    struct file *f;
    int err, n = 0;

    if (!e)
        return fs_fail("ls", path, -ENOMEM);
    err = vfs_stat(path, &st);
    if (!err && !st.is_dir) {
        kprintf("- %10lu  %s\n", (unsigned long)st.size, path);
        kfree(e);
        return 0;
    }
    if (!err)
        err = vfs_open(path, O_RDONLY | O_DIRECTORY, &f);
    if (err) {
        kfree(e);
        return fs_fail("ls", path, err);
    }
    while ((err = vfs_readdir(f, e)) == 1) {
        const struct vfs_time *t = &e->st.mtime;
        kprintf("%c %10lu  %04u-%02u-%02u %02u:%02u  %s%s\n", e->st.is_dir ? 'd' : '-',
                (unsigned long)e->st.size, t->year, t->month, t->day, t->hour, t->minute, e->name,
                e->st.is_dir ? "/" : "");
        n++;
    }
    vfs_close(f);
    kfree(e);
    if (err < 0)
        return fs_fail("ls", path, err);
    kprintf("%d entries\n", n);
    return 0;
}

static int fs_cat(const char *path)
{
    char *buf = kmalloc(COPY_CHUNK);
    struct file *f;
    long n;
    int err = buf ? vfs_open(path, O_RDONLY, &f) : -ENOMEM;

    if (err) {
        kfree(buf);
        return fs_fail("cat", path, err);
    }
    bool newline = true;
    while ((n = vfs_read(f, buf, COPY_CHUNK)) > 0) {
        console_write(buf, (size_t)n);
        newline = buf[n - 1] == '\n';
    }
    if (!newline)
        console_write("\n", 1);
    vfs_close(f);
    kfree(buf);
    return n < 0 ? fs_fail("cat", path, (int)n) : 0;
}

static int fs_info(void)
{
    struct vfs_statfs sf;
    const char *source;
    int err = vfs_statfs("/", &sf, &source);

    if (err)
        return fs_fail("info", "/", err);
    kprintf("/: %s on %s, %lu-byte clusters, %lu clusters, %lu free (%lu KiB free of %lu KiB)\n",
            sf.type, source, (unsigned long)sf.block_size, (unsigned long)sf.total_blocks,
            (unsigned long)sf.free_blocks, (unsigned long)(sf.free_blocks * sf.block_size >> 10),
            (unsigned long)(sf.total_blocks * sf.block_size >> 10));
    for (int i = 0; bcache_get(i); i++) {
        struct bcache_stats bs;
        bcache_get_stats(bcache_get(i), &bs);
        kprintf("cache %s: %u/%u blocks used, %u dirty, %lu hits, %lu misses, %lu writebacks\n",
                bcache_name(bcache_get(i)), bs.used, bs.nblocks, bs.dirty, (unsigned long)bs.hits,
                (unsigned long)bs.misses, (unsigned long)bs.writebacks);
    }
    return 0;
}

/* fs write <path> <text...>: the words joined by single spaces, plus a newline. */
static int fs_write(const char *path, int nwords, char **words)
{
    struct file *f;
    int err = vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, &f);

    if (err)
        return fs_fail("write", path, err);
    for (int i = 0; i < nwords && !err; i++) {
        size_t len = strlen(words[i]);
        long n = vfs_write(f, words[i], len);
        if (n >= 0 && (size_t)n == len)
            n = vfs_write(f, i + 1 < nwords ? " " : "\n", 1);
        if (n < 0)
            err = (int)n;
    }
    int cerr = vfs_close(f);
    if (!err)
        err = cerr;
    return err ? fs_fail("write", path, err) : 0;
}

static int fs_cp(const char *from, const char *to)
{
    struct file *in, *out;
    char *buf = kmalloc(COPY_CHUNK);
    long n;
    int err = buf ? vfs_open(from, O_RDONLY, &in) : -ENOMEM;

    if (err) {
        kfree(buf);
        return fs_fail("cp", from, err);
    }
    err = vfs_open(to, O_WRONLY | O_CREAT | O_TRUNC, &out);
    if (err) {
        vfs_close(in);
        kfree(buf);
        return fs_fail("cp", to, err);
    }
    while ((n = vfs_read(in, buf, COPY_CHUNK)) > 0) {
        long w = vfs_write(out, buf, (size_t)n);
        if (w != n) {
            n = w < 0 ? w : -ENOSPC;
            break;
        }
    }
    vfs_close(in);
    err = vfs_close(out);
    kfree(buf);
    if (n < 0)
        return fs_fail("cp", to, (int)n);
    return err ? fs_fail("cp", to, err) : 0;
}

static int fs_rm(const char *path)
{
    struct vfs_stat st;
    int err = vfs_stat(path, &st);

    if (!err)
        err = st.is_dir ? vfs_rmdir(path) : vfs_unlink(path);
    return err ? fs_fail("rm", path, err) : 0;
}

static int fs_usage(void)
{
    kprintf("usage: fs ls [path] | cat <file> | info | mkdir <path> | rm <path> |\n"
            "          write <path> <text> | cp <from> <to> | mv <from> <to>\n");
    return -EINVAL;
}

static int cmd_fs(int argc, char **argv)
{
    if (argc < 2)
        return fs_usage();
    const char *op = argv[1];
    if (!strcmp(op, "ls") && argc <= 3)
        return fs_ls(argc == 3 ? argv[2] : "/");
    if (!strcmp(op, "info") && argc == 2)
        return fs_info();
    if (!strcmp(op, "cat") && argc == 3)
        return fs_cat(argv[2]);
    if (!strcmp(op, "mkdir") && argc == 3) {
        int err = vfs_mkdir(argv[2]);
        return err ? fs_fail("mkdir", argv[2], err) : 0;
    }
    if (!strcmp(op, "rm") && argc == 3)
        return fs_rm(argv[2]);
    if (!strcmp(op, "write") && argc >= 4)
        return fs_write(argv[2], argc - 3, argv + 3);
    if (!strcmp(op, "cp") && argc == 4)
        return fs_cp(argv[2], argv[3]);
    if (!strcmp(op, "mv") && argc == 4) {
        int err = vfs_rename(argv[2], argv[3]);
        return err ? fs_fail("mv", argv[2], err) : 0;
    }
    return fs_usage();
}
SHELL_COMMAND(fs, "fs", "ls|cat|info|mkdir|rm|write|cp|mv ...", "files on host.img (FAT32)",
              cmd_fs);

static int cmd_sync(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int err = vfs_sync_all();
    int err2 = bcache_sync_all();

    if (err || err2) {
        kprintf("sync: %s\n", errno_str(err ? err : err2));
        return err ? err : err2;
    }
    kprintf("sync: done\n");
    return 0;
}
SHELL_COMMAND(sync, "sync", "", "write every cached block to disk", cmd_sync);
