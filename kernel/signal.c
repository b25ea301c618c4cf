/* signal.c - signals: pending sets, default actions, the arm64 signal frame and its return. */
#include "kernel/signal.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "lib/errno.h"
#include "lib/string.h"

#define SIGCONT          18
#define SIGTSTP          20
#define SIGTTIN          21
#define SIGTTOU          22
#define SIGURG           23
#define SIGWINCH         28
#define SI_USER          0
#define FPSIMD_MAGIC     0x46508001   /* arch/arm64/include/uapi/asm/sigcontext.h */
#define PSTATE_USER_BITS 0xf0000000UL /* NZCV: all a frame may set (EL0t, AArch64, DAIF clear) */

/** Linux's struct fpsimd_context: the first record in sigcontext.__reserved. */
struct user_fpsimd_context {
    uint32_t magic, size;
    uint32_t fpsr, fpcr;
    uint64_t vregs[64];
};

/** Linux's struct sigcontext (arm64). */
struct user_sigcontext {
    uint64_t fault_address;
    uint64_t regs[31];
    uint64_t sp, pc, pstate;
    uint8_t reserved[4096] __attribute__((aligned(16)));
};

/** Linux's struct ucontext (arm64), with its 1024-bit sigset area. */
struct user_ucontext {
    uint64_t flags, link;
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
    uint64_t sigmask;
    uint8_t unused[120];
    struct user_sigcontext mcontext;
};

/** Linux's struct rt_sigframe, then the frame record x29 points at. */
struct sig_frame {
    int32_t info[32]; /* siginfo: signo, errno, code, pad, then the sender's pid and uid */
    struct user_ucontext uc;
    uint64_t fp, lr;
};

_Static_assert(__builtin_offsetof(struct user_ucontext, mcontext) == 176, "ucontext layout");

/*
 * The part of a frame that holds anything: up to the FP/SIMD record and the zero header that
 * ends the record list. The rest of the 4 KiB reserved area is left as it was on the stack (as
 * Linux does), so a signal moves about 1 KiB each way instead of 4.7.
 */
#define SIG_FRAME_USED                                                                             \
    (__builtin_offsetof(struct sig_frame, uc.mcontext.reserved) +                                  \
     sizeof(struct user_fpsimd_context) + 16)
#define SIG_FRAME_RECORD __builtin_offsetof(struct sig_frame, fp)
_Static_assert(__builtin_offsetof(struct user_sigcontext, reserved) == 288, "sigcontext layout");

/* Default action "ignore" (signal(7)). */
static bool sig_default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

/* Default action "stop" (signal(7)). */
static bool sig_stops(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

#define SIG_STOP_SET (SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))

bool signal_nocldstop(struct proc *parent)
{
    unsigned long flags = spin_lock_irqsave(&parent->lock);
    bool no = parent->sig_actions[SIGCHLD - 1].flags & SA_NOCLDSTOP;

    spin_unlock_irqrestore(&parent->lock, flags);
    return no;
}

static bool sig_ignored(const struct sig_action *act, int sig)
{
    return act->handler == SIG_IGN || (act->handler == SIG_DFL && sig_default_ignored(sig));
}

void signal_send(struct proc *p, int sig)
{
    if (sig == SIGKILL) {
        proc_terminate(p, PROC_STATUS_SIGNALED(sig));
        return;
    }
    /* SIGCONT and the stop signals cancel each other's pending instances (signal(7)). */
    if (sig == SIGCONT) {
        __atomic_and_fetch(&p->sig_pending, ~SIG_STOP_SET, __ATOMIC_SEQ_CST);
        __atomic_store_n(&p->cont_pending, true, __ATOMIC_SEQ_CST);
        wait_wake_all(&p->stop_wq);
    } else if (sig_stops(sig)) {
        __atomic_and_fetch(&p->sig_pending, ~SIG_BIT(SIGCONT), __ATOMIC_SEQ_CST);
        __atomic_store_n(&p->cont_pending, false, __ATOMIC_SEQ_CST);
    }
    unsigned long flags = spin_lock_irqsave(&p->lock);
    if (sig_ignored(&p->sig_actions[sig - 1], sig)) {
        spin_unlock_irqrestore(&p->lock, flags);
        return;
    }
    __atomic_or_fetch(&p->sig_pending, SIG_BIT(sig), __ATOMIC_SEQ_CST);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct uthread *ut = list_entry(n, struct uthread, link);
        struct wait_queue *wq = __atomic_load_n(&ut->waiting_on, __ATOMIC_SEQ_CST);
        if (wq && !(__atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST) & SIG_BIT(sig)))
            wait_wake_all(wq);
    }
    spin_unlock_irqrestore(&p->lock, flags);
}

bool signal_work(struct uthread *ut)
{
    return ut->syscall_restart || ut->sig_restore_mask || uthread_signal_pending(ut);
}

static void signal_restart_syscall(struct uthread *ut)
{
    ut->tf->x[0] = ut->syscall_x0;
    ut->tf->elr -= 4; /* the SVC again */
}

/* Whether sp is on ut's alternate signal stack (Linux's on_sig_stack: the top is inside). */
static bool signal_on_altstack(const struct uthread *ut, uint64_t sp)
{
    return ut->altstack.size && sp > ut->altstack.sp && sp - ut->altstack.sp <= ut->altstack.size;
}

/* ss_flags of ut's alternate stack as seen from sp. */
static int32_t signal_altstack_flags(const struct uthread *ut, uint64_t sp)
{
    return signal_on_altstack(ut, sp) ? SS_ONSTACK : ut->altstack.size ? 0 : SS_DISABLE;
}

/*
 * Push the frame and enter the handler; false if the user stack cannot take it. With
 * SA_ONSTACK the frame goes on the alternate stack unless the thread already runs on it.
 */
static bool signal_setup_frame(struct uthread *ut, int sig, const struct sig_action *act)
{
    struct trap_frame *tf = ut->tf;
    struct sig_frame *f = kmalloc(sizeof(*f));
    uint64_t old_mask = __atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST);

    if (!f)
        return false;
    memset(f, 0, SIG_FRAME_USED);
    if (ut->sig_restore_mask) {
        old_mask = ut->sig_saved_mask;
        ut->sig_restore_mask = false;
    }
    uint64_t base = tf->sp;
    if ((act->flags & SA_ONSTACK) && ut->altstack.size && !signal_on_altstack(ut, tf->sp))
        base = ut->altstack.sp + ut->altstack.size;
    uint64_t sp = (base - sizeof(*f)) & ~15UL;
    f->uc.ss_sp = ut->altstack.sp;
    f->uc.ss_flags = signal_altstack_flags(ut, tf->sp);
    f->uc.ss_size = ut->altstack.size;
    f->info[0] = sig;
    f->info[2] = SI_USER;
    f->uc.sigmask = old_mask;
    memcpy(f->uc.mcontext.regs, tf->x, sizeof(f->uc.mcontext.regs));
    f->uc.mcontext.sp = tf->sp;
    f->uc.mcontext.pc = tf->elr;
    f->uc.mcontext.pstate = tf->spsr;
    struct user_fpsimd_context *fp = (struct user_fpsimd_context *)f->uc.mcontext.reserved;
    fp->magic = FPSIMD_MAGIC;
    fp->size = sizeof(*fp);
    fp->fpsr = ut->fp.fpsr;
    fp->fpcr = ut->fp.fpcr;
    memcpy(fp->vregs, ut->fp.v, sizeof(fp->vregs)); /* then a zero header: the end */
    f->fp = tf->x[29];
    f->lr = tf->x[30];
    bool ok = sp < base && uvm_range_ok(sp, sizeof(*f)) &&
              !uvm_copy_out(ut->proc->as->uvm, sp, f, SIG_FRAME_USED) &&
              !uvm_copy_out(ut->proc->as->uvm, sp + SIG_FRAME_RECORD, &f->fp, 2 * sizeof(f->fp));
    kfree(f);
    if (!ok)
        return false;
    tf->x[0] = (uint64_t)sig;
    tf->x[1] = sp + __builtin_offsetof(struct sig_frame, info);
    tf->x[2] = sp + __builtin_offsetof(struct sig_frame, uc);
    tf->x[29] = sp + __builtin_offsetof(struct sig_frame, fp);
    tf->x[30] = (act->flags & SA_RESTORER) ? act->restorer : ASPACE_SIGPAGE;
    tf->sp = sp;
    tf->elr = act->handler;
    uint64_t mask = old_mask | act->mask | ((act->flags & SA_NODEFER) ? 0 : SIG_BIT(sig));
    __atomic_store_n(&ut->sig_mask, mask & ~SIG_UNBLOCKABLE, __ATOMIC_SEQ_CST);
    return true;
}

/* The lowest pending signal ut does not block, taken off the pending set; 0 if none. */
static int signal_take(struct uthread *ut)
{
    for (;;) {
        uint64_t ready = uthread_signal_pending(ut);
        if (!ready)
            return 0;
        int sig = __builtin_ctzll(ready) + 1;
        uint64_t before =
            __atomic_fetch_and(&ut->proc->sig_pending, ~SIG_BIT(sig), __ATOMIC_SEQ_CST);
        if (before & SIG_BIT(sig))
            return sig; /* else another thread took it first */
    }
}

void signal_deliver(struct uthread *ut)
{
    struct proc *p = ut->proc;
    bool restart = ut->syscall_restart;
    int sig;

    ut->syscall_restart = false;
    while ((sig = signal_take(ut))) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        struct sig_action act = p->sig_actions[sig - 1];
        if ((act.flags & SA_RESETHAND) && act.handler > SIG_IGN)
            p->sig_actions[sig - 1].handler = SIG_DFL;
        spin_unlock_irqrestore(&p->lock, flags);
        if (sig_ignored(&act, sig))
            continue;
        if (act.handler == SIG_DFL && sig_stops(sig)) {
            proc_stop(ut, sig); /* back when continued (or killed) */
            continue;
        }
        if (act.handler == SIG_DFL) {
            proc_terminate(p, PROC_STATUS_SIGNALED(sig));
            return;
        }
        if (restart) {
            if (act.flags & SA_RESTART)
                signal_restart_syscall(ut);
            else
                ut->tf->x[0] = (uint64_t)-EINTR;
        }
        if (!signal_setup_frame(ut, sig, &act) &&
            proc_terminate(p, PROC_STATUS_SIGNALED(SIGSEGV) | PROC_STATUS_REPORTED))
            kprintf("pid %d (%s): no room for a signal frame at sp 0x%lx\n", p->pid, p->name,
                    (unsigned long)ut->tf->sp);
        return; /* one handler at a time: the next signal at the next return */
    }
    if (restart)
        signal_restart_syscall(ut);
    if (ut->sig_restore_mask) {
        __atomic_store_n(&ut->sig_mask, ut->sig_saved_mask, __ATOMIC_SEQ_CST);
        ut->sig_restore_mask = false;
    }
}

/* A forged or damaged frame ends the process (as Linux's SIGSEGV on a bad rt_sigreturn). */
static int64_t signal_bad_frame(struct uthread *ut, uint64_t sp)
{
    struct proc *p = ut->proc;

    if (proc_terminate(p, PROC_STATUS_SIGNALED(SIGSEGV) | PROC_STATUS_REPORTED))
        kprintf("pid %d (%s): bad signal frame at sp 0x%lx\n", p->pid, p->name, (unsigned long)sp);
    return -EFAULT;
}

int64_t sys_rt_sigreturn(const uint64_t *a)
{
    (void)a;
    struct uthread *ut = uthread_current();
    struct trap_frame *tf = ut->tf;
    uint64_t sp = tf->sp;
    struct sig_frame *f = kmalloc(sizeof(*f));

    if (!f)
        return signal_bad_frame(ut, sp);
    const struct user_fpsimd_context *fp =
        (const struct user_fpsimd_context *)f->uc.mcontext.reserved;
    bool ok = !(sp & 15) && uvm_range_ok(sp, sizeof(*f)) &&
              !uvm_copy_in(ut->proc->as->uvm, f, sp, SIG_FRAME_USED) &&
              !(f->uc.mcontext.pstate & ~PSTATE_USER_BITS) && fp->magic == FPSIMD_MAGIC &&
              fp->size == sizeof(*fp);
    if (!ok) {
        kfree(f);
        return signal_bad_frame(ut, sp);
    }
    memcpy(tf->x, f->uc.mcontext.regs, sizeof(tf->x));
    tf->sp = f->uc.mcontext.sp;
    tf->elr = f->uc.mcontext.pc;
    tf->spsr = f->uc.mcontext.pstate;
    ut->fp.fpsr = fp->fpsr;
    ut->fp.fpcr = fp->fpcr;
    memcpy(ut->fp.v, fp->vregs, sizeof(ut->fp.v));
    ut->fp_cpu = -1; /* load the restored registers on the way out */
    __atomic_store_n(&ut->sig_mask, f->uc.sigmask & ~SIG_UNBLOCKABLE, __ATOMIC_SEQ_CST);
    kfree(f);
    return (int64_t)tf->x[0]; /* the dispatcher writes x0: give it the restored value */
}

void signal_fork(struct proc *child, struct proc *parent)
{
    unsigned long flags = spin_lock_irqsave(&parent->lock);

    memcpy(child->sig_actions, parent->sig_actions, sizeof(child->sig_actions));
    spin_unlock_irqrestore(&parent->lock, flags);
}

void signal_exec(struct proc *p)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);

    for (int i = 0; i < SIG_MAX; i++) {
        if (p->sig_actions[i].handler != SIG_IGN)
            p->sig_actions[i] = (struct sig_action){SIG_DFL, 0, 0, 0};
    }
    spin_unlock_irqrestore(&p->lock, flags);
}

/** Linux's stack_t (arm64). */
struct user_stack {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};

int64_t sys_sigaltstack(const uint64_t *a)
{
    struct uthread *ut = uthread_current();
    uint64_t now = ut->tf->sp;
    struct user_stack old = {ut->altstack.sp, signal_altstack_flags(ut, now), 0, ut->altstack.size};
    struct user_stack ss;

    if (a[0]) {
        if (uvm_copy_in(ut->proc->as->uvm, &ss, a[0], sizeof(ss)))
            return -EFAULT;
        if (signal_on_altstack(ut, now))
            return -EPERM; /* not while running on it */
        if (ss.flags == SS_DISABLE)
            ut->altstack = (struct sig_altstack){0, 0};
        else if (ss.flags != 0 && ss.flags != SS_ONSTACK)
            return -EINVAL; /* SS_AUTODISARM is not supported */
        else if (ss.size < SIG_MINSTKSZ)
            return -ENOMEM;
        else
            ut->altstack = (struct sig_altstack){ss.sp, ss.size};
    }
    if (a[1] && uvm_copy_out(ut->proc->as->uvm, a[1], &old, sizeof(old)))
        return -EFAULT;
    return 0;
}
