/* signal.h - POSIX signals for user processes: sending, default actions, handlers and frames. */
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H

#include <stdint.h>

#include "kernel/proc.h"

/*
 * Kernel-internal return value (never seen by user mode, as in Linux): the call was interrupted
 * by a signal; it is restarted unless a handler without SA_RESTART runs, which sees -EINTR.
 */
#define ERESTARTSYS 512

#define SIG_DFL      0
#define SIG_IGN      1
#define SA_NOCLDSTOP 0x00000001
#define SA_NOCLDWAIT 0x00000002
#define SA_SIGINFO   0x00000004
#define SA_RESTORER  0x04000000
#define SA_ONSTACK   0x08000000
/* sigaltstack ss_flags, and the least alternate stack (arm64 MINSIGSTKSZ). */
#define SS_ONSTACK      1
#define SS_DISABLE      2
#define SIG_MINSTKSZ    5120
#define SA_RESTART      0x10000000
#define SA_NODEFER      0x40000000
#define SA_RESETHAND    0x80000000
#define SIG_UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))

/*
 * Send sig (1..SIG_MAX) to process p: SIGKILL ends it at once; an ignored signal is dropped;
 * anything else is left pending for a thread that does not block it, and sleepers that could
 * take it are woken. Takes only spinlocks: callable from interrupt handlers (the terminal's ^C).
 */
void signal_send(struct proc *p, int sig);
/* Whether parent's SIGCHLD action asks not to hear of children stopping (SA_NOCLDSTOP). */
bool signal_nocldstop(struct proc *parent);
/*
 * On the way back to user mode (IRQs enabled): take one pending signal of ut and act on it (end
 * the process, or run the handler on a frame pushed on the user stack); restart or fail an
 * interrupted system call; put back a mask rt_sigsuspend replaced.
 */
void signal_deliver(struct uthread *ut);
/* Is there anything for signal_deliver to do? */
bool signal_work(struct uthread *ut);
/* fork: the child's actions are the parent's. */
void signal_fork(struct proc *child, struct proc *parent);
/* execve: handlers go back to the default action (ignored signals stay ignored). */
void signal_exec(struct proc *p);

#endif
