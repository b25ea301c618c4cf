/* sys_proc.c - process system calls: ids, groups and sessions, clone, execve, exit, wait4. */
#include "fs/vfs.h"
#include "kernel/exec.h"
#include "kernel/fd.h"
#include "kernel/kmalloc.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/version.h"
#include "lib/errno.h"
#include "lib/string.h"

/* clone flags (include/uapi/linux/sched.h). */
#define CSIGNAL              0xff
#define CLONE_VM             0x100
#define CLONE_FS             0x200
#define CLONE_FILES          0x400
#define CLONE_SIGHAND        0x800
#define CLONE_VFORK          0x4000
#define CLONE_THREAD         0x10000
#define CLONE_SYSVSEM        0x40000
#define CLONE_SETTLS         0x80000
#define CLONE_PARENT_SETTID  0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED       0x400000
#define CLONE_CHILD_SETTID   0x1000000
#define CLONE_KNOWN                                                                                \
    (CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_THREAD |    \
     CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED |  \
     CLONE_CHILD_SETTID)
#define CLONE_THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND)
#define WNOHANG            1
#define WUNTRACED          2
#define WCONTINUED         8
#define RUSAGE_SIZE        144
#define UTS_LEN            65

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

int64_t sys_getpid(const uint64_t *a)
{
    (void)a;
    return proc_current()->pid;
}

int64_t sys_getppid(const uint64_t *a)
{
    (void)a;
    return proc_parent_pid(proc_current());
}

int64_t sys_gettid(const uint64_t *a)
{
    (void)a;
    return uthread_current()->tid;
}

int64_t sys_getuid(const uint64_t *a)
{
    (void)a;
    return 0;
}

int64_t sys_set_tid_address(const uint64_t *a)
{
    struct uthread *self = uthread_current();

    self->clear_child_tid = a[0];
    return self->tid;
}

int64_t sys_exit(const uint64_t *a)
{
    uthread_current()->exit_code = (int)a[0];
    uthread_exit();
}

int64_t sys_exit_group(const uint64_t *a)
{
    proc_terminate(proc_current(), PROC_STATUS_EXITED((int)a[0]));
    uthread_exit();
}

int64_t sys_setpgid(const uint64_t *a)
{
    return proc_setpgid(proc_current(), (int)a[0], (int)a[1]);
}

int64_t sys_getpgid(const uint64_t *a)
{
    return proc_getpgid(proc_current(), (int)a[0]);
}

int64_t sys_getsid(const uint64_t *a)
{
    return proc_getsid(proc_current(), (int)a[0]);
}

int64_t sys_setsid(const uint64_t *a)
{
    (void)a;
    return proc_setsid(proc_current());
}

int64_t sys_uname(const uint64_t *a)
{
    static const char fields[6][UTS_LEN] = {"Avatar", "avatar",  AVATAR_VERSION,
                                            "#1 SMP", "aarch64", "(none)"};

    return uvm_copy_out(uvm(), a[0], fields, sizeof(fields));
}

int64_t sys_wait4(const uint64_t *a)
{
    int status = 0;
    char rusage[RUSAGE_SIZE];

    if (a[2] & ~(uint64_t)(WNOHANG | WUNTRACED | WCONTINUED | 0x40000000 /* __WALL */ |
                           0x80000000 /* __WCLONE */))
        return -EINVAL;
    int pid = proc_wait(proc_current(), (int)a[0], &status,
                        (int)(a[2] & (WNOHANG | WUNTRACED | WCONTINUED)));
    if (pid == -EINTR)
        return -ERESTARTSYS;
    if (pid <= 0)
        return pid;
    if (a[1] && uvm_copy_out(uvm(), a[1], &status, sizeof(status)))
        return -EFAULT;
    memset(rusage, 0, sizeof(rusage));
    if (a[3] && uvm_copy_out(uvm(), a[3], rusage, sizeof(rusage)))
        return -EFAULT;
    return pid;
}

int64_t sys_execve(const uint64_t *a)
{
    return exec_syscall(a[0], a[1], a[2]);
}

/* A new process: copy-on-write memory (or shared with CLONE_VM), the same files. */
static int64_t clone_process(uint64_t flags, const struct trap_frame *start, uint64_t tls,
                             uint64_t ptid, uint64_t ctid)
{
    struct uthread *self = uthread_current();
    struct proc *p = self->proc, *child = proc_alloc(p, p->name);

    if (!child)
        return -EAGAIN;
    int err = 0;
    if (flags & CLONE_VM) {
        aspace_get(p->as);
        child->as = p->as;
    } else {
        err = aspace_fork(p->as, &child->as);
    }
    if (!err) {
        fd_copy(child, p);
        signal_fork(child, p);
        unsigned long irq = spin_lock_irqsave(&p->lock);
        memcpy(child->cwd, p->cwd, VFS_PATH_MAX);
        memcpy(child->exe, p->exe, PROC_EXE_MAX);
        memcpy(child->cmdline, p->cmdline, PROC_CMDLINE_MAX);
        child->cmdline_len = p->cmdline_len;
        spin_unlock_irqrestore(&p->lock, irq);
    }
    int pid = child->pid;
    /* The ids are written before the child runs, as the caller may rely on (pthread, fork). */
    if (!err && (flags & CLONE_PARENT_SETTID))
        err = uvm_copy_out(p->as->uvm, ptid, &pid, sizeof(pid));
    if (!err && (flags & CLONE_CHILD_SETTID))
        err = uvm_copy_out(child->as->uvm, ctid, &pid, sizeof(pid));
    if (!err)
        err = uthread_create(child, pid, start, tls, &self->fp, self->kt->base_prio,
                             self->kt->affinity, (flags & CLONE_CHILD_CLEARTID) ? ctid : 0,
                             self->sig_mask, &self->altstack);
    if (err) {
        proc_abort(child);
        return err;
    }
    if (flags & CLONE_VFORK)
        proc_vfork_wait(child);
    return pid;
}

static int64_t clone_thread(uint64_t flags, const struct trap_frame *start, uint64_t tls,
                            uint64_t ptid, uint64_t ctid)
{
    struct uthread *self = uthread_current();
    int tid = proc_alloc_tid();

    if (tid < 0)
        return tid;
    if ((flags & CLONE_PARENT_SETTID) && uvm_copy_out(uvm(), ptid, &tid, sizeof(tid)))
        return -EFAULT;
    if ((flags & CLONE_CHILD_SETTID) && uvm_copy_out(uvm(), ctid, &tid, sizeof(tid)))
        return -EFAULT;
    int err = uthread_create(self->proc, tid, start, tls, &self->fp, self->kt->base_prio,
                             self->kt->affinity, (flags & CLONE_CHILD_CLEARTID) ? ctid : 0,
                             self->sig_mask, NULL); /* as Linux: threads start without one */
    return err ? err : tid;
}

int64_t sys_clone(const uint64_t *a)
{
    /* arm64 argument order: flags, stack, parent_tid, tls, child_tid. */
    uint64_t flags = a[0], stack = a[1], ptid = a[2], tls = a[3], ctid = a[4];
    struct uthread *self = uthread_current();
    struct trap_frame start = *self->tf;

    if (flags & ~(uint64_t)CLONE_KNOWN)
        return -EINVAL;
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return -EINVAL;
    if (stack & 15)
        return -EINVAL;
    start.x[0] = 0; /* the child's return value */
    if (stack)
        start.sp = stack;
    if (!(flags & CLONE_SETTLS))
        tls = self->tls;
    if (flags & CLONE_THREAD) {
        if ((flags & CLONE_THREAD_NEEDS) != CLONE_THREAD_NEEDS)
            return -EINVAL;
        return clone_thread(flags, &start, tls, ptid, ctid);
    }
    /* Separate processes never share a descriptor table or signal handlers here. */
    if (flags & (CLONE_FILES | CLONE_SIGHAND))
        return -EINVAL;
    return clone_process(flags, &start, tls, ptid, ctid);
}
