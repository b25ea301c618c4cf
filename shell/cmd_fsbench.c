/* cmd_fsbench.c - `fsbench`: file-system path lengths for `make bench` (counter time; =
 * instructions under icount). */
#include "block/bcache.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CHUNK (64 * 1024)

/*
 * Under QEMU's icount with sleep=off, time the CPUs spend idle (a thread sleeping on the disk,
 * the idle loop in WFI) is skipped ahead, not executed: it is not instructions. Each figure is
 * printed with the idle part so the bench can subtract it and count only what the CPUs ran.
 */
/* hint #42, a NOP: starts a window of the insnprof QEMU plugin at each end of a timed run. */
static inline void bench_mark(void)
{
    __asm__ volatile("hint #42");
}

static void bench_report(const char *what, uint64_t amount, const char *unit, uint64_t t0,
                         uint64_t w0)
{
    bench_mark();
    uint64_t ns = timer_ticks_to_ns(timer_counter() - t0);
    uint64_t idle = timer_ticks_to_ns(sched_idle_ticks() - w0);

    kprintf("fsbench: %s %lu %s in %lu ns, %lu ns idle\n", what, (unsigned long)amount, unit,
            (unsigned long)ns, (unsigned long)idle);
}

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return *s ? 0 : v;
}

static int sync_everything(void)
{
    int err = vfs_sync_all();

    return err ? err : bcache_sync_all();
}

/* Write size bytes to path (created or replaced), including the sync that puts them on disk. */
static int bench_write(const char *path, uint64_t size)
{
    char *buf = kmalloc(CHUNK);
    struct file *f;
    uint64_t done = 0, t0 = (bench_mark(), timer_counter()), w0 = sched_idle_ticks();
    int err = buf ? vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, &f) : -ENOMEM;

    if (err) {
        kfree(buf);
        return err;
    }
    for (int i = 0; i < CHUNK; i++)
        buf[i] = (char)(i * 31 + 7);
    while (!err && done < size) {
        size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        long w = vfs_write(f, buf, n);
        if (w != (long)n)
            err = w < 0 ? (int)w : -ENOSPC;
        done += n;
    }
    int cerr = vfs_close(f);
    if (!err)
        err = cerr ? cerr : sync_everything();
    if (!err)
        bench_report("write", size, "bytes", t0, w0);
    kfree(buf);
    return err;
}

static int bench_read(const char *path)
{
    char *buf = kmalloc(CHUNK);
    struct file *f;
    uint64_t total = 0, t0 = (bench_mark(), timer_counter()), w0 = sched_idle_ticks();
    long n;
    int err = buf ? vfs_open(path, O_RDONLY, &f) : -ENOMEM;

    if (err) {
        kfree(buf);
        return err;
    }
    while ((n = vfs_read(f, buf, CHUNK)) > 0)
        total += (uint64_t)n;
    vfs_close(f);
    kfree(buf);
    if (n < 0)
        return (int)n;
    bench_report("read", total, "bytes", t0, w0);
    return 0;
}

/* Create count empty files with long names in a new directory dir, then sync. */
static int bench_create(const char *dir, uint64_t count)
{
    char path[VFS_PATH_MAX];
    uint64_t t0 = (bench_mark(), timer_counter()), w0 = sched_idle_ticks();
    int err = vfs_mkdir(dir);

    for (uint64_t i = 0; !err && i < count; i++) {
        struct file *f;
        snprintf(path, sizeof(path), "%s/file number %05lu.txt", dir, (unsigned long)i);
        err = vfs_open(path, O_WRONLY | O_CREAT | O_EXCL, &f);
        if (!err)
            err = vfs_close(f);
    }
    if (!err)
        err = sync_everything();
    if (!err)
        bench_report("create", count, "files", t0, w0);
    return err;
}

static int cmd_fsbench(int argc, char **argv)
{
    int err = -EINVAL;

    if (argc == 4 && !strcmp(argv[1], "write") && parse_u64(argv[3]))
        err = bench_write(argv[2], parse_u64(argv[3]) << 20);
    else if (argc == 3 && !strcmp(argv[1], "read"))
        err = bench_read(argv[2]);
    else if (argc == 4 && !strcmp(argv[1], "create") && parse_u64(argv[3]))
        err = bench_create(argv[2], parse_u64(argv[3]));
    else {
        kprintf("usage: fsbench write <file> <MiB> | read <file> | create <dir> <count>\n");
        return err;
    }
    if (err)
        kprintf("fsbench: %s\n", errno_str(err));
    return err;
}
SHELL_COMMAND(fsbench, "fsbench", "write|read|create ...",
              "time file-system work (instructions under icount)", cmd_fsbench);
