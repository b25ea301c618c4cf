/* proc.h - user processes and their threads: ids, family, exit and wait, kill, open files. */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/trap.h"
#include "arch/uentry.h"
#include "kernel/aspace.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "lib/list.h"

#define PROC_NAME_MAX    THREAD_NAME_MAX
#define PROC_MAX_FDS     64
#define PROC_MAX_THREADS 64
#define PROC_EXE_MAX     256 /* longest program path /proc/self/exe can name */
#define PROC_CMDLINE_MAX 256 /* argv kept for /proc/<pid>/cmdline (longer ones are cut) */

/* Linux signal numbers (the ones the kernel raises or treats specially) and wait statuses. */
#define SIGINT                    2
#define SIGQUIT                   3
#define SIGILL                    4
#define SIGBUS                    7
#define SIGKILL                   9
#define SIGSEGV                   11
#define SIGPIPE                   13
#define SIGTERM                   15
#define SIGCHLD                   17
#define SIGSTOP                   19
#define SIG_MAX                   64
#define SIG_BIT(sig)              (1ULL << ((sig)-1))
#define PROC_STATUS_EXITED(code)  (((code)&0xff) << 8)
#define PROC_STATUS_SIGNALED(sig) ((sig)&0x7f)
#define PROC_STATUS_REPORTED      0x80    /* WCOREDUMP: the kernel printed why it died */
#define PROC_KILLED               0x10000 /* in proc->killed, above any wait status */

enum fd_kind { FD_NONE, FD_FILE, FD_PIPE, FD_DEV };

struct chrdev_ops;

/** One descriptor: a VFS file, a pipe end (one reference to it), or a character device. */
struct fd {
    enum fd_kind kind;
    struct file *file;            /* FD_FILE */
    struct pipe *pipe;            /* FD_PIPE: the write end if (flags & O_ACCMODE) == O_WRONLY */
    const struct chrdev_ops *dev; /* FD_DEV: the console, /dev/null, ... (chrdev.h) */
    int flags;                    /* open flags (O_ACCMODE, O_APPEND, O_NONBLOCK) */
    bool cloexec;
};

/** What a signal does (Linux struct sigaction on arm64: handler, flags, restorer, mask). */
struct sig_action {
    uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or a user address */
    uint64_t flags;   /* SA_* */
    uint64_t restorer;
    uint64_t mask; /* blocked while the handler runs */
};

enum proc_state { PROC_LIVE, PROC_ZOMBIE };

/**
 * A process. proc_lock (proc.c) protects the family fields, state, wait_status and autoreap;
 * lock protects fds, cwd, threads, nthreads and the as pointer (exec replaces it). refs and
 * killed are atomic.
 */
struct proc {
    int pid;
    char name[PROC_NAME_MAX];
    struct proc *parent;       /* proc_lock; NULL: started by the kernel (the shell) */
    struct list_node children; /* proc_lock */
    struct list_node sibling;  /* proc_lock: in the parent's children */
    struct list_node all_link; /* proc_lock */
    enum proc_state state;     /* proc_lock */
    int wait_status;           /* proc_lock: what wait4 reports once a zombie */
    bool autoreap;             /* proc_lock: nobody will wait; freed when it exits */
    bool vfork_done;           /* proc_lock: a CLONE_VFORK parent may go on */
    int refs;
    int killed; /* atomic, set once: PROC_KILLED | the wait status; then every thread leaves */
    spinlock_t lock;
    struct aspace *as;
    struct fd fds[PROC_MAX_FDS];
    char *cwd;                      /* VFS_PATH_MAX bytes */
    char exe[PROC_EXE_MAX];         /* the program's absolute path ("" if too long) */
    char cmdline[PROC_CMDLINE_MAX]; /* lock: argv, each string NUL-terminated */
    unsigned int cmdline_len;
    struct list_node threads; /* struct uthread */
    unsigned int nthreads;
    unsigned int child_events; /* proc_lock: bumped when a child exits (wait4 sleeps on it) */
    struct wait_queue child_wq;
    struct wait_queue thread_wq;            /* a thread left (exec waits for the others) */
    int pgid, sid;                          /* proc_lock: process group and session */
    struct sig_action sig_actions[SIG_MAX]; /* lock */
    uint64_t sig_pending;                   /* atomic: signals sent, not yet taken */
    struct wait_queue sig_wq;               /* rt_sigsuspend sleeps here */
    bool stopped;              /* proc_lock: a stop signal stopped it, until SIGCONT or SIGKILL */
    int stop_report;           /* proc_lock: news for wait4: 0, PROC_REPORT_STOPPED | sig or
                                  PROC_REPORT_CONTINUED */
    struct wait_queue stop_wq; /* its stopped threads sleep here */
    bool cont_pending;         /* atomic: SIGCONT came since the last stop signal was sent */
};

#define PROC_REPORT_STOPPED   0x100
#define PROC_REPORT_CONTINUED 0x200

/**
 * A user thread: a kernel thread that runs uthread_main with this struct as its thread_ops context
 * (thread_set_ops). Its user registers live in tf, at the top of its kernel stack. Only the thread
 * itself changes its fields, except link (proc->lock) and waiting_on (atomic, read by proc_kill).
 */
/** A thread's alternate signal stack (sigaltstack): [sp, sp + size); size 0: none. */
struct sig_altstack {
    uint64_t sp, size;
};

struct uthread {
    struct thread *kt;
    struct proc *proc;
    int tid;
    struct trap_frame *tf;
    struct trap_frame start; /* first user registers, copied to tf when it starts */
    uint64_t tls;            /* TPIDR_EL0 while in the kernel */
    uint64_t clear_child_tid;
    struct fpsimd_state fp;        /* saved at every entry from EL0 */
    uint64_t serial;               /* never reused: names the FP/SIMD register owner of a CPU */
    int fp_cpu;                    /* CPU whose registers it last loaded, -1: none */
    bool exit_requested;           /* exec in another thread: leave */
    int exit_code;                 /* exit(2) argument: the process's if it is the last to leave */
    struct wait_queue *waiting_on; /* where it sleeps interruptibly, or NULL */
    struct list_node link;
    uint64_t sig_mask;       /* atomic: blocked signals (others read it to pick whom to wake) */
    uint64_t sig_saved_mask; /* rt_sigsuspend: the mask to restore after the handler */
    bool sig_restore_mask;   /* sig_saved_mask is to be restored on the way out */
    bool syscall_restart;    /* the last system call was interrupted and may be restarted */
    uint64_t syscall_x0;     /* its first argument, for the restart */
    struct sig_altstack altstack; /* touched by the thread itself only */
};

/** One line of `procs`: a copy. */
struct proc_info {
    int pid, ppid;
    char name[PROC_NAME_MAX];
    enum proc_state state;
    unsigned int nthreads;
    int prio;         /* main (first) thread's priority */
    unsigned int cpu; /* its CPU */
    uint64_t resident_kib;
    uint64_t virtual_kib; /* every region, committed in full */
    int pgid, sid;
};

/* The running thread's user side, or NULL in a kernel thread. */
struct uthread *uthread_current(void);
static inline struct proc *proc_current(void)
{
    struct uthread *ut = uthread_current();
    return ut ? ut->proc : NULL;
}

/* A new live process (no threads yet), child of parent (NULL: of the kernel). */
struct proc *proc_alloc(struct proc *parent, const char *name);
/* Drop a process that never ran (its threads failed to start). */
void proc_abort(struct proc *p);
void proc_get(struct proc *p);
void proc_put(struct proc *p);
/* The id handed out last (/proc/loadavg). */
int proc_last_pid(void);
/* A fresh thread id (pids and tids share one name space). */
int proc_alloc_tid(void);
/* The last thread of p has left: release its memory and files, become a zombie. */
void proc_exit(struct proc *p);
/* The parent's pid, 0 for a child of the kernel. */
int proc_parent_pid(struct proc *p);
/* Live or zombie process by pid, with a reference; NULL if none. */
struct proc *proc_find(int pid);
/* Thread by tid in any process, with a reference on its process; NULL if none. */
struct uthread *proc_find_thread(int tid, struct proc **owner);

/*
 * Start thread tid (the pid for a process's first thread, else from proc_alloc_tid) in p at the
 * user registers start, with TLS pointer tls and FP/SIMD registers fp (NULL: zero), at prio on
 * the CPUs in affinity. 0, or -EAGAIN / -ENOMEM.
 */
/* altstack: the new thread's sigaltstack (fork keeps the caller's), or NULL for none. */
int uthread_create(struct proc *p, int tid, const struct trap_frame *start, uint64_t tls,
                   const struct fpsimd_state *fp, int prio, cpumask_t affinity,
                   uint64_t clear_child_tid, uint64_t sig_mask,
                   const struct sig_altstack *altstack);
/* Leave: the last thread out turns the process into a zombie. Enables IRQs. */
void uthread_exit(void) __attribute__((noreturn));

/*
 * End process p with wait status (exit_group, kill, a fatal fault). Only the first call counts:
 * true for it. Every thread of p is woken and leaves at its next return towards user mode.
 */
bool proc_terminate(struct proc *p, int status);
/* Signal sig to process pid from user or shell: 0, -ESRCH, -EINVAL. */
int proc_kill(int pid, int sig);
/* Signal sig to every process of group pgid (0: none found gives -ESRCH); from any context. */
int proc_kill_group(int pgid, int sig);
/* kill(-1): every user process except self. */
int proc_kill_all(struct proc *self, int sig);
/* setpgid(pid, pgid) on behalf of self: 0, -ESRCH, -EPERM, -EINVAL. */
int proc_setpgid(struct proc *self, int pid, int pgid);
/* setsid: the new session id, or -EPERM for a group leader. */
int proc_setsid(struct proc *self);
/* getpgid / getsid of pid (0: self): the id or -ESRCH. */
int proc_getpgid(struct proc *self, int pid);
int proc_getsid(struct proc *self, int pid);
/* Is there a process in session sid whose group is pgid? */
bool proc_group_in_session(int pgid, int sid);
/* A process started by the kernel leads a session and process group of its own. */
void proc_new_session(struct proc *p);

/*
 * wait4 for parent (NULL: the kernel's children): a zombie child matching pid (-1: any) is
 * freed and its pid returned with *status; 0 with nohang if none yet; -ECHILD; -EINTR if the
 * caller is killed meanwhile.
 */
/* wait4's options proc_wait takes (Linux values). */
#define PROC_WAIT_NOHANG    1
#define PROC_WAIT_UNTRACED  2
#define PROC_WAIT_CONTINUED 8
/*
 * Wait for a child matching pid (wait4's rule) to exit, or with PROC_WAIT_UNTRACED to stop, or
 * with PROC_WAIT_CONTINUED to be continued: its pid and wait status, 0 (NOHANG, nothing yet),
 * -ECHILD or -EINTR.
 */
int proc_wait(struct proc *parent, int pid, int *status, int options);
/*
 * The calling thread took a stop signal sig whose action is the default: the process stops, its
 * parent hears of it (wait4, SIGCHLD unless SA_NOCLDSTOP), and the thread sleeps until SIGCONT
 * or SIGKILL. Only this thread stops: the others of a threaded process notice nothing.
 */
void proc_stop(struct uthread *ut, int sig);

/* The kernel stops caring about pid (a background `run`): it is freed when it exits. */
void proc_detach(int pid);
/* CLONE_VFORK: the child has exec'd or exited; the parent may go on. */
void proc_vfork_release(struct proc *p);
/* Wait until child has released its CLONE_VFORK parent (or the caller is killed). */
void proc_vfork_wait(struct proc *child);

/* Copy up to max processes into out; returns how many there are. */
unsigned int proc_snapshot(struct proc_info *out, unsigned int max);
/* One process's line (pid 0: the caller's): 0 or -ESRCH. */
int proc_info_of(int pid, struct proc_info *out);
/* Its argv (NUL-separated) into buf: the length, or -ESRCH. */
long proc_cmdline(int pid, char *buf, size_t max);

/*
 * Sleep on wq until cond or the process is killed (or deadline): like wait_event_until, but
 * kill wakes it. Evaluates to 0, -ETIMEDOUT, or -EINTR.
 */
#define uthread_wait_until(ut, wq, cond, deadline)                                                 \
    ({                                                                                             \
        __atomic_store_n(&(ut)->waiting_on, (wq), __ATOMIC_SEQ_CST);                               \
        int uwait_ret_ = wait_event_until((wq), (cond) || uthread_should_leave(ut), (deadline));   \
        __atomic_store_n(&(ut)->waiting_on, NULL, __ATOMIC_SEQ_CST);                               \
        if (!uwait_ret_ && uthread_should_leave(ut) && !(cond))                                    \
            uwait_ret_ = -EINTR;                                                                   \
        uwait_ret_;                                                                                \
    })

static inline bool uthread_should_leave(struct uthread *ut)
{
    return __atomic_load_n(&ut->proc->killed, __ATOMIC_SEQ_CST) ||
           __atomic_load_n(&ut->exit_requested, __ATOMIC_SEQ_CST);
}

/* A signal ut does not block is pending: an interruptible sleep ends (the handler runs). */
static inline uint64_t uthread_signal_pending(struct uthread *ut)
{
    return __atomic_load_n(&ut->proc->sig_pending, __ATOMIC_SEQ_CST) &
           ~__atomic_load_n(&ut->sig_mask, __ATOMIC_SEQ_CST);
}

/*
 * As uthread_wait_until, and a signal ut does not block also ends the sleep with -EINTR (pipes,
 * the terminal, wait4, nanosleep: the sleeps a handler interrupts in Linux).
 */
#define uthread_wait_interruptible(ut, wq, cond, deadline)                                         \
    ({                                                                                             \
        __atomic_store_n(&(ut)->waiting_on, (wq), __ATOMIC_SEQ_CST);                               \
        int uwait_ret_ = wait_event_until(                                                         \
            (wq), (cond) || uthread_should_leave(ut) || uthread_signal_pending(ut), (deadline));   \
        __atomic_store_n(&(ut)->waiting_on, NULL, __ATOMIC_SEQ_CST);                               \
        if (!uwait_ret_ && (uthread_should_leave(ut) || uthread_signal_pending(ut)) && !(cond))    \
            uwait_ret_ = -EINTR;                                                                   \
        uwait_ret_;                                                                                \
    })

/* Install the handlers of exceptions from EL0 and of faults on user copies (lower-EL ops). */
void uthread_init(void);

#endif
