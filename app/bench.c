/* bench.c - path lengths of user-mode operations. Under QEMU -icount shift=0 one nanosecond is
 * one instruction, so each figure is an instruction count. Output: "bench: <what> <ns> ns". */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

static void report(const char *what, uint64_t ns, uint64_t n)
{
    printf("bench: %s %llu ns\n", what, (unsigned long long)(ns / n));
}

static void bench_getpid(void)
{
    uint64_t t0 = now_ns();

    for (int i = 0; i < GETPID_ROUNDS; i++)
        raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0);
    report("getpid", now_ns() - t0, GETPID_ROUNDS);
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
    uint64_t t0 = now_ns();
    for (int i = 0; i < SWITCH_ROUNDS; i++) {
        give_turn(1);
        wait_turn(0);
    }
    uint64_t ns = now_ns() - t0;
    pthread_join(t, NULL);
    report("thread switch (futex ping-pong, per switch)", ns, 2 * SWITCH_ROUNDS);
}

static void bench_fork(void)
{
    uint64_t t0 = now_ns();

    for (int i = 0; i < FORK_ROUNDS; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        waitpid(pid, NULL, 0);
    }
    report("fork+exit+wait", now_ns() - t0, FORK_ROUNDS);
}

static void bench_fault(void)
{
    char *p = mmap(NULL, FAULT_PAGES * 4096UL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    uint64_t t0 = now_ns();

    for (int i = 0; i < FAULT_PAGES; i++)
        ((volatile char *)p)[i * 4096UL] = 1;
    uint64_t faulted = now_ns() - t0;
    t0 = now_ns();
    for (int i = 0; i < FAULT_PAGES; i++)
        ((volatile char *)p)[i * 4096UL] = 2;
    uint64_t mapped = now_ns() - t0;
    munmap(p, FAULT_PAGES * 4096UL);
    report("page fault (demand-zero)", faulted - mapped, FAULT_PAGES);
}

static void bench_mutex(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    uint64_t t0 = now_ns();

    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    report("uncontended mutex lock+unlock", now_ns() - t0, MUTEX_ROUNDS);
}

int main(void)
{
    bench_getpid();
    bench_switch();
    bench_fork();
    bench_fault();
    bench_mutex();
    return 0;
}
