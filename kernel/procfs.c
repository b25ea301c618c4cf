/* procfs.c - /proc: meminfo, uptime, loadavg, mounts, and per process stat, status, cmdline. */
#include "kernel/procfs.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/loadavg.h"
#include "kernel/page_alloc.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

#define PROCFS_FILE_MAX 4096
#define PROCFS_MAX_PIDS 256

/** An open file: its whole text, made at open (a snapshot, as Linux gives per read). */
struct procfs_file {
    size_t len;
    char data[PROCFS_FILE_MAX];
};

/** An open directory: the root (pid 0) or a process's; next entry to return. */
struct procfs_dir {
    int pid;
    unsigned int next;
    unsigned int npids;
    int pids[PROCFS_MAX_PIDS];
};

static const char *const procfs_root_files[] = {"meminfo", "uptime", "loadavg", "mounts", "self"};
static const char *const procfs_pid_files[] = {"stat", "status", "cmdline"};

/* "123" -> 123; "self" -> the caller's pid; else -1. */
static int procfs_pid(const char *s, size_t n)
{
    int pid = 0;

    if (n == 4 && !strncmp(s, "self", 4)) {
        struct proc *p = proc_current();
        return p ? p->pid : -1;
    }
    if (n == 0 || n > 6)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        pid = pid * 10 + (s[i] - '0');
    }
    return pid > 0 ? pid : -1;
}

/** What a path names: the root, a file of the root, a process directory or one of its files. */
struct procfs_path {
    int pid;          /* > 0: a process's directory or file */
    const char *file; /* NULL: a directory */
};

static int procfs_parse(const char *rel, struct procfs_path *out)
{
    const char *p = rel[0] == '/' ? rel + 1 : rel;
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    struct proc_info info;

    out->pid = 0;
    out->file = NULL;
    if (!*p)
        return 0;
    int pid = procfs_pid(p, n);
    if (pid < 0) {
        for (size_t i = 0; i < sizeof(procfs_root_files) / sizeof(procfs_root_files[0]); i++) {
            if (!slash && !strcmp(p, procfs_root_files[i])) {
                out->file = procfs_root_files[i];
                return 0;
            }
        }
        return -ENOENT;
    }
    if (proc_info_of(pid, &info))
        return -ENOENT;
    out->pid = pid;
    if (!slash || !slash[1])
        return 0;
    for (size_t i = 0; i < sizeof(procfs_pid_files) / sizeof(procfs_pid_files[0]); i++) {
        if (!strcmp(slash + 1, procfs_pid_files[i])) {
            out->file = procfs_pid_files[i];
            return 0;
        }
    }
    return -ENOENT;
}

/* Append to f, printf-style; what does not fit is cut. */
static void procfs_printf(struct procfs_file *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void procfs_printf(struct procfs_file *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(f->data + f->len, PROCFS_FILE_MAX - f->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->len += (size_t)n < PROCFS_FILE_MAX - f->len ? (size_t)n : PROCFS_FILE_MAX - 1 - f->len;
}

/* x.yy of a fixed-point load average. */
#define LOAD_INT(x)  ((x) >> LOADAVG_FSHIFT)
#define LOAD_FRAC(x) ((((x) & (LOADAVG_FIXED_1 - 1)) * 100) >> LOADAVG_FSHIFT)

static void procfs_gen_root(struct procfs_file *f, const char *name)
{
    if (!strcmp(name, "meminfo")) {
        struct page_stats ps;
        page_alloc_stats(&ps);
        uint64_t kib = PAGE_SIZE / 1024;
        procfs_printf(f,
                      "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
                      "Buffers:               0 kB\nCached:                0 kB\n"
                      "SwapTotal:             0 kB\nSwapFree:              0 kB\n",
                      (unsigned long)(ps.total_pages * kib), (unsigned long)(ps.free_pages * kib),
                      (unsigned long)(ps.free_pages * kib));
    } else if (!strcmp(name, "uptime")) {
        uint64_t up = time_now_ns() / 10000000ULL; /* hundredths */
        uint64_t idle = timer_ticks_to_ns(sched_idle_ticks()) / 10000000ULL;
        procfs_printf(f, "%lu.%02lu %lu.%02lu\n", (unsigned long)(up / 100),
                      (unsigned long)(up % 100), (unsigned long)(idle / 100),
                      (unsigned long)(idle % 100));
    } else if (!strcmp(name, "loadavg")) {
        unsigned long a[3];
        loadavg_get(a);
        procfs_printf(f, "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %d\n", LOAD_INT(a[0]),
                      LOAD_FRAC(a[0]), LOAD_INT(a[1]), LOAD_FRAC(a[1]), LOAD_INT(a[2]),
                      LOAD_FRAC(a[2]), sched_runnable(), thread_snapshot(NULL, 0), proc_last_pid());
    } else if (!strcmp(name, "mounts")) {
        char path[VFS_PATH_MAX];
        const char *type, *source;
        for (int i = 0; !vfs_mount_entry(i, path, sizeof(path), &type, &source); i++)
            procfs_printf(f, "%s %s %s rw 0 0\n", *source ? source : type, path, type);
    }
}

static char procfs_state(const struct proc_info *i)
{
    return i->state == PROC_ZOMBIE ? 'Z' : 'R';
}

static void procfs_gen_pid(struct procfs_file *f, int pid, const char *name)
{
    struct proc_info i;

    if (proc_info_of(pid, &i))
        return; /* gone since the lookup: an empty file */
    if (!strcmp(name, "stat")) {
        /* proc(5) order; what Avatar does not count is 0. vsize in bytes, rss in pages. */
        procfs_printf(f,
                      "%d (%s) %c %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 %d 0 %u 0 0 %lu %lu 0 0 0 0 0 0 "
                      "0 0 0 0 0 0 0 0 %u 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                      i.pid, i.name, procfs_state(&i), i.ppid, i.pgid, i.sid, i.prio, i.nthreads,
                      (unsigned long)(i.virtual_kib * 1024),
                      (unsigned long)(i.resident_kib / (PAGE_SIZE / 1024)), i.cpu);
    } else if (!strcmp(name, "status")) {
        procfs_printf(
            f,
            "Name:\t%s\nState:\t%c (%s)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t0\t0\t0\t0\n"
            "Gid:\t0\t0\t0\t0\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nThreads:\t%u\n",
            i.name, procfs_state(&i), i.state == PROC_ZOMBIE ? "zombie" : "running", i.pid, i.pid,
            i.ppid, (unsigned long)i.virtual_kib, (unsigned long)i.resident_kib, i.nthreads);
    } else {
        long n = proc_cmdline(pid, f->data, PROCFS_FILE_MAX);
        f->len = n > 0 ? (size_t)n : 0;
    }
}

static int procfs_stat(void *fs, const char *path, struct vfs_stat *out)
{
    (void)fs;
    struct procfs_path pp;
    int err = procfs_parse(path, &pp);

    if (err)
        return err;
    memset(out, 0, sizeof(*out));
    out->is_dir = !pp.file;
    out->read_only = true;
    vfs_now(&out->mtime);
    out->ctime = out->mtime;
    return 0;
}

static int procfs_open(void *fs, const char *path, void **node)
{
    (void)fs;
    struct procfs_path pp;
    int err = procfs_parse(path, &pp);

    if (err)
        return err;
    if (!pp.file)
        return -EISDIR;
    struct procfs_file *f = kzalloc(sizeof(*f));
    if (!f)
        return -ENOMEM;
    if (pp.pid)
        procfs_gen_pid(f, pp.pid, pp.file);
    else
        procfs_gen_root(f, pp.file);
    *node = f;
    return 0;
}

static int procfs_create(void *fs, const char *path, void **node)
{
    (void)fs;
    (void)path;
    (void)node;
    return -EACCES;
}

static int procfs_close(void *fs, void *node)
{
    (void)fs;
    kfree(node);
    return 0;
}

static long procfs_read(void *fs, void *node, uint64_t off, void *buf, size_t len)
{
    (void)fs;
    struct procfs_file *f = node;

    if (off >= f->len)
        return 0;
    size_t n = f->len - off < len ? f->len - (size_t)off : len;
    memcpy(buf, f->data + off, n);
    return (long)n;
}

static long procfs_write(void *fs, void *node, uint64_t off, const void *buf, size_t len)
{
    (void)fs;
    (void)node;
    (void)off;
    (void)buf;
    (void)len;
    return -EACCES;
}

static int procfs_truncate(void *fs, void *node, uint64_t size)
{
    (void)fs;
    (void)node;
    (void)size;
    return -EACCES;
}

static int procfs_fstat(void *fs, void *node, struct vfs_stat *out)
{
    (void)fs;
    memset(out, 0, sizeof(*out));
    out->size = ((struct procfs_file *)node)->len;
    out->read_only = true;
    vfs_now(&out->mtime);
    out->ctime = out->mtime;
    return 0;
}

static int procfs_path_op(void *fs, const char *path)
{
    (void)fs;
    (void)path;
    return -EACCES; /* nothing under /proc is made or removed by name */
}

static int procfs_rename(void *fs, const char *from, const char *to)
{
    (void)fs;
    (void)from;
    (void)to;
    return -EACCES;
}

static int procfs_opendir(void *fs, const char *path, void **dir)
{
    (void)fs;
    struct procfs_path pp;
    int err = procfs_parse(path, &pp);

    if (err)
        return err;
    if (pp.file)
        return -ENOTDIR;
    struct procfs_dir *d = kzalloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->pid = pp.pid;
    if (!pp.pid) {
        struct proc_info *info = kmalloc(PROCFS_MAX_PIDS * sizeof(*info));
        if (!info) {
            kfree(d);
            return -ENOMEM;
        }
        unsigned int n = proc_snapshot(info, PROCFS_MAX_PIDS);
        for (unsigned int i = 0; i < n && i < PROCFS_MAX_PIDS; i++)
            d->pids[d->npids++] = info[i].pid;
        kfree(info);
    }
    *dir = d;
    return 0;
}

static int procfs_readdir(void *fs, void *dir, struct vfs_dirent *out)
{
    (void)fs;
    struct procfs_dir *d = dir;
    const char *const *names = d->pid ? procfs_pid_files : procfs_root_files;
    unsigned int nnames = d->pid ? sizeof(procfs_pid_files) / sizeof(procfs_pid_files[0])
                                 : sizeof(procfs_root_files) / sizeof(procfs_root_files[0]);

    memset(out, 0, sizeof(*out));
    out->st.read_only = true;
    if (d->next < nnames) {
        strcpy(out->name, names[d->next]);
        out->st.is_dir = !d->pid && !strcmp(names[d->next], "self");
    } else if (d->next < nnames + d->npids) {
        snprintf(out->name, sizeof(out->name), "%d", d->pids[d->next - nnames]);
        out->st.is_dir = true;
    } else {
        return 0;
    }
    d->next++;
    return 1;
}

static void procfs_closedir(void *fs, void *dir)
{
    (void)fs;
    kfree(dir);
}

static int procfs_statfs(void *fs, struct vfs_statfs *out)
{
    (void)fs;
    memset(out, 0, sizeof(*out));
    out->type = "proc";
    out->block_size = PAGE_SIZE;
    return 0;
}

static int procfs_sync(void *fs)
{
    (void)fs;
    return 0;
}

static int procfs_unmount(void *fs)
{
    (void)fs;
    return 0;
}

static const struct vfs_fs_ops procfs_ops = {
    .type = "proc",
    .stat = procfs_stat,
    .open = procfs_open,
    .create = procfs_create,
    .close = procfs_close,
    .read = procfs_read,
    .write = procfs_write,
    .truncate = procfs_truncate,
    .fstat = procfs_fstat,
    .mkdir = procfs_path_op,
    .unlink = procfs_path_op,
    .rmdir = procfs_path_op,
    .rename = procfs_rename,
    .opendir = procfs_opendir,
    .readdir = procfs_readdir,
    .closedir = procfs_closedir,
    .statfs = procfs_statfs,
    .sync = procfs_sync,
    .unmount = procfs_unmount,
};

int procfs_mount(void)
{
    return vfs_mount("/proc", &procfs_ops, NULL, "proc");
}
