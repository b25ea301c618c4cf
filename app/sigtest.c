/* sigtest.c - pipes, descriptors, signals and process groups as a shell uses them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define BIG (100 * 1000) /* more than a pipe holds: the writer must sleep */

static volatile sig_atomic_t got_usr1, got_chld;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

static void on_chld(int sig)
{
    (void)sig;
    got_chld++;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* The child's wait status, after waiting for it. */
static int reap(pid_t pid)
{
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static void test_handler(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    volatile uint64_t keep = 0x1234567890abcdefULL;
    double d = 1.5; /* an FP register live across the handler */
    got_usr1 = 0;
    kill(getpid(), SIGUSR1);
    d *= 2;
    CHECK(got_usr1 == 1, "handler-runs-once");
    CHECK(keep == 0x1234567890abcdefULL && d == 3.0, "registers-restored-after-handler");

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGUSR1);
    sigset_t pending;
    sigpending(&pending);
    CHECK(got_usr1 == 1 && sigismember(&pending, SIGUSR1), "blocked-signal-stays-pending");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(got_usr1 == 2, "unblocked-signal-delivered");

    signal(SIGUSR1, SIG_IGN);
    kill(getpid(), SIGUSR1);
    CHECK(got_usr1 == 2, "ignored-signal-dropped");
    signal(SIGUSR1, SIG_DFL);
}

/*
 * Job control: SIGSTOP and SIGTSTP stop a child (wait4 with WUNTRACED reports it once, the
 * parent gets SIGCHLD), SIGCONT continues it (WCONTINUED), a stopped child still dies of
 * SIGKILL, and a signal sent while it is stopped waits until it goes on.
 */
static void test_stop_continue(void)
{
    int status = 0;

    set_handler(SIGCHLD, on_chld, 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    int before = got_chld;
    kill(pid, SIGSTOP);
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) &&
              WSTOPSIG(status) == SIGSTOP,
          "sigstop-stops-wuntraced");
    CHECK(got_chld > before, "stop-sends-sigchld");
    CHECK(waitpid(pid, &status, WUNTRACED | WNOHANG) == 0, "stop-reported-once");
    kill(pid, SIGCONT);
    CHECK(waitpid(pid, &status, WCONTINUED) == pid && WIFCONTINUED(status), "sigcont-continues");
    kill(pid, SIGTSTP);
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) &&
              WSTOPSIG(status) == SIGTSTP,
          "sigtstp-stops");
    kill(pid, SIGTERM); /* held while stopped */
    CHECK(waitpid(pid, &status, WNOHANG) == 0, "stopped-child-holds-sigterm");
    kill(pid, SIGCONT);
    status = reap(pid); /* the SIGCHLD handler may interrupt a wait: reap retries */
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "sigterm-after-sigcont");
    pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    kill(pid, SIGSTOP);
    waitpid(pid, &status, WUNTRACED);
    kill(pid, SIGKILL);
    status = reap(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "sigkill-ends-stopped-child");
    signal(SIGCHLD, SIG_DFL);
}

/* What the SA_ONSTACK handler saw: where its frame was, and sigaltstack from inside. */
static volatile uintptr_t alt_local;
static volatile int alt_flags, alt_change;

static void on_usr2_alt(int sig)
{
    volatile char here = 0;
    stack_t now, ss = {0};

    (void)sig;
    alt_local = (uintptr_t)&here;
    alt_flags = sigaltstack(NULL, &now) == 0 ? now.ss_flags : -1;
    ss.ss_flags = SS_DISABLE;
    alt_change = sigaltstack(&ss, NULL) == -1 ? errno : 0;
}

/*
 * sigaltstack: an SA_ONSTACK handler runs on the alternate stack and sees SS_ONSTACK (and may
 * not change it there: EPERM); the old setting reads back; SS_DISABLE turns it off (handlers on
 * the normal stack again); a fork child keeps it; bad flags, a small stack and bad pointers are
 * refused.
 */
static void test_sigaltstack(void)
{
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0}, old;
    uintptr_t lo = (uintptr_t)alt, hi = lo + sizeof(alt);

    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE, "sigaltstack-none-at-start");
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack-set");
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && old.ss_size == sizeof(alt) &&
              old.ss_flags == 0,
          "sigaltstack-reads-back");
    set_handler(SIGUSR2, on_usr2_alt, SA_ONSTACK);
    kill(getpid(), SIGUSR2);
    CHECK(alt_local > lo && alt_local < hi, "sigaltstack-handler-on-alt-stack");
    CHECK(alt_flags == SS_ONSTACK, "sigaltstack-ss-onstack-inside");
    CHECK(alt_change == EPERM, "sigaltstack-change-on-it-eperm");
    pid_t pid = fork();
    if (pid == 0) {
        alt_local = 0;
        kill(getpid(), SIGUSR2);
        _exit(alt_local > lo && alt_local < hi ? 0 : 1);
    }
    int status = reap(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sigaltstack-kept-by-fork");
    set_handler(SIGUSR2, on_usr2_alt, 0);
    kill(getpid(), SIGUSR2);
    CHECK(!(alt_local > lo && alt_local < hi), "sigaltstack-only-with-sa-onstack");
    CHECK(raw_syscall(SYS_sigaltstack, (long)&(stack_t){.ss_sp = alt, .ss_size = 4096}, 0, 0, 0, 0,
                      0) == -ENOMEM,
          "sigaltstack-small-enomem");
    CHECK(raw_syscall(SYS_sigaltstack,
                      (long)&(stack_t){.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0x40}, 0,
                      0, 0, 0, 0) == -EINVAL,
          "sigaltstack-bad-flags-einval");
    CHECK(raw_syscall(SYS_sigaltstack, 0x1000, 0, 0, 0, 0, 0) == -EFAULT,
          "sigaltstack-bad-pointer-efault");
    CHECK(raw_syscall(SYS_sigaltstack, 0, 0x1000, 0, 0, 0, 0) == -EFAULT,
          "sigaltstack-bad-old-pointer-efault");
    ss.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&ss, NULL) == 0 && sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE,
          "sigaltstack-disable");
    set_handler(SIGUSR2, on_usr2_alt, SA_ONSTACK);
    kill(getpid(), SIGUSR2);
    CHECK(!(alt_local > lo && alt_local < hi), "sigaltstack-disabled-normal-stack");
    signal(SIGUSR2, SIG_DFL);
}

static void test_default_actions(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGCHLD); /* ignored by default */
        kill(getpid(), SIGTERM);
        _exit(0);
    }
    int status = reap(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "sigterm-default-terminates");
}

static void test_pipe_basics(void)
{
    int fds[2];
    char buf[16];

    CHECK(pipe(fds) == 0, "pipe-created");
    CHECK(write(fds[1], "hello", 5) == 5, "pipe-write");
    CHECK(read(fds[0], buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5), "pipe-read");
    CHECK(write(fds[0], "x", 1) == -1 && errno == EBADF, "pipe-read-end-not-writable");
    CHECK(lseek(fds[0], 0, SEEK_SET) == -1 && errno == ESPIPE, "pipe-lseek-espipe");
    close(fds[1]);
    CHECK(read(fds[0], buf, sizeof(buf)) == 0, "pipe-eof-when-writers-gone");
    close(fds[0]);

    CHECK(pipe(fds) == 0, "pipe-created-again");
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE, "pipe-epipe-when-readers-gone");
    signal(SIGPIPE, SIG_DFL);
    pid_t pid = fork();
    if (pid == 0) {
        write(fds[1], "x", 1);
        _exit(0);
    }
    int status = reap(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "sigpipe-kills-writer");
    close(fds[1]);
}

static void test_pipe_big(void)
{
    int fds[2];
    static char buf[8192];

    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        memset(buf, 'z', sizeof(buf));
        for (int left = BIG; left > 0;) {
            int n = write(fds[1], buf, left < (int)sizeof(buf) ? left : (int)sizeof(buf));
            if (n <= 0)
                _exit(1);
            left -= n;
        }
        _exit(0);
    }
    close(fds[1]);
    long total = 0, bad = 0;
    for (int n; (n = read(fds[0], buf, sizeof(buf))) > 0;) {
        for (int i = 0; i < n; i++)
            bad += buf[i] != 'z';
        total += n;
    }
    close(fds[0]);
    int status = reap(pid);
    test_check(total == BIG && !bad && WIFEXITED(status) && !WEXITSTATUS(status),
               "pipe-large-transfer", "%ld bytes, %ld wrong, status 0x%x", total, bad, status);
}

static void test_fcntl_dup(void)
{
    int fds[2];
    char c;

    pipe(fds);
    int d = fcntl(fds[0], F_DUPFD, 20);
    CHECK(d == 20, "f-dupfd-lowest-at-least");
    CHECK(fcntl(d, F_GETFD) == 0, "f-dupfd-no-cloexec");
    int e = fcntl(fds[0], F_DUPFD_CLOEXEC, 20);
    CHECK(e == 21 && fcntl(e, F_GETFD) == FD_CLOEXEC, "f-dupfd-cloexec");
    CHECK(fcntl(d, F_SETFD, FD_CLOEXEC) == 0 && fcntl(d, F_GETFD) == FD_CLOEXEC, "f-setfd");
    CHECK(dup3(fds[1], 30, O_CLOEXEC) == 30 && fcntl(30, F_GETFD) == FD_CLOEXEC, "dup3-cloexec");
    CHECK(dup3(30, 30, 0) == -1 && errno == EINVAL, "dup3-same-fd-einval");
    CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(fds[0], F_GETFL) & O_NONBLOCK),
          "f-setfl-nonblock");
    CHECK(read(fds[0], &c, 1) == -1 && errno == EAGAIN, "nonblock-read-eagain");
    write(30, "q", 1);
    CHECK(read(d, &c, 1) == 1 && c == 'q', "dup-shares-pipe");
    close(30);
    close(fds[1]);
    CHECK(read(fds[0], &c, 1) == 0, "eof-after-all-dups-closed");
    close(fds[0]);
    close(d);
    close(e);
}

static void test_poll(void)
{
    int fds[2];

    pipe(fds);
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLOUT, 0}};
    CHECK(poll(p, 1, 0) == 0, "poll-empty-pipe-times-out");
    CHECK(poll(p + 1, 1, 0) == 1 && (p[1].revents & POLLOUT), "poll-pipe-writable");
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        write(fds[1], "x", 1);
        _exit(0);
    }
    CHECK(poll(p, 1, 5000) == 1 && (p[0].revents & POLLIN), "poll-wakes-on-data");
    reap(pid);
    close(fds[1]);
    char c;
    read(fds[0], &c, 1);
    CHECK(poll(p, 1, 0) == 1 && (p[0].revents & POLLHUP), "poll-hup-when-writers-gone");
    close(fds[0]);
}

/* A child that signals us after a pause, while we sleep in read() on an empty pipe. */
static void test_interrupted_read(int flags, bool restarts)
{
    int fds[2];
    char c = 0;

    pipe(fds);
    set_handler(SIGUSR1, on_usr1, flags);
    got_usr1 = 0;
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        kill(parent, SIGUSR1);
        sleep_ms(50);
        write(fds[1], "r", 1);
        _exit(0);
    }
    long n = read(fds[0], &c, 1);
    int err = errno;
    reap(pid);
    if (restarts)
        test_check(n == 1 && c == 'r' && got_usr1 == 1, "sa-restart-read-restarted",
                   "read %ld errno %d handler %d", n, err, got_usr1);
    else
        test_check(n == -1 && err == EINTR && got_usr1 == 1, "no-sa-restart-read-eintr",
                   "read %ld errno %d handler %d", n, err, got_usr1);
    close(fds[0]);
    close(fds[1]);
    signal(SIGUSR1, SIG_DFL);
}

static void test_sleep_and_sigsuspend(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    got_usr1 = 0;
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    struct timespec ts = {10, 0};
    int r = nanosleep(&ts, &ts);
    test_check(r == -1 && errno == EINTR && got_usr1 == 1 && ts.tv_sec < 10, "nanosleep-eintr",
               "r %d errno %d handler %d left %ld s", r, errno, got_usr1, (long)ts.tv_sec);
    reap(pid);

    sigset_t block, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    pid = fork();
    if (pid == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigemptyset(&empty);
    r = sigsuspend(&empty);
    sigprocmask(SIG_SETMASK, NULL, &now);
    test_check(r == -1 && errno == EINTR && got_usr1 == 2 && sigismember(&now, SIGUSR1),
               "sigsuspend-runs-handler-restores-mask", "r %d handler %d", r, got_usr1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    reap(pid);
    signal(SIGUSR1, SIG_DFL);
}

static void test_sigchld_and_wnohang(void)
{
    int fds[2];
    char c;

    set_handler(SIGCHLD, on_chld, 0);
    got_chld = 0;
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        read(fds[0], &c, 1);
        _exit(7);
    }
    CHECK(waitpid(pid, NULL, WNOHANG) == 0, "wnohang-child-running");
    write(fds[1], "go", 1);
    int status = reap(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "wait-status-after-wnohang");
    CHECK(got_chld == 1, "sigchld-to-parent");
    signal(SIGCHLD, SIG_DFL);
    close(fds[0]);
    close(fds[1]);
}

static void test_groups(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(pid, pid); /* both sides, as a shell does: no race */
    CHECK(getpgid(pid) == pid, "setpgid-new-group");
    CHECK(getpgid(0) == getpgrp() && getpgrp() != pid, "own-group-unchanged");
    CHECK(getsid(0) == getsid(pid), "same-session");
    CHECK(kill(-pid, SIGTERM) == 0, "kill-group");
    int status = reap(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "group-member-terminated");
    CHECK(setsid() == -1 && errno == EPERM, "setsid-group-leader-eperm");
    pid = fork();
    if (pid == 0)
        _exit(setsid() == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
    status = reap(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "setsid-in-child");
}

/* rt_sigreturn with a frame that would return to EL1h: the process dies, the kernel does not. */
static void test_forged_frame(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        static uint64_t frame[1200] __attribute__((aligned(16)));
        frame[(128 + 176 + 272) / 8] = 0x3c5; /* pstate: EL1h, interrupts masked */
        __asm__ volatile("mov sp, %0\n mov x8, #139\n svc #0" : : "r"(frame) : "x8", "memory");
        _exit(0);
    }
    int status = reap(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "forged-frame-sigsegv");
}

int main(void)
{
    test_handler();
    test_default_actions();
    test_pipe_basics();
    test_pipe_big();
    test_fcntl_dup();
    test_poll();
    test_interrupted_read(SA_RESTART, true);
    test_interrupted_read(0, false);
    test_sleep_and_sigsuspend();
    test_sigchld_and_wnohang();
    test_groups();
    test_forged_frame();
    test_sigaltstack();
    test_stop_continue();
    return test_done("sigtest");
}
