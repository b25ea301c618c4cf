/* systest.c - every system call Avatar implements, with good and bad arguments. Bad pointers
 * must give -EFAULT, unknown calls -ENOSYS, and nothing a program passes may hurt the kernel.
 * The file checks need the FAT32 disk (host.img); without one they are reported as skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avtest.h"

#define KERNEL_ADDR 0xffffff8000000000L /* the kernel's linear map: never a user address */
#define UNMAPPED    0x1000L             /* below every mapping */
#define TDIR        "/systest.dir"
#define FILE_A      TDIR "/a.txt"

static long sc(long nr, long a0, long a1, long a2, long a3)
{
    return raw_syscall(nr, a0, a1, a2, a3, 0, 0);
}

/* Run fn in a child; returns its wait status. */
static int in_child(void (*fn)(void))
{
    int status = -1;
    pid_t pid = fork();

    if (pid == 0) {
        fn();
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return status;
}

static void test_console(void)
{
    const char msg[] = "systest: console write\n";
    struct winsize ws;
    struct iovec iov[2] = {{(void *)"systest: ", 9}, {(void *)"writev\n", 7}};

    CHECK_RET(sc(SYS_write, 1, (long)msg, sizeof(msg) - 1, 0), (long)sizeof(msg) - 1,
              "write-console");
    CHECK_RET(sc(SYS_write, 1, (long)msg, 0, 0), 0, "write-zero-bytes");
    CHECK_RET(sc(SYS_write, 1, 0, 5, 0), -EFAULT, "write-null-efault");
    CHECK_RET(sc(SYS_write, 1, KERNEL_ADDR, 5, 0), -EFAULT, "write-kernel-pointer-efault");
    CHECK_RET(sc(SYS_write, 1, (long)msg, -1L, 0), -EFAULT, "write-huge-length-efault");
    CHECK_RET(sc(SYS_write, 99, (long)msg, 1, 0), -EBADF, "write-bad-fd-ebadf");
    CHECK_RET(sc(SYS_write, -1, (long)msg, 1, 0), -EBADF, "write-negative-fd-ebadf");
    CHECK_RET(sc(SYS_writev, 1, (long)iov, 2, 0), 16, "writev-console");
    CHECK_RET(sc(SYS_writev, 1, UNMAPPED, 2, 0), -EFAULT, "writev-bad-iov-efault");
    CHECK_RET(sc(SYS_read, 0, KERNEL_ADDR, 5, 0), -EFAULT, "read-kernel-pointer-efault");
    CHECK_RET(sc(SYS_read, 42, (long)&ws, 1, 0), -EBADF, "read-bad-fd-ebadf");
    /* glibc registers rseq at start and carries on without it on -ENOSYS. */
    CHECK_RET(sc(SYS_rseq, 0, 32, 0, 0x53053053), -ENOSYS, "rseq-enosys");
    CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col == 80 && ws.ws_row == 24,
          "ioctl-tiocgwinsz-console");
    CHECK_RET(sc(SYS_ioctl, 1, TIOCGWINSZ, KERNEL_ADDR, 0), -EFAULT, "ioctl-efault");
    CHECK_RET(sc(SYS_ioctl, 1, 0x1234, 0, 0), -ENOTTY, "ioctl-unknown-enotty");
    CHECK_RET(sc(SYS_lseek, 1, 0, SEEK_SET, 0), -ESPIPE, "lseek-console-espipe");
    CHECK(isatty(1) && isatty(0), "isatty-console");
    /* A terminal cannot be fsynced (Linux: EINVAL); syncfs of its file system has nothing to do. */
    CHECK_RET(sc(SYS_fsync, 1, 0, 0, 0), -EINVAL, "fsync-console-einval");
    CHECK_RET(sc(SYS_fdatasync, 0, 0, 0, 0), -EINVAL, "fdatasync-console-einval");
    CHECK_RET(sc(SYS_syncfs, 2, 0, 0, 0), 0, "syncfs-console");
    CHECK_RET(sc(SYS_fsync, 99, 0, 0, 0), -EBADF, "fsync-bad-fd-ebadf");
    CHECK_RET(sc(SYS_fdatasync, -1, 0, 0, 0), -EBADF, "fdatasync-negative-fd-ebadf");
    CHECK_RET(sc(SYS_syncfs, 77, 0, 0, 0), -EBADF, "syncfs-bad-fd-ebadf");
    CHECK_RET(sc(SYS_sync, 0, 0, 0, 0), 0, "sync");
}

static void test_ids(void)
{
    struct utsname u;
    pid_t me = getpid();

    CHECK(me > 0 && getpid() == me, "getpid");
    CHECK(gettid() == me, "gettid-main-thread-is-pid");
    CHECK(getppid() == 0, "getppid-started-by-kernel");
    CHECK_RET(sc(SYS_set_tid_address, 0, 0, 0, 0), me, "set-tid-address");
    CHECK(uname(&u) == 0 && !strcmp(u.sysname, "Avatar") && !strcmp(u.machine, "aarch64"), "uname");
    CHECK_RET(sc(SYS_uname, KERNEL_ADDR, 0, 0, 0), -EFAULT, "uname-efault");
    CHECK(getuid() == 0 && geteuid() == 0 && getgid() == 0, "getuid-root");
    CHECK_RET(sc(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 8), 0, "rt-sigprocmask");
    CHECK_RET(sc(SYS_rt_sigprocmask, SIG_BLOCK, KERNEL_ADDR, 0, 8), -EFAULT,
              "rt-sigprocmask-efault");
    CHECK_RET(sc(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 3), -EINVAL, "rt-sigprocmask-size-einval");
    CHECK_RET(sc(SYS_sched_yield, 0, 0, 0, 0), 0, "sched-yield");
    CHECK_RET(sc(1000, 0, 0, 0, 0), -ENOSYS, "unknown-syscall-1000-enosys");
    CHECK_RET(sc(280 /* bpf */, 0, 0, 0, 0), -ENOSYS, "unimplemented-bpf-enosys");
    CHECK_RET(sc(-1, 0, 0, 0, 0), -ENOSYS, "negative-syscall-enosys");
    unsigned char rnd[32] = {0};
    CHECK(sc(SYS_getrandom, (long)rnd, sizeof(rnd), 0, 0) == sizeof(rnd), "getrandom");
    CHECK_RET(sc(SYS_getrandom, KERNEL_ADDR, 8, 0, 0), -EFAULT, "getrandom-efault");
    unsigned int cpu = 99;
    CHECK(sc(SYS_getcpu, (long)&cpu, 0, 0, 0) == 0 && (int)cpu < ncpus(), "getcpu");
}

static void exit_7(void)
{
    raw_syscall(SYS_exit, 7, 0, 0, 0, 0, 0);
}

static void exit_group_9(void)
{
    raw_syscall(SYS_exit_group, 9, 0, 0, 0, 0, 0);
}

static void getppid_child(void)
{
    _exit(getppid() > 0 ? 0 : 1);
}

static void *thread_gettid(void *arg)
{
    (void)arg;
    return (void *)(long)gettid();
}

static void test_processes(void)
{
    pthread_t t;
    void *tid = 0;

    int st = in_child(exit_7);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "exit-status");
    st = in_child(exit_group_9);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9, "exit-group-status");
    st = in_child(getppid_child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "getppid-of-child");
    CHECK(pthread_create(&t, NULL, thread_gettid, NULL) == 0 && pthread_join(t, &tid) == 0 &&
              (long)tid > 0 && (long)tid != getpid(),
          "clone-thread-own-tid");
    /* CLONE_THREAD without CLONE_VM and a signal-handler share without memory: refused. */
    CHECK_RET(sc(SYS_clone, 0x10000 | 0x800, 0, 0, 0), -EINVAL, "clone-thread-without-vm-einval");
    CHECK_RET(sc(SYS_clone, 0x800, 0, 0, 0), -EINVAL, "clone-sighand-without-vm-einval");
    CHECK_RET(sc(SYS_clone, 17, 12345, 0, 0), -EINVAL, "clone-misaligned-stack-einval");
    CHECK_RET(sc(SYS_clone, 1L << 40, 0, 0, 0), -EINVAL, "clone-unknown-flag-einval");
    CHECK_RET(sc(SYS_wait4, -1, 0, 0, 0), -ECHILD, "wait4-echild");
    CHECK_RET(sc(SYS_execve, KERNEL_ADDR, 0, 0, 0), -EFAULT, "execve-efault");
    CHECK_RET(sc(SYS_kill, 30000, 0, 0, 0), -ESRCH, "kill-no-process-esrch");
    CHECK_RET(sc(SYS_kill, getpid(), 0, 0, 0), 0, "kill-signal-0-probe");
    CHECK_RET(sc(SYS_kill, getpid(), 99, 0, 0), -EINVAL, "kill-bad-signal-einval");
}

static void touch_unmapped(void)
{
    *(volatile int *)UNMAPPED = 1;
}

static char *ro_page;

static void write_readonly(void)
{
    ro_page[0] = 1;
}

static void test_memory(void)
{
    long brk0 = sc(SYS_brk, 0, 0, 0, 0);
    long brk1 = sc(SYS_brk, brk0 + (1 << 20), 0, 0, 0);

    CHECK(brk0 > 0 && brk1 == brk0 + (1 << 20), "brk-grow");
    if (brk1 == brk0 + (1 << 20)) {
        memset((void *)brk0, 0x5a, 1 << 20);
        CHECK(((char *)brk0)[(1 << 20) - 1] == 0x5a, "brk-memory-usable");
    }
    CHECK(sc(SYS_brk, brk0, 0, 0, 0) == brk0, "brk-shrink");
    CHECK(sc(SYS_brk, 4096, 0, 0, 0) == brk0, "brk-below-start-refused");
    CHECK(sc(SYS_brk, KERNEL_ADDR, 0, 0, 0) == brk0, "brk-kernel-address-refused");

    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED && p[0] == 0 && p[3 * 4096 - 1] == 0, "mmap-anonymous-zeroed");
    p[4096] = 'x';
    CHECK(munmap(p + 4096, 4096) == 0, "munmap-middle-page");
    CHECK_RET(sc(SYS_write, 1, (long)(p + 4096), 1, 0), -EFAULT, "write-from-unmapped-efault");
    CHECK(p[0] == 0 && (p[2 * 4096] = 'y') == 'y', "mmap-neighbours-survive");
    CHECK(munmap(p, 3 * 4096) == 0, "munmap-range-with-hole");
    CHECK_RET(raw_syscall(SYS_mmap, 0, 4096, 3, MAP_PRIVATE, 3, 0), -ENODEV, "mmap-file-enodev");
    CHECK_RET(raw_syscall(SYS_mmap, 0, 4096, 3, MAP_SHARED | MAP_ANONYMOUS, -1, 0), -EINVAL,
              "mmap-shared-einval");
    CHECK_RET(raw_syscall(SYS_mmap, 0, 0, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL,
              "mmap-zero-length-einval");
    CHECK_RET(raw_syscall(SYS_mmap, 0, 4096, 0x80, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL,
              "mmap-bad-prot-einval");
    CHECK_RET(
        raw_syscall(SYS_mmap, KERNEL_ADDR, 4096, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
        -EINVAL, "mmap-fixed-kernel-address-einval");
    long fixed = 0x50000000;
    CHECK_RET(raw_syscall(SYS_mmap, fixed, 8192, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              fixed, "mmap-fixed");
    CHECK_RET(raw_syscall(SYS_mmap, fixed, 4096, 3, MAP_PRIVATE | MAP_ANONYMOUS | 0x100000, -1, 0),
              -EEXIST, "mmap-fixed-noreplace-eexist");
    CHECK_RET(sc(SYS_munmap, fixed + 1, 4096, 0, 0), -EINVAL, "munmap-unaligned-einval");
    CHECK_RET(sc(SYS_munmap, fixed, 8192, 0, 0), 0, "munmap-fixed");

    ro_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mprotect(ro_page, 4096, PROT_READ) == 0, "mprotect-read-only");
    int st = in_child(write_readonly);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "mprotect-write-segv");
    CHECK(mprotect(ro_page, 4096, PROT_READ | PROT_WRITE) == 0 && (ro_page[0] = 3) == 3,
          "mprotect-back-to-writable");
    CHECK_RET(sc(SYS_mprotect, UNMAPPED, 4096, PROT_READ, 0), -ENOMEM, "mprotect-unmapped-enomem");
    CHECK_RET(sc(SYS_madvise, (long)ro_page, 4096, 4 /* MADV_DONTNEED */, 0), 0,
              "madvise-dontneed");
    CHECK(ro_page[0] == 0, "madvise-dontneed-zeroes");
    /* Alternate permissions page by page: the region count hits its limit with ENOMEM. */
    char *m = mmap(NULL, 1200 * 4096UL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int i, err = 0;
    for (i = 0; i < 600 && !err; i++)
        err = mprotect(m + 2 * i * 4096UL, 4096, PROT_READ) ? errno : 0;
    test_check(err == ENOMEM && i > 100, "mprotect-region-limit-enomem", "%d regions, then %s",
               2 * i, strerror(err));
    CHECK(munmap(m, 1200 * 4096UL) == 0, "munmap-many-regions");
    st = in_child(touch_unmapped);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "unmapped-access-segv");
}

static void test_futex(void)
{
    static int word = 5;
    struct timespec ts = {0, 2000000};

    CHECK_RET(raw_syscall(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 4, 0, 0, 0), -EAGAIN,
              "futex-wait-value-changed-eagain");
    uint64_t t0 = now_ns();
    CHECK_RET(raw_syscall(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 5, (long)&ts, 0, 0),
              -ETIMEDOUT, "futex-wait-timeout");
    CHECK(now_ns() - t0 >= 2000000, "futex-wait-timeout-waited");
    CHECK_RET(raw_syscall(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0), 0,
              "futex-wake-nobody");
    CHECK_RET(raw_syscall(SYS_futex, UNMAPPED, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0), -EFAULT,
              "futex-unmapped-efault");
    CHECK_RET(raw_syscall(SYS_futex, KERNEL_ADDR, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0), -EINVAL,
              "futex-kernel-address-einval");
    CHECK_RET(raw_syscall(SYS_futex, (long)&word + 1, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0), -EINVAL,
              "futex-misaligned-einval");
    CHECK_RET(raw_syscall(SYS_futex, (long)&word, 77, 0, 0, 0, 0), -ENOSYS,
              "futex-unknown-op-enosys");
    CHECK_RET(raw_syscall(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 5, KERNEL_ADDR, 0, 0),
              -EFAULT, "futex-bad-timeout-efault");
}

static void test_scheduling(void)
{
    cpu_set_t set;

    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == ncpus(),
          "sched-getaffinity");
    CHECK(pin_to_cpu(0) == 0 && current_cpu() == 0, "sched-setaffinity-cpu0");
    CPU_ZERO(&set);
    for (int i = 0; i < ncpus(); i++)
        CPU_SET(i, &set);
    CHECK(sched_setaffinity(0, sizeof(set), &set) == 0, "sched-setaffinity-all");
    CPU_ZERO(&set);
    CPU_SET(40, &set);
    CHECK(sched_setaffinity(0, sizeof(set), &set) == -1 && errno == EINVAL,
          "sched-setaffinity-no-cpu-einval");
    CHECK_RET(sc(SYS_sched_setaffinity, 0, 8, KERNEL_ADDR, 0), -EFAULT, "sched-setaffinity-efault");
    CHECK_RET(sc(SYS_sched_getaffinity, 0, 3, (long)&set, 0), -EINVAL,
              "sched-getaffinity-small-einval");
    CHECK_RET(sc(SYS_setpriority, 0, 0, 5, 0), 0, "setpriority-nice-5");
    CHECK_RET(sc(SYS_getpriority, 0, 0, 0, 0), 15, "getpriority-raw-15");
    CHECK_RET(sc(SYS_setpriority, 0, 0, 0, 0), 0, "setpriority-nice-0");
    CHECK_RET(sc(SYS_setpriority, 9, 0, 0, 0), -EINVAL, "setpriority-bad-which-einval");
}

static int dir_has(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        found += !strcmp(e->d_name, name);
    closedir(d);
    return found;
}

/*
 * sendfile: file to file with an offset (which moves, the file position does not), file to a
 * pipe from the position (which moves), and its errors: closed descriptors, a pipe as input, a
 * bad offset pointer, a read-only output.
 */
static void check_sendfile(void)
{
    static const char text[] = "0123456789abcdef";
    int src = open(TDIR "/s.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int dst = open(TDIR "/d.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int p[2];
    char buf[32] = {0};
    long off = 4;

    CHECK(src >= 0 && dst >= 0 && pipe(p) == 0, "sendfile-setup");
    CHECK(write(src, text, 16) == 16 && lseek(src, 2, SEEK_SET) == 2, "sendfile-source");
    CHECK_RET(sc(SYS_sendfile, dst, src, (long)&off, 6), 6, "sendfile-offset");
    CHECK(off == 10 && lseek(src, 0, SEEK_CUR) == 2, "sendfile-offset-moves-not-position");
    CHECK(pread(dst, buf, sizeof(buf), 0) == 6 && !memcmp(buf, "456789", 6), "sendfile-copied");
    CHECK_RET(sc(SYS_sendfile, p[1], src, 0, 100), 14, "sendfile-to-pipe");
    CHECK(lseek(src, 0, SEEK_CUR) == 16, "sendfile-moves-position");
    CHECK(read(p[0], buf, sizeof(buf)) == 14 && !memcmp(buf, text + 2, 14), "sendfile-pipe-data");
    CHECK_RET(sc(SYS_sendfile, dst, src, 0, 8), 0, "sendfile-at-end");
    CHECK_RET(sc(SYS_sendfile, 77, src, 0, 8), -EBADF, "sendfile-closed-out-ebadf");
    CHECK_RET(sc(SYS_sendfile, dst, 77, 0, 8), -EBADF, "sendfile-closed-in-ebadf");
    CHECK_RET(sc(SYS_sendfile, dst, p[0], 0, 8), -EINVAL, "sendfile-pipe-in-einval");
    CHECK_RET(sc(SYS_sendfile, dst, src, KERNEL_ADDR, 8), -EFAULT, "sendfile-offset-efault");
    CHECK_RET(sc(SYS_sendfile, dst, src, UNMAPPED, 8), -EFAULT, "sendfile-offset-unmapped-efault");
    off = -1;
    CHECK_RET(sc(SYS_sendfile, dst, src, (long)&off, 8), -EINVAL, "sendfile-negative-offset");
    int ro = open(TDIR "/s.txt", O_RDONLY);
    off = 0;
    CHECK_RET(sc(SYS_sendfile, ro, src, (long)&off, 8), -EBADF, "sendfile-read-only-out-ebadf");
    close(ro);
    close(p[0]);
    close(p[1]);
    close(src);
    close(dst);
    unlink(TDIR "/s.txt");
    unlink(TDIR "/d.txt");
}

/*
 * A read from a file (served from the page cache straight into user memory) into a buffer whose
 * second page is unmapped: it stops at the hole with the bytes before it, or -EFAULT, and never
 * claims more than it copied.
 */
static void check_read_into_hole(void)
{
    static char pat[8192];
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fb = open(TDIR "/c.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);

    for (size_t i = 0; i < sizeof(pat); i++)
        pat[i] = (char)(i * 7 + 1);
    CHECK(two != MAP_FAILED && munmap(two + 4096, 4096) == 0, "mmap-then-hole");
    CHECK(fb >= 0 && write(fb, pat, sizeof(pat)) == (long)sizeof(pat), "write-8k");
    lseek(fb, 0, SEEK_SET);
    long got = read(fb, two + 2048, sizeof(pat));
    int err = errno;
    long pos = lseek(fb, 0, SEEK_CUR);
    test_check((got == -1 && err == EFAULT && pos == 0) ||
                   (got > 0 && got <= 2048 && !memcmp(two + 2048, pat, (size_t)got) && pos == got),
               "read-file-partial-buffer", "read returned %ld (errno %d), offset %ld", got, err,
               pos);
    close(fb);
    unlink(TDIR "/c.bin");
    munmap(two, 4096);
}

static void test_files(void)
{
    char buf[64], cwd[128];
    struct stat st;
    char longpath[1100];

    if (access("/", F_OK)) {
        printf("SKIP files: no file system mounted\n");
        return;
    }
    /* Leftovers of an earlier run. */
    unlink(FILE_A);
    unlink(TDIR "/b.txt");
    rmdir(TDIR "/sub");
    rmdir(TDIR);

    CHECK(mkdir(TDIR, 0755) == 0, "mkdirat");
    CHECK(mkdir(TDIR, 0755) == -1 && errno == EEXIST, "mkdirat-exists-eexist");
    CHECK_RET(sc(SYS_mkdirat, AT_FDCWD, KERNEL_ADDR, 0755, 0), -EFAULT, "mkdirat-efault");
    int fd = open(FILE_A, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 3, "openat-create");
    CHECK(write(fd, "hello, disk\n", 12) == 12, "write-file");
    CHECK(lseek(fd, 0, SEEK_CUR) == 12, "lseek-cur");
    CHECK(lseek(fd, 7, SEEK_SET) == 7, "lseek-set");
    memset(buf, 0, sizeof(buf));
    CHECK(read(fd, buf, sizeof(buf)) == 5 && !strcmp(buf, "disk\n"), "read-file");
    CHECK(read(fd, buf, sizeof(buf)) == 0, "read-at-end");
    CHECK(lseek(fd, -2, SEEK_END) == 10, "lseek-end");
    CHECK_RET(sc(SYS_lseek, fd, 0, 17, 0), -EINVAL, "lseek-bad-whence-einval");
    CHECK_RET(sc(SYS_lseek, 77, 0, SEEK_SET, 0), -EBADF, "lseek-bad-fd-ebadf");
    CHECK_RET(sc(SYS_read, fd, KERNEL_ADDR, 4, 0), -EFAULT, "read-file-efault");
    lseek(fd, 0, SEEK_SET);
    CHECK_RET(sc(SYS_read, fd, UNMAPPED, 4, 0), -EFAULT, "read-file-unmapped-efault");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "read-efault-keeps-offset");
    check_read_into_hole();
    check_sendfile();
    CHECK(pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5), "pread64");
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 12, "fstat-file");
    CHECK_RET(sc(SYS_fstat, fd, KERNEL_ADDR, 0, 0), -EFAULT, "fstat-efault");
    int fd2 = dup(fd);
    CHECK(fd2 > fd && lseek(fd2, 0, SEEK_CUR) == lseek(fd, 0, SEEK_CUR), "dup-shares-offset");
    CHECK(dup3(fd, 20, O_CLOEXEC) == 20 && fcntl(20, F_GETFD) == FD_CLOEXEC, "dup3-cloexec");
    CHECK_RET(sc(SYS_dup3, fd, fd, 0, 0), -EINVAL, "dup3-same-fd-einval");
    CHECK(fcntl(fd, F_DUPFD, 30) == 30, "fcntl-dupfd");
    CHECK(close(30) == 0 && close(20) == 0 && close(fd2) == 0, "close-dups");
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate");
    CHECK_RET(sc(SYS_fsync, fd, 0, 0, 0), 0, "fsync-file");
    CHECK_RET(sc(SYS_fdatasync, fd, 0, 0, 0), 0, "fdatasync-file");
    CHECK_RET(sc(SYS_syncfs, fd, 0, 0, 0), 0, "syncfs-file");
    CHECK(pread(fd, buf, 6, 0) == 5 && !memcmp(buf, "hello", 5), "read-after-fsync");
    CHECK_RET(sc(SYS_ioctl, fd, TIOCGWINSZ, (long)buf, 0), -ENOTTY, "ioctl-file-enotty");
    CHECK(close(fd) == 0, "close");
    CHECK(close(fd) == -1 && errno == EBADF, "close-twice-ebadf");
    CHECK_RET(sc(SYS_close, -1, 0, 0, 0), -EBADF, "close-negative-ebadf");

    CHECK(open(FILE_A, O_CREAT | O_EXCL | O_RDWR, 0644) == -1 && errno == EEXIST,
          "openat-excl-eexist");
    CHECK(open(TDIR "/missing", O_RDONLY) == -1 && errno == ENOENT, "openat-missing-enoent");
    CHECK_RET(sc(SYS_openat, AT_FDCWD, KERNEL_ADDR, O_RDONLY, 0), -EFAULT, "openat-efault");
    CHECK_RET(sc(SYS_openat, AT_FDCWD, UNMAPPED, O_RDONLY, 0), -EFAULT, "openat-unmapped-efault");
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    CHECK_RET(sc(SYS_openat, AT_FDCWD, (long)longpath, O_RDONLY, 0), -ENAMETOOLONG,
              "openat-enametoolong");
    CHECK_RET(sc(SYS_openat, 55, (long)"rel", O_RDONLY, 0), -EBADF, "openat-bad-dirfd-ebadf");
    fd = open(FILE_A, O_WRONLY);
    CHECK(fd >= 0 && read(fd, buf, 1) == -1 && errno == EBADF, "read-write-only-ebadf");
    close(fd);
    fd = open(FILE_A, O_RDONLY);
    CHECK(fd >= 0 && write(fd, buf, 1) == -1 && errno == EBADF, "write-read-only-ebadf");
    close(fd);

    CHECK(dir_has(TDIR, "a.txt") == 1, "getdents64-finds-file");
    fd = open(TDIR, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "openat-directory");
    CHECK(read(fd, buf, 4) == -1 && errno == EISDIR, "read-directory-eisdir");
    CHECK_RET(sc(SYS_fsync, fd, 0, 0, 0), 0, "fsync-directory");
    CHECK_RET(sc(SYS_getdents64, fd, KERNEL_ADDR, 4096, 0), -EFAULT, "getdents64-efault");
    CHECK_RET(sc(SYS_getdents64, fd, (long)buf, sizeof(buf), 0), -EINVAL,
              "getdents64-small-buffer-einval");
    close(fd);
    fd = open(FILE_A, O_RDONLY);
    CHECK_RET(sc(SYS_getdents64, fd, (long)buf, 4096, 0), -ENOTDIR, "getdents64-file-enotdir");
    close(fd);

    CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"), "getcwd");
    CHECK(chdir(TDIR) == 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, TDIR), "chdir");
    CHECK(stat("a.txt", &st) == 0 && st.st_size == 5, "newfstatat-relative");
    CHECK(chdir("a.txt") == -1 && errno == ENOTDIR, "chdir-file-enotdir");
    CHECK_RET(sc(SYS_getcwd, (long)cwd, 2, 0, 0), -ERANGE, "getcwd-erange");
    CHECK(mkdir("sub", 0755) == 0 && stat(TDIR "/sub", &st) == 0 && S_ISDIR(st.st_mode),
          "mkdirat-relative");
    CHECK(rename("a.txt", "b.txt") == 0 && access(TDIR "/b.txt", F_OK) == 0, "renameat");
    CHECK(chdir("/") == 0, "chdir-root");
    CHECK(rmdir(TDIR) == -1 && errno == ENOTEMPTY, "unlinkat-removedir-enotempty");
    CHECK(unlink(TDIR "/b.txt") == 0, "unlinkat-file");
    CHECK(unlink(TDIR "/b.txt") == -1 && errno == ENOENT, "unlinkat-missing-enoent");
    CHECK_RET(sc(SYS_unlinkat, AT_FDCWD, (long)TDIR, 0x4000, 0), -EINVAL,
              "unlinkat-bad-flags-einval");
    CHECK_RET(sc(SYS_unlinkat, AT_FDCWD, KERNEL_ADDR, 0, 0), -EFAULT, "unlinkat-efault");
    CHECK(rmdir(TDIR "/sub") == 0 && rmdir(TDIR) == 0, "unlinkat-removedir");
    CHECK(dir_has("/", "systest.dir") == 0, "getdents64-directory-gone");

    /* Descriptors run out with EMFILE, and close gives them back. */
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = dup(1)) >= 0)
        n++;
    CHECK(n < 64 && errno == EMFILE, "dup-until-emfile");
    while (n > 0)
        close(fds[--n]);
}

/* /dev through open, read, write, stat and getdents64 (a mount of its own: no disk needed). */
static void test_devices(void)
{
    char buf[64];
    struct stat st;
    int fd;

    fd = open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "discarded", 9) == 9, "write-dev-null-count");
    close(fd);
    fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0, "read-dev-null-eof");
    close(fd);
    memset(buf, 0x5a, sizeof(buf));
    fd = open("/dev/zero", O_RDWR);
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == (long)sizeof(buf) && !buf[0] &&
              !memcmp(buf, buf + 1, sizeof(buf) - 1),
          "read-dev-zero-zeroes");
    CHECK(write(fd, buf, 7) == 7, "write-dev-zero-discarded");
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 16) == 16, "read-dev-urandom");
    close(fd);
    CHECK(open("/dev/nope", O_RDONLY) == -1 && errno == ENOENT, "open-dev-missing-enoent");
    CHECK(open("/dev/new", O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES,
          "create-in-dev-eacces");
    CHECK(open("/dev/null", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR,
          "open-dev-null-directory-enotdir");
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == ((1 << 8) | 3),
          "stat-dev-null-chr");
    CHECK(stat("/dev", &st) == 0 && S_ISDIR(st.st_mode), "stat-dev-directory");
    CHECK(access("/dev/tty", W_OK) == 0, "access-dev-tty");
    CHECK(dir_has("/dev", "zero") == 1 && dir_has("/dev", "console") == 1, "getdents64-dev");
}

int main(void)
{
    test_console();
    test_ids();
    test_processes();
    test_memory();
    test_futex();
    test_scheduling();
    test_files();
    test_devices();
    return test_done("systest");
}
