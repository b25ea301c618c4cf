/* sys_signal.c - signal system calls: kill, tgkill, rt_sigaction, rt_sigprocmask, sigsuspend. */
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

#define SIGSET_SIZE 8
#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

static bool sig_valid(uint64_t sig)
{
    return sig >= 1 && sig <= SIG_MAX;
}

int64_t sys_kill(const uint64_t *a)
{
    struct proc *self = proc_current();
    int pid = (int)a[0], sig = (int)a[1];

    /* pid is a C int: as in Linux, the register's upper half is not looked at (glibc leaves
     * it zero for a negative pid, musl sign-extends). */
    if (sig < 0 || sig > SIG_MAX)
        return -EINVAL;
    if (pid > 0)
        return proc_kill(pid, sig);
    if (pid == -1)
        return proc_kill_all(self, sig);
    if (pid == 0)
        return proc_kill_group(proc_getpgid(self, 0), sig);
    if (pid == -2147483647 - 1)
        return -ESRCH;
    return proc_kill_group(-pid, sig);
}

/* Signals go to the process here: one sent to a thread is taken by any thread not blocking it. */
static int64_t kill_thread(int tgid, int tid, int sig)
{
    struct proc *p;

    if (tid <= 0 || sig < 0 || sig > SIG_MAX)
        return -EINVAL;
    struct uthread *ut = proc_find_thread(tid, &p);
    if (!ut)
        return -ESRCH;
    int64_t ret = tgid > 0 && p->pid != tgid ? -ESRCH : 0;
    if (!ret && sig)
        signal_send(p, sig);
    proc_put(p);
    return ret;
}

int64_t sys_tkill(const uint64_t *a)
{
    return kill_thread(0, (int)a[0], (int)a[1]);
}

int64_t sys_tgkill(const uint64_t *a)
{
    if ((int)a[0] <= 0)
        return -EINVAL;
    return kill_thread((int)a[0], (int)a[1], (int)a[2]);
}

int64_t sys_rt_sigaction(const uint64_t *a)
{
    struct proc *p = proc_current();
    struct sig_action act, old;
    int sig = (int)a[0];

    if (a[3] != SIGSET_SIZE || !sig_valid(a[0]))
        return -EINVAL;
    if (a[1] && uvm_copy_in(uvm(), &act, a[1], sizeof(act)))
        return -EFAULT;
    if (a[1] && (SIG_BIT(sig) & SIG_UNBLOCKABLE))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    old = p->sig_actions[sig - 1];
    if (a[1]) {
        act.mask &= ~SIG_UNBLOCKABLE;
        p->sig_actions[sig - 1] = act;
    }
    spin_unlock_irqrestore(&p->lock, flags);
    /* Setting SIG_IGN (or a default that ignores) drops the signal if it was pending. */
    if (a[1] && (act.handler == SIG_IGN || (act.handler == SIG_DFL && sig == SIGCHLD)))
        __atomic_and_fetch(&p->sig_pending, ~SIG_BIT(sig), __ATOMIC_SEQ_CST);
    if (a[2] && uvm_copy_out(uvm(), a[2], &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

int64_t sys_rt_sigprocmask(const uint64_t *a)
{
    struct uthread *ut = uthread_current();
    uint64_t set, old = __atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST);

    if (a[3] != SIGSET_SIZE || (a[1] && a[0] > SIG_SETMASK))
        return -EINVAL;
    if (a[1] && uvm_copy_in(uvm(), &set, a[1], sizeof(set)))
        return -EFAULT;
    if (a[2] && uvm_copy_out(uvm(), a[2], &old, sizeof(old)))
        return -EFAULT;
    if (!a[1])
        return 0;
    uint64_t mask = a[0] == SIG_BLOCK ? old | set : a[0] == SIG_UNBLOCK ? old & ~set : set;
    __atomic_store_n(&ut->sig_mask, mask & ~SIG_UNBLOCKABLE, __ATOMIC_SEQ_CST);
    return 0;
}

int64_t sys_rt_sigpending(const uint64_t *a)
{
    struct uthread *ut = uthread_current();
    uint64_t pending = __atomic_load_n(&ut->proc->sig_pending, __ATOMIC_SEQ_CST) &
                       __atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST);

    if (a[1] != SIGSET_SIZE)
        return -EINVAL;
    return uvm_copy_out(uvm(), a[0], &pending, sizeof(pending)) ? -EFAULT : 0;
}

int64_t sys_rt_sigsuspend(const uint64_t *a)
{
    struct uthread *ut = uthread_current();
    uint64_t set;

    if (a[1] != SIGSET_SIZE)
        return -EINVAL;
    if (uvm_copy_in(uvm(), &set, a[0], sizeof(set)))
        return -EFAULT;
    /* The old mask comes back after the handler (signal_deliver), not before it runs. */
    ut->sig_saved_mask = __atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST);
    ut->sig_restore_mask = true;
    __atomic_store_n(&ut->sig_mask, set & ~SIG_UNBLOCKABLE, __ATOMIC_SEQ_CST);
    uthread_wait_interruptible(ut, &ut->proc->sig_wq, false, SCHED_NO_DEADLINE);
    return -EINTR;
}
