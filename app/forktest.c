/* forktest.c - fork, execve and wait4: exit codes, copy-on-write, orphans, errors. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "avtest.h"

#define CHILDREN 8

static int shared_value = 1000;

static void test_exit_codes(void)
{
    pid_t pids[CHILDREN];
    int seen = 0;

    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(10 + i);
    }
    for (int i = 0; i < CHILDREN; i++) {
        int status;
        pid_t pid = wait(&status);
        for (int k = 0; k < CHILDREN; k++) {
            if (pid == pids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 10 + k)
                seen |= 1 << k;
        }
    }
    test_check(seen == (1 << CHILDREN) - 1, "fork-wait-exit-codes", "children seen 0x%x", seen);
    CHECK(wait(NULL) == -1 && errno == ECHILD, "wait-no-children-echild");
}

static void test_cow(void)
{
    /* Memory of every kind is copied on write: data, heap, anonymous mmap, stack. */
    char *heap = malloc(64 * 1024);
    char *map = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile int stack_value = 7;
    memset(heap, 'p', 64 * 1024);
    memset(map, 'p', 1 << 20);
    int pipe_status;

    pid_t pid = fork();
    if (pid == 0) {
        int ok = shared_value == 1000 && heap[100] == 'p' && map[5000] == 'p' && stack_value == 7;
        shared_value = 2000;
        memset(heap, 'c', 64 * 1024);
        memset(map, 'c', 1 << 20);
        stack_value = 9;
        ok = ok && shared_value == 2000 && heap[60000] == 'c' && map[(1 << 20) - 1] == 'c';
        _exit(ok ? 0 : 1);
    }
    waitpid(pid, &pipe_status, 0);
    CHECK(WIFEXITED(pipe_status) && WEXITSTATUS(pipe_status) == 0, "cow-child-sees-and-writes");
    test_check(shared_value == 1000 && heap[100] == 'p' && map[5000] == 'p' &&
                   map[(1 << 20) - 1] == 'p' && stack_value == 7,
               "cow-parent-unchanged", "data %d heap %c map %c stack %d", shared_value, heap[100],
               map[5000], stack_value);
    /* After the child is gone, the parent writes its (no longer shared) pages in place. */
    memset(map, 'q', 1 << 20);
    CHECK(map[12345] == 'q', "cow-parent-writes-after-child-exit");
    munmap(map, 1 << 20);
    free(heap);
}

static void test_exec(void)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        char *argv[] = {"hello", "from", "exec", NULL};
        char *envp[] = {"A=1", NULL};
        execve("/bin/hello", argv, envp);
        _exit(99);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "exec-hello-exit-0");
    pid = fork();
    if (pid == 0) {
        char *argv[] = {"nope", NULL};
        execve("/bin/no-such-program", argv, NULL);
        _exit(errno == ENOENT ? 42 : 43);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 42, "exec-missing-enoent");
    pid = fork();
    if (pid == 0) {
        char *argv[] = {"crash", "null", NULL};
        execve("/bin/crash", argv, NULL);
        _exit(99);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == 11,
          "exec-crash-sigsegv");
    CHECK(raw_syscall(SYS_execve, (long)"/bin/hello", 1, 0, 0, 0, 0) == -EFAULT,
          "exec-bad-argv-efault");
    CHECK(raw_syscall(SYS_execve, 0, 0, 0, 0, 0, 0) == -EFAULT, "exec-null-path-efault");
    CHECK(raw_syscall(SYS_execve, (long)"/", 0, 0, 0, 0, 0) == -EISDIR ||
              raw_syscall(SYS_execve, (long)"/", 0, 0, 0, 0, 0) == -ENOENT,
          "exec-directory-fails");
}

/* clone(CLONE_VM | CLONE_VFORK): the child runs on our memory and stack until it execs, and we
 * wait until then (musl's vfork() is a plain fork on arm64, so the call is made directly). */
static void test_vfork(void)
{
    static char *argv[] = {"hello", "vfork", NULL};
    volatile int touched = 0;
    int status;
    long pid = raw_syscall(SYS_clone, 0x4000 | 0x100 | SIGCHLD, 0, 0, 0, 0, 0);

    if (pid == 0) {
        touched = 1;
        raw_syscall(SYS_execve, (long)"/bin/hello", (long)argv, 0, 0, 0, 0);
        raw_syscall(SYS_exit_group, 99, 0, 0, 0, 0, 0);
    }
    CHECK(pid > 0 && touched == 1, "vfork-shares-memory-until-exec");
    CHECK(waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "vfork-exec-wait");
}

static void *sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        sleep(1000);
    return NULL;
}

static void *spin_forever(void *arg)
{
    (void)arg;
    for (;;)
        __asm__ volatile("" ::: "memory");
    return NULL;
}

/* execve from a process with more threads: the others (sleeping, spinning) go first. */
static void test_exec_threads(void)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        pthread_t a, b;
        char *argv[] = {"hello", "threads", "gone", NULL};
        pthread_create(&a, NULL, sleep_forever, NULL);
        pthread_create(&b, NULL, spin_forever, NULL);
        usleep(1000);
        execve("/bin/hello", argv, NULL);
        _exit(98);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "exec-from-threaded-process");
}

static void test_wait_options(void)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        usleep(20000);
        _exit(3);
    }
    CHECK(waitpid(pid, &status, WNOHANG) == 0, "wait-wnohang-running-child");
    CHECK(waitpid(pid + 1000, &status, 0) == -1 && errno == ECHILD, "wait-other-pid-echild");
    CHECK(waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 3, "wait-specific-pid");
    CHECK(raw_syscall(SYS_wait4, -1, 16, 0, 0, 0, 0) == -ECHILD, "wait-nothing-left");
    pid = fork();
    if (pid == 0)
        _exit(4);
    CHECK(raw_syscall(SYS_wait4, pid, 16, 0, 0, 0, 0) == -EFAULT, "wait-bad-status-efault");
    CHECK(raw_syscall(SYS_wait4, pid, 0, 0x1000, 0, 0, 0) == -EINVAL, "wait-bad-options-einval");
}

static void test_family(void)
{
    int status;
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid == 0) {
        /* A grandchild outlives its parent: it becomes the kernel's, nobody waits for it. */
        if (fork() == 0) {
            usleep(10000);
            _exit(0);
        }
        _exit(getppid() == parent ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 0, "getppid-in-child");
    CHECK(pid != parent && pid > 0, "child-pid-differs");
}

int main(void)
{
    test_exit_codes();
    test_cow();
    test_exec();
    test_vfork();
    test_exec_threads();
    test_wait_options();
    test_family();
    return test_done("forktest");
}
