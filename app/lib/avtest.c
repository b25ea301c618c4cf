/* avtest.c - helpers for the test programs (see avtest.h). */
#include "avtest.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int passed, failed;

bool test_check(bool ok, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        passed++;
        printf("PASS %s\n", name);
        return true;
    }
    failed++;
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return false;
}

int test_done(const char *prog)
{
    printf("%s: %d passed, %d failed\n", prog, passed, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}

long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a0;
    register long x1 __asm__("x1") = a1;
    register long x2 __asm__("x2") = a2;
    register long x3 __asm__("x3") = a3;
    register long x4 __asm__("x4") = a4;
    register long x5 __asm__("x5") = a5;

    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ncpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set))
        return 1;
    return CPU_COUNT(&set);
}

int pin_to_cpu(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) ? -1 : 0;
}

int current_cpu(void)
{
    return sched_getcpu();
}
