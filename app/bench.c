/* bench.c - path lengths of user-mode operations. Under QEMU -icount shift=0 one nanosecond is
 * one instruction, so each figure is an instruction count. Output: "bench: <what> <ns> ns". */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avtest.h"

#define GETPID_ROUNDS 20000
#define SWITCH_ROUNDS 5000
#define FORK_ROUNDS   100
#define FAULT_PAGES   2048
#define MUTEX_ROUNDS  100000
#define PIPE_BYTES    (16 << 20)
#define PIPE_CHUNK    4096
#define SIGNAL_ROUNDS 2000
#define READ_CHUNK    (64 * 1024)

/*
 * The time, after a hint #42 (a NOP): each reading starts a window of the insnprof QEMU plugin,
 * so a profile splits at the edges of every timed loop, on Avatar and on Linux alike.
 */
static uint64_t mark_now(void)
{
    __asm__ volatile("hint #42");
    return now_ns();
}

static void report(const char *what, uint64_t ns, uint64_t n)
{
    printf("bench: %s %llu ns\n", what, (unsigned long long)(ns / n));
}

static void bench_getpid(void)
{
    uint64_t t0 = mark_now();

    for (int i = 0; i < GETPID_ROUNDS; i++)
        raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0);
    report("getpid", mark_now() - t0, GETPID_ROUNDS);
}

/* Two threads on one CPU hand a token back and forth through a futex word. */
static atomic_int turn;

static void wait_turn(int me)
{
    while (atomic_load(&turn) != me)
        raw_syscall(SYS_futex, (long)&turn, FUTEX_WAIT_PRIVATE, 1 - me, 0, 0, 0);
}

static void give_turn(int other)
{
    atomic_store(&turn, other);
    raw_syscall(SYS_futex, (long)&turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void *pong(void *arg)
{
    (void)arg;
    for (int i = 0; i < SWITCH_ROUNDS; i++) {
        wait_turn(1);
        give_turn(0);
    }
    return NULL;
}

static void bench_switch(void)
{
    pthread_t t;

    pin_to_cpu(0); /* the partner inherits it: every hand-over is a switch on CPU 0 */
    atomic_store(&turn, 0);
    pthread_create(&t, NULL, pong, NULL);
    uint64_t t0 = mark_now();
    for (int i = 0; i < SWITCH_ROUNDS; i++) {
        give_turn(1);
        wait_turn(0);
    }
    uint64_t ns = mark_now() - t0;
    pthread_join(t, NULL);
    report("thread switch (futex ping-pong, per switch)", ns, 2 * SWITCH_ROUNDS);
}

static void bench_fork(void)
{
    uint64_t t0 = mark_now();

    for (int i = 0; i < FORK_ROUNDS; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        waitpid(pid, NULL, 0);
    }
    report("fork+exit+wait", mark_now() - t0, FORK_ROUNDS);
}

static void bench_fault(void)
{
    char *p = mmap(NULL, FAULT_PAGES * 4096UL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    uint64_t t0 = mark_now();

    for (int i = 0; i < FAULT_PAGES; i++)
        ((volatile char *)p)[i * 4096UL] = 1;
    uint64_t faulted = mark_now() - t0;
    t0 = mark_now();
    for (int i = 0; i < FAULT_PAGES; i++)
        ((volatile char *)p)[i * 4096UL] = 2;
    uint64_t mapped = mark_now() - t0;
    munmap(p, FAULT_PAGES * 4096UL);
    report("page fault (demand-zero)", faulted - mapped, FAULT_PAGES);
}

static void bench_mutex(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    uint64_t t0 = mark_now();

    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    report("uncontended mutex lock+unlock", mark_now() - t0, MUTEX_ROUNDS);
}

/* A writer child streams PIPE_BYTES through a pipe in PIPE_CHUNK writes; figure per MiB. */
static void bench_pipe(void)
{
    static char buf[PIPE_CHUNK];
    int fds[2];
    long got = 0, n;

    if (pipe(fds)) {
        perror("bench: pipe");
        return;
    }
    pin_to_cpu(0); /* the child inherits it: writer and reader take turns on one CPU */
    uint64_t t0 = mark_now();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        for (long sent = 0; sent < PIPE_BYTES; sent += PIPE_CHUNK)
            if (write(fds[1], buf, PIPE_CHUNK) != PIPE_CHUNK)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        got += n;
    uint64_t ns = mark_now() - t0;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    if (got != PIPE_BYTES) {
        printf("bench: pipe moved %ld bytes of %d\n", got, PIPE_BYTES);
        return;
    }
    report("pipe throughput, per MiB", ns, PIPE_BYTES >> 20);
}

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    (void)sig;
    signals_seen++;
}

/* kill(self) -> handler -> sigreturn, the whole round trip. */
static void bench_signal(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t me = getpid();
    uint64_t t0 = mark_now();
    for (int i = 0; i < SIGNAL_ROUNDS; i++)
        kill(me, SIGUSR1);
    uint64_t ns = mark_now() - t0;
    if (signals_seen != SIGNAL_ROUNDS) {
        printf("bench: %d of %d signals handled\n", (int)signals_seen, SIGNAL_ROUNDS);
        return;
    }
    report("signal round trip (kill self, handler, sigreturn)", ns, SIGNAL_ROUNDS);
}

/* Read path whole in READ_CHUNK reads; returns the bytes read, or -1. */
static long read_whole(const char *path, char *buf)
{
    int fd = open(path, O_RDONLY);
    long total = 0, n;

    if (fd < 0)
        return -1;
    while ((n = read(fd, buf, READ_CHUNK)) > 0)
        total += n;
    close(fd);
    return n < 0 ? -1 : total;
}

/*
 * Read a file twice through read(2); the second pass is served from the page cache. The first
 * pass waits for the disk (idle time, not instructions), so only the warm figure is reported.
 */
static void bench_file(const char *path)
{
    char *buf = malloc(READ_CHUNK);
    long size = buf ? read_whole(path, buf) : -1;

    if (size <= 0) {
        printf("bench: cannot read %s\n", path);
        free(buf);
        return;
    }
    uint64_t t0 = mark_now();
    long again = read_whole(path, buf);
    uint64_t ns = mark_now() - t0;
    free(buf);
    if (again != size) {
        printf("bench: %s read %ld bytes, then %ld\n", path, size, again);
        return;
    }
    report("file re-read (read(2), 64 KiB a call), per MiB", ns << 20, (uint64_t)size);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "file")) {
        bench_file(argv[2]);
        return 0;
    }
    bench_getpid();
    bench_switch();
    bench_fork();
    bench_fault();
    bench_mutex();
    bench_pipe();
    bench_signal();
    return 0;
}
