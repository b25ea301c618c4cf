/* sys_info.c - what glibc and busybox ask about the system: limits, groups, sysinfo, prctl. */
#include "kernel/aspace.h"
#include "kernel/loadavg.h"
#include "kernel/page_alloc.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/string.h"

#define RLIMIT_STACK   3
#define RLIMIT_NOFILE  7
#define RLIM_NLIMITS   16
#define RLIM_INFINITY  (~0ULL)
#define SI_LOAD_SHIFT  16
#define PR_SET_NAME    15
#define PR_GET_NAME    16
#define ROBUST_HEAD_SZ 24 /* struct robust_list_head */

struct user_rlimit {
    uint64_t cur, max;
};

/** Linux's struct sysinfo (64-bit). */
struct user_sysinfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    char reserved[4];
};

_Static_assert(sizeof(struct user_sysinfo) == 112, "struct sysinfo layout");

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

/* The limits in force: fixed by the kernel's design, so they cannot be changed. */
static struct user_rlimit rlimit_of(unsigned int resource)
{
    if (resource == RLIMIT_NOFILE)
        return (struct user_rlimit){PROC_MAX_FDS, PROC_MAX_FDS};
    if (resource == RLIMIT_STACK)
        return (struct user_rlimit){ASPACE_STACK_SIZE, ASPACE_STACK_SIZE};
    return (struct user_rlimit){RLIM_INFINITY, RLIM_INFINITY};
}

/* Get *old and "set" *new_limit: only to what is in force already (-EPERM otherwise). */
static int64_t rlimit_op(unsigned int resource, uint64_t unew, uint64_t uold)
{
    if (resource >= RLIM_NLIMITS)
        return -EINVAL;
    struct user_rlimit now = rlimit_of(resource), want;
    if (unew) {
        if (uvm_copy_in(uvm(), &want, unew, sizeof(want)))
            return -EFAULT;
        if (want.cur > want.max)
            return -EINVAL;
        if (want.cur != now.cur || want.max != now.max)
            return -EPERM;
    }
    return uold && uvm_copy_out(uvm(), uold, &now, sizeof(now)) ? -EFAULT : 0;
}

int64_t sys_prlimit64(const uint64_t *a)
{
    int pid = (int)a[0];

    if (pid < 0)
        return -EINVAL;
    if (pid && pid != proc_current()->pid) {
        struct proc *p = proc_find(pid);
        if (!p)
            return -ESRCH;
        proc_put(p); /* the limits are the same for everyone */
    }
    return rlimit_op((unsigned int)a[1], a[2], a[3]);
}

int64_t sys_getrlimit(const uint64_t *a)
{
    return rlimit_op((unsigned int)a[0], 0, a[1]);
}

int64_t sys_setrlimit(const uint64_t *a)
{
    return a[1] ? rlimit_op((unsigned int)a[0], a[1], 0) : -EFAULT;
}

int64_t sys_getgroups(const uint64_t *a)
{
    /* Everyone is root with no supplementary groups. */
    return (int)a[0] < 0 ? -EINVAL : 0;
}

int64_t sys_set_robust_list(const uint64_t *a)
{
    /*
     * glibc registers its robust mutex list at start. Only the size is checked: robust mutexes
     * whose owner dies are not recovered here (a waiter would wait for the dead owner).
     */
    return a[1] == ROBUST_HEAD_SZ ? 0 : -EINVAL;
}

int64_t sys_sysinfo(const uint64_t *a)
{
    struct user_sysinfo si;
    struct page_stats ps;
    unsigned long avg[3];

    memset(&si, 0, sizeof(si));
    si.uptime = (int64_t)(time_now_ns() / 1000000000ULL);
    loadavg_get(avg);
    for (int i = 0; i < 3; i++)
        si.loads[i] = avg[i] << (SI_LOAD_SHIFT - LOADAVG_FSHIFT);
    page_alloc_stats(&ps);
    si.totalram = ps.total_pages;
    si.freeram = ps.free_pages;
    si.procs = (uint16_t)proc_snapshot(NULL, 0);
    si.mem_unit = PAGE_SIZE;
    return uvm_copy_out(uvm(), a[0], &si, sizeof(si)) ? -EFAULT : 0;
}

int64_t sys_prctl(const uint64_t *a)
{
    struct proc *p = proc_current();
    char name[PROC_NAME_MAX];
    unsigned long flags;

    switch (a[0]) {
    case PR_SET_NAME: {
        long len = uvm_strncpy_in(uvm(), name, a[1], sizeof(name));
        if (len == -ENAMETOOLONG) {
            if (uvm_copy_in(uvm(), name, a[1], sizeof(name) - 1))
                return -EFAULT;
            name[sizeof(name) - 1] = '\0'; /* Linux truncates */
        } else if (len < 0) {
            return len;
        }
        flags = spin_lock_irqsave(&p->lock);
        memcpy(p->name, name, sizeof(name));
        spin_unlock_irqrestore(&p->lock, flags);
        return 0;
    }
    case PR_GET_NAME:
        flags = spin_lock_irqsave(&p->lock);
        memcpy(name, p->name, sizeof(name));
        spin_unlock_irqrestore(&p->lock, flags);
        return uvm_copy_out(uvm(), a[1], name, sizeof(name)) ? -EFAULT : 0;
    default: return -EINVAL;
    }
}
