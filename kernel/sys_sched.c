/* sys_sched.c - time, sleeping, priorities, affinity and futexes for user threads. */
#include "drivers/pl031.h"
#include "kernel/futex.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/syscall.h"
#include "kernel/time.h"
#include "lib/errno.h"

#define NSEC_PER_SEC             1000000000ULL
#define CLOCK_REALTIME           0
#define CLOCK_MONOTONIC          1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID  3
#define CLOCK_MONOTONIC_RAW      4
#define CLOCK_REALTIME_COARSE    5
#define CLOCK_MONOTONIC_COARSE   6
#define CLOCK_BOOTTIME           7
#define TIMER_ABSTIME            1
#define PRIO_PROCESS             0
#define NICE_MIN                 (-20)
#define NICE_MAX                 19

struct user_timespec {
    int64_t sec, nsec;
};

/* Sleepers wait here; only a signal or kill wakes it (a deadline ends a sleep). */
static struct wait_queue sleep_wq = WAIT_QUEUE_INIT(sleep_wq);
/* Wall-clock time at counter zero, from the RTC, set on first use (0: not yet). */
static uint64_t realtime_base_ns;

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

uint64_t sys_clock_ns(int clock)
{
    uint64_t now = time_now_ns();

    if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE) {
        uint64_t base = __atomic_load_n(&realtime_base_ns, __ATOMIC_RELAXED);
        if (!base) {
            base = rtc_seconds() * NSEC_PER_SEC - now;
            __atomic_store_n(&realtime_base_ns, base, __ATOMIC_RELAXED);
        }
        return base + now;
    }
    return now;
}

static bool clock_valid(int clock)
{
    return clock >= CLOCK_REALTIME && clock <= CLOCK_BOOTTIME;
}

static int timespec_in(uint64_t uts, uint64_t *ns)
{
    struct user_timespec ts;

    if (uvm_copy_in(uvm(), &ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
        return -EINVAL;
    *ns = (uint64_t)ts.sec >= UINT64_MAX / NSEC_PER_SEC / 4
              ? UINT64_MAX / 4
              : (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
    return 0;
}

static int timespec_out(uint64_t uts, uint64_t ns)
{
    struct user_timespec ts = {(int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC)};

    return uvm_copy_out(uvm(), uts, &ts, sizeof(ts));
}

/* Sleep until the system counter reaches deadline: 0, or -EINTR with the time left in urem. */
static int64_t sleep_until(uint64_t deadline, uint64_t urem)
{
    struct uthread *self = uthread_current();
    int err = uthread_wait_interruptible(self, &sleep_wq, false, deadline);

    if (err != -EINTR)
        return 0;
    uint64_t now = timer_counter();
    if (urem && timespec_out(urem, now < deadline ? timer_ticks_to_ns(deadline - now) : 0))
        return -EFAULT;
    return -EINTR;
}

int64_t sys_nanosleep(const uint64_t *a)
{
    uint64_t ns;
    int err = timespec_in(a[0], &ns);

    if (err)
        return err;
    return sleep_until(timer_counter() + timer_ns_to_ticks(ns), a[1]);
}

int64_t sys_clock_nanosleep(const uint64_t *a)
{
    int clock = (int)a[0];
    uint64_t ns;

    if (!clock_valid(clock) || clock == CLOCK_THREAD_CPUTIME_ID ||
        (a[1] & ~(uint64_t)TIMER_ABSTIME))
        return -EINVAL;
    int err = timespec_in(a[2], &ns);
    if (err)
        return err;
    if (a[1] & TIMER_ABSTIME) {
        uint64_t now = sys_clock_ns(clock);
        ns = ns > now ? ns - now : 0;
    }
    return sleep_until(timer_counter() + timer_ns_to_ticks(ns), (a[1] & TIMER_ABSTIME) ? 0 : a[3]);
}

int64_t sys_clock_gettime(const uint64_t *a)
{
    int clock = (int)a[0];

    if (!clock_valid(clock))
        return -EINVAL;
    uint64_t ns = sys_clock_ns(clock);
    if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID)
        ns = uthread_current()->kt->run_ticks * (NSEC_PER_SEC / HZ); /* this thread's ticks */
    return timespec_out(a[1], ns);
}

int64_t sys_clock_getres(const uint64_t *a)
{
    if (!clock_valid((int)a[0]))
        return -EINVAL;
    uint64_t res = timer_ticks_to_ns(1);
    return a[1] ? timespec_out(a[1], res ? res : 1) : 0;
}

int64_t sys_gettimeofday(const uint64_t *a)
{
    uint64_t ns = sys_clock_ns(CLOCK_REALTIME);
    int64_t tv[2] = {(int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC / 1000)};
    int64_t tz[1] = {0};

    if (a[0] && uvm_copy_out(uvm(), a[0], tv, sizeof(tv)))
        return -EFAULT;
    if (a[1] && uvm_copy_out(uvm(), a[1], tz, sizeof(tz)))
        return -EFAULT;
    return 0;
}

int64_t sys_sched_yield(const uint64_t *a)
{
    (void)a;
    thread_yield();
    return 0;
}

/* The thread a scheduling call names: 0 is the caller. Holds a reference on *owner. */
static struct uthread *sched_target(int tid, struct proc **owner)
{
    struct uthread *self = uthread_current();

    if (tid < 0)
        return NULL;
    if (tid == 0 || tid == self->tid) {
        proc_get(self->proc);
        *owner = self->proc;
        return self;
    }
    return proc_find_thread(tid, owner);
}

/*
 * Nice values map onto scheduler priorities around the default: nice 0 is THREAD_PRIO_DEFAULT
 * (20), nice -20 is 40 (the shell's level), nice 19 is 1. Like Linux, nice is per thread.
 */
int64_t sys_setpriority(const uint64_t *a)
{
    struct proc *p;
    int nice = (int)a[2];

    if (a[0] != PRIO_PROCESS)
        return -EINVAL;
    if (nice < NICE_MIN)
        nice = NICE_MIN;
    if (nice > NICE_MAX)
        nice = NICE_MAX;
    struct uthread *ut = sched_target((int)a[1], &p);
    if (!ut)
        return -ESRCH;
    struct thread *kt = __atomic_load_n(&ut->kt, __ATOMIC_ACQUIRE);
    int err = kt ? thread_set_priority(kt, THREAD_PRIO_DEFAULT - nice) : -ESRCH;
    proc_put(p);
    return err;
}

int64_t sys_getpriority(const uint64_t *a)
{
    struct proc *p;

    if (a[0] != PRIO_PROCESS)
        return -EINVAL;
    struct uthread *ut = sched_target((int)a[1], &p);
    if (!ut)
        return -ESRCH;
    struct thread *kt = __atomic_load_n(&ut->kt, __ATOMIC_ACQUIRE);
    /* The raw call returns 20 - nice (always positive), as Linux does; libc converts. */
    int64_t ret = kt ? kt->base_prio : -ESRCH;
    proc_put(p);
    return ret;
}

int64_t sys_sched_setaffinity(const uint64_t *a)
{
    struct proc *p;
    cpumask_t mask = 0;
    size_t len = a[1] < sizeof(mask) ? (size_t)a[1] : sizeof(mask);

    if (uvm_copy_in(uvm(), &mask, a[2], len))
        return -EFAULT;
    struct uthread *ut = sched_target((int)a[0], &p);
    if (!ut)
        return -ESRCH;
    struct thread *kt = __atomic_load_n(&ut->kt, __ATOMIC_ACQUIRE);
    int err = kt ? thread_set_affinity(kt, mask) : -ESRCH;
    proc_put(p);
    return err;
}

int64_t sys_sched_getaffinity(const uint64_t *a)
{
    struct proc *p;
    cpumask_t mask;

    if (a[1] < sizeof(mask) || (a[1] & 7))
        return -EINVAL;
    struct uthread *ut = sched_target((int)a[0], &p);
    if (!ut)
        return -ESRCH;
    struct thread *kt = __atomic_load_n(&ut->kt, __ATOMIC_ACQUIRE);
    mask = kt ? kt->affinity & sched_online_cpus() : 0;
    proc_put(p);
    if (!kt)
        return -ESRCH;
    return uvm_copy_out(uvm(), a[2], &mask, sizeof(mask)) ? -EFAULT : (int64_t)sizeof(mask);
}

int64_t sys_getcpu(const uint64_t *a)
{
    unsigned int cpu = cpu_id(), node = 0;

    if (a[0] && uvm_copy_out(uvm(), a[0], &cpu, sizeof(cpu)))
        return -EFAULT;
    if (a[1] && uvm_copy_out(uvm(), a[1], &node, sizeof(node)))
        return -EFAULT;
    return 0;
}

int64_t sys_getrandom(const uint64_t *a)
{
    /* Not cryptographic: a xorshift generator stirred with the system counter. */
    static uint64_t state = 0x9e3779b97f4a7c15ULL;
    uint64_t len = a[1] > 256 ? 256 : a[1], done = 0;

    while (done < len) {
        uint64_t x = __atomic_load_n(&state, __ATOMIC_RELAXED) ^ timer_counter();
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        __atomic_store_n(&state, x, __ATOMIC_RELAXED);
        size_t n = len - done < 8 ? (size_t)(len - done) : 8;
        if (uvm_copy_out(uvm(), a[0] + done, &x, n))
            return -EFAULT;
        done += n;
    }
    return (int64_t)done;
}

int64_t sys_futex(const uint64_t *a)
{
    return futex_syscall(a[0], (int)a[1], (uint32_t)a[2], a[3], a[4], (uint32_t)a[5]);
}
