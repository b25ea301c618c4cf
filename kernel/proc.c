/* proc.c - processes: ids, the family tree, termination, wait, kill and the process list. */
#include "kernel/proc.h"
#include "arch/uvm.h"
#include "fs/vfs.h"
#include "kernel/devfs.h"
#include "kernel/fd.h"
#include "kernel/futex.h"
#include "kernel/init.h"
#include "kernel/kmalloc.h"
#include "kernel/page_cache.h"
#include "kernel/printk.h"
#include "kernel/procfs.h"
#include "kernel/signal.h"
#include "kernel/vma.h"
#include "lib/errno.h"
#include "lib/string.h"

#define PROC_ID_MAX 32768 /* pids and tids share one name space, as in Linux */

/*
 * proc_lock protects the process list, every process's family fields (parent, children,
 * sibling), state, wait_status, autoreap, vfork_done, child_events, pgid and sid, and next_id.
 */
static spinlock_t proc_lock = SPINLOCK_INIT;
static struct list_node proc_list = {&proc_list, &proc_list};
static struct list_node kernel_children = {&kernel_children, &kernel_children};
static unsigned int kernel_child_events;
static struct wait_queue kernel_child_wq = WAIT_QUEUE_INIT(kernel_child_wq);
static int next_id = 1;

/* The EL1 build's user processes (kernel/init.h): after memory, storage and the secondary CPUs. */
static int proc_init(void)
{
    uvm_init();
    uthread_init();
    vma_commit_init();
    page_cache_init(); /* programs read files: the root disk's cache becomes the page cache */
    futex_init();
    int err = procfs_mount();
    if (err)
        kprintf("proc: cannot mount /proc: %s\n", errno_str(err));
    err = devfs_mount();
    if (err)
        kprintf("proc: cannot mount /dev: %s\n", errno_str(err));
    return 0;
}
INIT_HOOK(INIT_LATE, proc_init, "user processes");

static struct proc *proc_of(struct list_node *n, bool sibling)
{
    return sibling ? list_entry(n, struct proc, sibling) : list_entry(n, struct proc, all_link);
}

/* Is id free as a pid and as a tid? Caller holds proc_lock. */
static bool proc_id_free(int id)
{
    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        struct proc *p = proc_of(n, false);
        bool used = p->pid == id;
        spin_lock(&p->lock);
        for (struct list_node *t = p->threads.next; t != &p->threads && !used; t = t->next)
            used = list_entry(t, struct uthread, link)->tid == id;
        spin_unlock(&p->lock);
        if (used)
            return false;
    }
    return true;
}

/*
 * A fresh id. Caller holds proc_lock. Ids go round before one is reused, so an id handed out
 * but not yet in a thread list is not given twice.
 */
static int proc_new_id(void)
{
    for (int tries = 0; tries < PROC_ID_MAX; tries++) {
        int id = next_id;
        next_id = next_id + 1 < PROC_ID_MAX ? next_id + 1 : 2;
        if (proc_id_free(id))
            return id;
    }
    return -EAGAIN;
}

int proc_last_pid(void)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    int id = next_id > 1 ? next_id - 1 : PROC_ID_MAX - 1;

    spin_unlock_irqrestore(&proc_lock, flags);
    return id;
}

int proc_alloc_tid(void)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    int id = proc_new_id();

    spin_unlock_irqrestore(&proc_lock, flags);
    return id;
}

struct proc *proc_alloc(struct proc *parent, const char *name)
{
    struct proc *p = kzalloc(sizeof(*p));
    char *cwd = kmalloc(VFS_PATH_MAX);

    if (!p || !cwd) {
        kfree(p);
        kfree(cwd);
        return NULL;
    }
    strncpy(p->name, name, PROC_NAME_MAX - 1);
    p->cwd = cwd;
    strcpy(p->cwd, "/");
    p->refs = 1; /* the process list's */
    spin_init(&p->lock);
    list_init(&p->children);
    list_init(&p->threads);
    wait_queue_init(&p->child_wq);
    wait_queue_init(&p->thread_wq);
    wait_queue_init(&p->sig_wq);
    wait_queue_init(&p->stop_wq);
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    p->pid = proc_new_id();
    if (p->pid < 0) {
        spin_unlock_irqrestore(&proc_lock, flags);
        kfree(cwd);
        kfree(p);
        return NULL;
    }
    p->parent = parent;
    p->pgid = parent ? parent->pgid : p->pid;
    p->sid = parent ? parent->sid : p->pid;
    list_add_tail(parent ? &parent->children : &kernel_children, &p->sibling);
    list_add_tail(&proc_list, &p->all_link);
    spin_unlock_irqrestore(&proc_lock, flags);
    return p;
}

void proc_get(struct proc *p)
{
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
}

void proc_put(struct proc *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL))
        return;
    kfree(p->cwd);
    kfree(p);
}

/* Take p off the list and its parent's children. Caller holds proc_lock. */
static void proc_unlink(struct proc *p)
{
    list_del(&p->sibling);
    list_del(&p->all_link);
}

void proc_abort(struct proc *p)
{
    fd_close_all(p);
    if (p->as)
        aspace_put(p->as);
    p->as = NULL;
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    proc_unlink(p);
    spin_unlock_irqrestore(&proc_lock, flags);
    proc_put(p);
}

int proc_parent_pid(struct proc *p)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    int ppid = p->parent ? p->parent->pid : 0;

    spin_unlock_irqrestore(&proc_lock, flags);
    return ppid;
}

struct proc *proc_find(int pid)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct proc *found = NULL;

    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        struct proc *p = proc_of(n, false);
        if (p->pid == pid) {
            proc_get(p);
            found = p;
            break;
        }
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    return found;
}

struct uthread *proc_find_thread(int tid, struct proc **owner)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct uthread *found = NULL;

    for (struct list_node *n = proc_list.next; n != &proc_list && !found; n = n->next) {
        struct proc *p = proc_of(n, false);
        spin_lock(&p->lock);
        for (struct list_node *t = p->threads.next; t != &p->threads; t = t->next) {
            struct uthread *ut = list_entry(t, struct uthread, link);
            if (ut->tid == tid) {
                proc_get(p);
                *owner = p;
                found = ut;
                break;
            }
        }
        spin_unlock(&p->lock);
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    return found;
}

bool proc_terminate(struct proc *p, int status)
{
    int expect = 0;

    /* One store says both "ending" and how: a thread that sees it can report the status. */
    if (!__atomic_compare_exchange_n(&p->killed, &expect, PROC_KILLED | status, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return false;
    /* Wake the sleepers; threads in user mode notice at their next tick or system call. */
    unsigned long flags = spin_lock_irqsave(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct uthread *ut = list_entry(n, struct uthread, link);
        struct wait_queue *wq = __atomic_load_n(&ut->waiting_on, __ATOMIC_SEQ_CST);
        if (wq)
            wait_wake_all(wq);
    }
    spin_unlock_irqrestore(&p->lock, flags);
    wait_wake_all(&p->stop_wq);
    return true;
}

int proc_kill(int pid, int sig)
{
    if (sig < 0 || sig > SIG_MAX)
        return -EINVAL;
    struct proc *p = proc_find(pid);
    if (!p)
        return -ESRCH;
    if (sig && p->state == PROC_LIVE)
        signal_send(p, sig);
    proc_put(p);
    return 0;
}

/* Signal every live process for which match(p, arg) holds; -ESRCH if none matched. */
static int proc_kill_matching(bool (*match)(struct proc *, const void *), const void *arg, int sig)
{
    if (sig < 0 || sig > SIG_MAX)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    int found = 0;

    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        struct proc *p = proc_of(n, false);
        if (p->state != PROC_LIVE || !match(p, arg))
            continue;
        found++;
        if (sig)
            signal_send(p, sig); /* spinlocks only: fine under proc_lock */
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    return found ? 0 : -ESRCH;
}

static bool proc_in_group(struct proc *p, const void *pgid)
{
    return p->pgid == *(const int *)pgid;
}

static bool proc_not_self(struct proc *p, const void *self)
{
    return p != self;
}

int proc_kill_group(int pgid, int sig)
{
    return pgid > 0 ? proc_kill_matching(proc_in_group, &pgid, sig) : -ESRCH;
}

int proc_kill_all(struct proc *self, int sig)
{
    return proc_kill_matching(proc_not_self, self, sig);
}

/* Live or zombie process by pid (0: self). Caller holds proc_lock. */
static struct proc *proc_lookup(struct proc *self, int pid)
{
    if (pid == 0)
        return self;
    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        struct proc *p = proc_of(n, false);
        if (p->pid == pid)
            return p;
    }
    return NULL;
}

/* Caller holds proc_lock. */
static bool proc_group_in_session_locked(int pgid, int sid)
{
    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        struct proc *p = proc_of(n, false);
        if (p->pgid == pgid && p->sid == sid)
            return true;
    }
    return false;
}

bool proc_group_in_session(int pgid, int sid)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    bool ok = proc_group_in_session_locked(pgid, sid);

    spin_unlock_irqrestore(&proc_lock, flags);
    return ok;
}

int proc_setpgid(struct proc *self, int pid, int pgid)
{
    if (pid < 0 || pgid < 0)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct proc *p = proc_lookup(self, pid);
    int err = 0;

    if (!p || (p != self && p->parent != self))
        err = -ESRCH;
    else if (p->sid != self->sid || p->sid == p->pid)
        err = -EPERM; /* another session, or a session leader */
    if (!err && !pgid)
        pgid = p->pid;
    if (!err && pgid != p->pid && !proc_group_in_session_locked(pgid, self->sid))
        err = -EPERM;
    if (!err)
        p->pgid = pgid;
    spin_unlock_irqrestore(&proc_lock, flags);
    return err;
}

int proc_setsid(struct proc *self)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    int ret = self->pid;

    /* A process group leader (of any group named by its pid) cannot start a session. */
    for (struct list_node *n = proc_list.next; n != &proc_list; n = n->next) {
        if (proc_of(n, false)->pgid == self->pid)
            ret = -EPERM;
    }
    if (ret > 0)
        self->pgid = self->sid = self->pid;
    spin_unlock_irqrestore(&proc_lock, flags);
    return ret;
}

static int proc_get_id(struct proc *self, int pid, bool sid)
{
    if (pid < 0)
        return -ESRCH;
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct proc *p = proc_lookup(self, pid);
    int ret = !p ? -ESRCH : sid ? p->sid : p->pgid;

    spin_unlock_irqrestore(&proc_lock, flags);
    return ret;
}

int proc_getpgid(struct proc *self, int pid)
{
    return proc_get_id(self, pid, false);
}

int proc_getsid(struct proc *self, int pid)
{
    return proc_get_id(self, pid, true);
}

void proc_new_session(struct proc *p)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);

    p->pgid = p->sid = p->pid;
    spin_unlock_irqrestore(&proc_lock, flags);
}

/* The last thread of p has gone: release what it holds and tell whoever waits. */
void proc_exit(struct proc *p)
{
    struct list_node reap;
    unsigned long flags;

    fd_close_all(p);
    flags = spin_lock_irqsave(&p->lock);
    struct aspace *as = p->as;
    p->as = NULL;
    spin_unlock_irqrestore(&p->lock, flags);
    if (as)
        aspace_put(as);

    list_init(&reap);
    flags = spin_lock_irqsave(&proc_lock);
    /* Orphans go to the kernel, which does not wait for them. */
    while (!list_empty(&p->children)) {
        struct proc *c = proc_of(p->children.next, true);
        list_del(&c->sibling);
        c->parent = NULL;
        c->autoreap = true;
        if (c->state == PROC_ZOMBIE) {
            list_del(&c->all_link);
            list_add_tail(&reap, &c->sibling);
        } else {
            list_add_tail(&kernel_children, &c->sibling);
        }
    }
    p->state = PROC_ZOMBIE;
    p->wait_status = __atomic_load_n(&p->killed, __ATOMIC_ACQUIRE) & ~PROC_KILLED;
    p->vfork_done = true;
    bool free_now = p->autoreap;
    if (free_now)
        proc_unlink(p);
    if (p->parent) {
        p->parent->child_events++;
        wait_wake_all(&p->parent->child_wq);
        signal_send(p->parent, SIGCHLD);
    } else {
        kernel_child_events++;
        wait_wake_all(&kernel_child_wq);
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    while (!list_empty(&reap)) {
        struct proc *c = proc_of(reap.next, true);
        list_del(&c->sibling);
        proc_put(c);
    }
    if (free_now)
        proc_put(p);
}

/* wait4's pid: > 0 that child, -1 any, 0 the caller's group, < -1 group -pid. */
static bool proc_wait_match(const struct proc *parent, const struct proc *c, int pid)
{
    if (pid > 0)
        return c->pid == pid;
    if (pid == -1)
        return true;
    return c->pgid == (pid == 0 ? (parent ? parent->pgid : 0) : -pid);
}

/* One look at the children. Caller holds proc_lock. */
static int proc_wait_scan(struct proc *parent, int pid, int options, int *status,
                          struct proc **zombie)
{
    struct list_node *head = parent ? &parent->children : &kernel_children;
    bool any = false;

    for (struct list_node *n = head->next; n != head; n = n->next) {
        struct proc *c = proc_of(n, true);
        if (!proc_wait_match(parent, c, pid) || (!parent && c->autoreap))
            continue;
        any = true;
        if (c->state == PROC_ZOMBIE) {
            *status = c->wait_status;
            proc_unlink(c);
            *zombie = c;
            return c->pid;
        }
        if (((c->stop_report & PROC_REPORT_STOPPED) && (options & PROC_WAIT_UNTRACED)) ||
            ((c->stop_report & PROC_REPORT_CONTINUED) && (options & PROC_WAIT_CONTINUED))) {
            /* Linux's encodings: 0x7f with the signal above it; 0xffff for continued. */
            *status = (c->stop_report & PROC_REPORT_STOPPED) ? ((c->stop_report & 0xff) << 8) | 0x7f
                                                             : 0xffff;
            c->stop_report = 0;
            return c->pid;
        }
    }
    return any ? 0 : -ECHILD;
}

/* Tell p's parent (or the kernel's waiters) that p stopped or went on. Caller holds proc_lock. */
static void proc_notify_parent(struct proc *p)
{
    if (p->parent) {
        p->parent->child_events++;
        wait_wake_all(&p->parent->child_wq);
        if (!signal_nocldstop(p->parent))
            signal_send(p->parent, SIGCHLD);
    } else {
        kernel_child_events++;
        wait_wake_all(&kernel_child_wq);
    }
}

void proc_stop(struct uthread *ut, int sig)
{
    struct proc *p = ut->proc;
    unsigned long flags = spin_lock_irqsave(&proc_lock);

    /*
     * As for Linux's orphaned process groups: a program `run` from the kernel shell has no
     * parent that could continue it, so the terminal's stop signals leave it running.
     */
    if ((!p->parent && sig != SIGSTOP) ||
        __atomic_exchange_n(&p->cont_pending, false, __ATOMIC_SEQ_CST)) {
        spin_unlock_irqrestore(&proc_lock, flags);
        return;
    }
    p->stopped = true;
    p->stop_report = PROC_REPORT_STOPPED | sig;
    proc_notify_parent(p);
    spin_unlock_irqrestore(&proc_lock, flags);
    /* Not woken by other signals: a stopped process handles none until it goes on. */
    uthread_wait_until(ut, &p->stop_wq, __atomic_load_n(&p->cont_pending, __ATOMIC_SEQ_CST),
                       SCHED_NO_DEADLINE);
    flags = spin_lock_irqsave(&proc_lock);
    __atomic_store_n(&p->cont_pending, false, __ATOMIC_SEQ_CST);
    p->stopped = false;
    p->stop_report = PROC_REPORT_CONTINUED;
    proc_notify_parent(p);
    spin_unlock_irqrestore(&proc_lock, flags);
}

int proc_wait(struct proc *parent, int pid, int *status, int options)
{
    struct uthread *self = uthread_current();
    struct wait_queue *wq = parent ? &parent->child_wq : &kernel_child_wq;
    unsigned int *events = parent ? &parent->child_events : &kernel_child_events;

    for (;;) {
        struct proc *zombie = NULL;
        unsigned long flags = spin_lock_irqsave(&proc_lock);
        int ret = proc_wait_scan(parent, pid, options, status, &zombie);
        unsigned int seen = *events;
        spin_unlock_irqrestore(&proc_lock, flags);
        if (zombie)
            proc_put(zombie);
        if (ret || (options & PROC_WAIT_NOHANG))
            return ret;
        int err = self ? uthread_wait_interruptible(
                             self, wq, __atomic_load_n(events, __ATOMIC_ACQUIRE) != seen,
                             SCHED_NO_DEADLINE)
                       : wait_event_until(wq, __atomic_load_n(events, __ATOMIC_ACQUIRE) != seen,
                                          SCHED_NO_DEADLINE);
        if (err)
            return err;
    }
}

void proc_detach(int pid)
{
    struct proc *zombie = NULL;
    unsigned long flags = spin_lock_irqsave(&proc_lock);

    for (struct list_node *n = kernel_children.next; n != &kernel_children; n = n->next) {
        struct proc *c = proc_of(n, true);
        if (c->pid != pid)
            continue;
        c->autoreap = true;
        if (c->state == PROC_ZOMBIE) {
            proc_unlink(c);
            zombie = c;
        }
        break;
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    if (zombie)
        proc_put(zombie);
}

void proc_vfork_release(struct proc *p)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);

    if (!p->vfork_done) {
        p->vfork_done = true;
        if (p->parent) {
            p->parent->child_events++;
            wait_wake_all(&p->parent->child_wq);
        }
    }
    spin_unlock_irqrestore(&proc_lock, flags);
}

void proc_vfork_wait(struct proc *child)
{
    struct uthread *self = uthread_current();

    uthread_wait_until(self, &self->proc->child_wq,
                       __atomic_load_n(&child->vfork_done, __ATOMIC_ACQUIRE), SCHED_NO_DEADLINE);
}

/* Fill one proc_info. Caller holds proc_lock. */
static void proc_fill_info(struct proc *p, struct proc_info *i)
{
    memset(i, 0, sizeof(*i));
    i->pid = p->pid;
    i->ppid = p->parent ? p->parent->pid : 0;
    i->state = p->state;
    i->pgid = p->pgid;
    i->sid = p->sid;
    spin_lock(&p->lock);
    memcpy(i->name, p->name, PROC_NAME_MAX);
    i->nthreads = p->nthreads;
    struct list_node *first = list_first(&p->threads);
    const struct thread *kt =
        first ? __atomic_load_n(&list_entry(first, struct uthread, link)->kt, __ATOMIC_ACQUIRE)
              : NULL;
    if (kt) {
        /* Read as it is: a display, not a decision. A thread not started yet shows -1. */
        i->prio = kt->rq_link.prio;
        i->cpu = kt->cpu;
    } else {
        i->prio = -1;
    }
    if (p->as) {
        i->resident_kib = p->as->resident * (PAGE_SIZE / 1024);
        i->virtual_kib = p->as->committed * (PAGE_SIZE / 1024);
    }
    spin_unlock(&p->lock);
}

unsigned int proc_snapshot(struct proc_info *out, unsigned int max)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    unsigned int n = 0;

    for (struct list_node *l = proc_list.next; l != &proc_list; l = l->next, n++) {
        if (n < max)
            proc_fill_info(proc_of(l, false), &out[n]);
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    return n;
}

int proc_info_of(int pid, struct proc_info *out)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct proc *p = proc_lookup(proc_current(), pid);

    if (p)
        proc_fill_info(p, out);
    spin_unlock_irqrestore(&proc_lock, flags);
    return p ? 0 : -ESRCH;
}

long proc_cmdline(int pid, char *buf, size_t max)
{
    unsigned long flags = spin_lock_irqsave(&proc_lock);
    struct proc *p = proc_lookup(proc_current(), pid);
    long len = -ESRCH;

    if (p) {
        spin_lock(&p->lock);
        len = (long)(p->cmdline_len < max ? p->cmdline_len : max);
        memcpy(buf, p->cmdline, (size_t)len);
        spin_unlock(&p->lock);
    }
    spin_unlock_irqrestore(&proc_lock, flags);
    return len;
}
