/* avtest.h - what the test programs share: PASS/FAIL lines, raw system calls, time, CPUs. */
#ifndef APP_AVTEST_H
#define APP_AVTEST_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One line per check: "PASS <name>" or "FAIL <name>: <detail>". The QEMU cases look for these,
 * then for the summary line "<prog>: <n> passed, <m> failed" that test_done() prints.
 */
bool test_check(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define CHECK(cond, name) test_check((cond), (name), "%s", #cond)
/* A raw system call result: exactly the value want (e.g. -EFAULT). */
#define CHECK_RET(call, want, name)                                                                \
    do {                                                                                           \
        long r_ = (call), w_ = (want);                                                             \
        test_check(r_ == w_, (name), "%s returned %ld, expected %ld", #call, r_, w_);              \
    } while (0)
/* Print the summary; the exit status for main: 0 when nothing failed. */
int test_done(const char *prog);

/* futex(2) operations (musl has no <linux/futex.h>). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

/* The system call itself, no errno: returns what the kernel put in x0 (negative errno). */
long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* Monotonic time in nanoseconds (clock_gettime). */
uint64_t now_ns(void);
/* Online CPUs (sched_getaffinity of the caller at start). */
int ncpus(void);
/* Pin the calling thread to one CPU: 0 or -errno. */
int pin_to_cpu(int cpu);
/* The CPU running the caller (getcpu). */
int current_cpu(void);

#endif
