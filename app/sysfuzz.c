/* sysfuzz.c - random system calls with random arguments (bad pointers, huge sizes, kernel
 * addresses, valid buffers) from throw-away children: whatever happens to a child, the kernel
 * must stay up and answer. Usage: sysfuzz [rounds] [calls per round] [seed] */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "avtest.h"

#define CHILD_LIMIT_NS 2000000000ULL /* a child still running after this is killed */

/* The calls, and numbers that are none. Blocking ones (sleeps, futex, wait4), clone and execve
 * get arguments that keep them short (see fuzz()). */
static const long calls[] = {
    SYS_getcwd,
    SYS_dup,
    SYS_dup3,
    SYS_fcntl,
    SYS_ioctl,
    SYS_mkdirat,
    SYS_unlinkat,
    SYS_renameat,
    SYS_ftruncate,
    SYS_faccessat,
    SYS_chdir,
    SYS_openat,
    SYS_close,
    SYS_getdents64,
    SYS_lseek,
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_pread64,
    SYS_newfstatat,
    SYS_fstat,
    SYS_sync,
    SYS_fsync,
    SYS_fdatasync,
    SYS_set_tid_address,
    SYS_futex,
    SYS_nanosleep,
    SYS_clock_gettime,
    SYS_clock_getres,
    SYS_clock_nanosleep,
    SYS_sched_setaffinity,
    SYS_sched_getaffinity,
    SYS_sched_yield,
    SYS_rt_sigaction,
    SYS_rt_sigprocmask,
    SYS_setpriority,
    SYS_getpriority,
    SYS_uname,
    SYS_getcpu,
    SYS_gettimeofday,
    SYS_getpid,
    SYS_getppid,
    SYS_gettid,
    SYS_brk,
    SYS_munmap,
    SYS_mmap,
    SYS_mprotect,
    SYS_madvise,
    SYS_wait4,
    SYS_syncfs,
    SYS_getrandom,
    SYS_clone,
    SYS_execve,
    SYS_pipe2,
    SYS_ppoll,
    SYS_rt_sigpending,
    SYS_rt_sigreturn,
    SYS_setpgid,
    SYS_getpgid,
    SYS_getsid,
    SYS_setsid,
    SYS_prctl,
    SYS_prlimit64,
    SYS_getrlimit,
    SYS_setrlimit,
    SYS_getgroups,
    SYS_sysinfo,
    SYS_set_robust_list,
    SYS_readlinkat,
    SYS_symlinkat,
    SYS_linkat,
    SYS_fchmodat,
    SYS_utimensat,
    1000,
    451,
    4095,
};

static uint64_t rng_state;
static const struct timespec no_wait = {0, 0};
static char buffer[8192];

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static long random_arg(void)
{
    switch (rng() % 12) {
    case 0: return 0;
    case 1: return -1;
    case 2: return (long)(rng() % 64);
    case 3: return (long)rng();
    case 4: return (long)(buffer + rng() % sizeof(buffer)); /* a valid buffer */
    case 5: return (long)buffer;
    case 6: return (long)(0xffffff8000000000UL + (rng() & 0xffffff)); /* kernel */
    case 7: return (long)(rng() & 0x7ffffff000UL); /* page-aligned user address */
    case 8: return 0x1000;
    case 9: return (long)(1UL << (rng() % 64));
    case 10: return (long)&rng_state;
    default: return (long)(rng() % 4096);
    }
}

static void fuzz(int calls_per_round)
{
    for (int i = 0; i < calls_per_round; i++) {
        long nr = calls[rng() % (sizeof(calls) / sizeof(calls[0]))];
        long a[6];
        for (int k = 0; k < 6; k++)
            a[k] = random_arg();
        switch (nr) {
        case SYS_read:
        case SYS_readv:
            if (a[0] == 0)
                a[0] = 1; /* never wait for console input */
            break;
        case SYS_nanosleep:
        case SYS_clock_nanosleep:
        case SYS_futex:
        case SYS_wait4:
            a[3] = 0;
            if (nr == SYS_futex)
                a[1] = 1 | (a[1] & 0x180); /* FUTEX_WAKE (a wait could last for ever) */
            if (nr == SYS_wait4)
                a[2] = 1; /* WNOHANG */
            if (nr == SYS_nanosleep)
                a[0] = 0x1000; /* unmapped: -EFAULT */
            if (nr == SYS_clock_nanosleep)
                a[2] = 0x1000;
            break;
        case SYS_clone:
            a[0] = 0xffff; /* CLONE_VM | CLONE_FS | ...without CLONE_THREAD: refused */
            break;
        case SYS_rt_sigreturn:
            if (rng() % 16)
                continue; /* a frame of garbage ends the child: rarely, so others get their turn */
            break;
        case SYS_ppoll:
            a[2] = (long)&no_wait; /* a zero timeout: poll could otherwise wait for ever */
            break;
        case SYS_execve:
            a[0] = random_arg() | 1; /* odd: never a real path string start we made */
            break;
        default: break;
        }
        raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int per_round = argc > 2 ? atoi(argv[2]) : 200;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x5eed;
    int signalled = 0, timed_out = 0, exited = 0;

    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            rng_state = seed + (uint64_t)r * 0x9e3779b97f4a7c15ULL;
            /* Quietly: writes to the console would flood it. */
            close(0);
            close(1);
            close(2);
            fuzz(per_round);
            _exit(0);
        }
        if (pid < 0) {
            printf("sysfuzz: fork failed: %s\n", strerror(errno));
            break;
        }
        uint64_t start = now_ns();
        int status;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (now_ns() - start > CHILD_LIMIT_NS) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                timed_out++;
                break;
            }
            usleep(1000);
        }
        if (WIFSIGNALED(status))
            signalled++;
        else
            exited++;
    }
    printf("sysfuzz: %d rounds of %d calls: %d exited, %d died of a signal (%d timed out)\n",
           rounds, per_round, exited, signalled, timed_out);
    test_check(exited + signalled == rounds, "sysfuzz-every-child-accounted", "%d of %d",
               exited + signalled, rounds);
    CHECK(getpid() > 0 && write(1, "", 0) == 0, "sysfuzz-kernel-still-answers");
    return test_done("sysfuzz");
}
