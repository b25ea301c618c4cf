/* sleeptest.c - sleep accuracy (nanosleep, clock_nanosleep) and the clocks; bad arguments. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "avtest.h"

#define SLACK_NS 1000000ULL /* a sleep may end this much late: far below a 10 ms tick */

static void check_sleep(uint64_t ns)
{
    struct timespec req = {(time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL)};
    char name[48];
    uint64_t start = now_ns();

    int r = nanosleep(&req, NULL);
    uint64_t took = now_ns() - start;
    snprintf(name, sizeof(name), "nanosleep-%llu-us", (unsigned long long)(ns / 1000));
    test_check(r == 0 && took >= ns && took - ns < SLACK_NS, name, "slept %llu ns for %llu",
               (unsigned long long)took, (unsigned long long)ns);
}

int main(void)
{
    const uint64_t lengths[] = {100000, 1000000, 5000000, 10000000, 25000000, 100000000};
    struct timespec ts, bad = {0, 1000000000L}, neg = {-1, 0};

    for (unsigned int i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
        check_sleep(lengths[i]);

    /* clock_nanosleep to an absolute deadline ends at (not before) that time. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t deadline = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + 20000000ULL;
    ts.tv_sec = (time_t)(deadline / 1000000000ULL);
    ts.tv_nsec = (long)(deadline % 1000000000ULL);
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    uint64_t now = now_ns();
    test_check(r == 0 && now >= deadline && now - deadline < SLACK_NS, "clock-nanosleep-abstime",
               "returned %d, %lld ns after the deadline", r, (long long)(now - deadline));

    uint64_t a = now_ns(), b = now_ns();
    CHECK(b >= a, "clock-monotonic-does-not-go-back");
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1600000000, "clock-realtime-rtc");
    CHECK(clock_getres(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec > 0,
          "clock-getres");
    CHECK_RET(raw_syscall(SYS_clock_gettime, 99, (long)&ts, 0, 0, 0, 0), -EINVAL,
              "clock-gettime-bad-clock");
    CHECK_RET(raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, 8, 0, 0, 0, 0), -EFAULT,
              "clock-gettime-efault");
    CHECK_RET(raw_syscall(SYS_nanosleep, (long)&bad, 0, 0, 0, 0, 0), -EINVAL,
              "nanosleep-nsec-out-of-range");
    CHECK_RET(raw_syscall(SYS_nanosleep, (long)&neg, 0, 0, 0, 0, 0), -EINVAL, "nanosleep-negative");
    CHECK_RET(raw_syscall(SYS_nanosleep, 16, 0, 0, 0, 0, 0), -EFAULT, "nanosleep-efault");
    CHECK_RET(raw_syscall(SYS_clock_nanosleep, 77, 0, (long)&ts, 0, 0, 0), -EINVAL,
              "clock-nanosleep-bad-clock");
    return test_done("sleeptest");
}
