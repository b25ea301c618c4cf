/* sys_poll.c - ppoll over the console, pipes and files; pollers sleep on one shared queue. */
#include "kernel/chrdev.h"
#include "kernel/fd.h"
#include "kernel/kmalloc.h"
#include "kernel/pipe.h"
#include "kernel/poll.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

#define POLL_MAX_FDS 256
#define NSEC_PER_SEC 1000000000ULL
#define SIGSET_SIZE  8

struct user_pollfd {
    int32_t fd;
    int16_t events, revents;
};

/*
 * Every change a poller may wait for bumps poll_events and wakes poll_wq: simpler than a queue
 * per object, and pollers are few (a shell waiting for its terminal or a pipe).
 */
static struct wait_queue poll_wq = WAIT_QUEUE_INIT(poll_wq);
static unsigned int poll_events;

void poll_notify(void)
{
    __atomic_add_fetch(&poll_events, 1, __ATOMIC_SEQ_CST);
    wait_wake_all(&poll_wq);
}

static short poll_one(struct proc *p, const struct user_pollfd *u)
{
    struct fd e;

    if (u->fd < 0)
        return 0;
    if (fd_get(p, u->fd, &e))
        return POLLNVAL;
    short ev = e.kind == FD_DEV    ? chrdev_poll(e.dev)
               : e.kind == FD_PIPE ? pipe_poll(e.pipe, fd_pipe_writer(&e))
                                   : POLLIN | POLLOUT;
    fd_release(&e);
    return ev & (u->events | POLLERR | POLLHUP | POLLNVAL);
}

/* One look at every descriptor: how many have events. */
static int poll_scan(struct proc *p, struct user_pollfd *fds, unsigned int n)
{
    int ready = 0;

    for (unsigned int i = 0; i < n; i++) {
        fds[i].revents = poll_one(p, &fds[i]);
        ready += fds[i].revents != 0;
    }
    return ready;
}

int64_t sys_ppoll(const uint64_t *a)
{
    struct uthread *self = uthread_current();
    struct proc *p = self->proc;
    uint64_t n = a[1], deadline = SCHED_NO_DEADLINE;
    struct {
        int64_t sec, nsec;
    } ts;

    if (n > POLL_MAX_FDS)
        return -EINVAL;
    if (a[2]) {
        if (uvm_copy_in(p->as->uvm, &ts, a[2], sizeof(ts)))
            return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
            return -EINVAL;
        uint64_t ns = (uint64_t)ts.sec > UINT64_MAX / NSEC_PER_SEC / 4
                          ? UINT64_MAX / 4
                          : (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
        deadline = timer_counter() + timer_ns_to_ticks(ns);
    }
    uint64_t mask;
    if (a[3] && (a[4] != SIGSET_SIZE || uvm_copy_in(p->as->uvm, &mask, a[3], sizeof(mask))))
        return a[4] != SIGSET_SIZE ? -EINVAL : -EFAULT;
    struct user_pollfd *fds = kmalloc(n ? n * sizeof(*fds) : 1);
    if (!fds)
        return -ENOMEM;
    int64_t ret = uvm_copy_in(p->as->uvm, fds, a[0], n * sizeof(*fds)) ? -EFAULT : 0;
    if (!ret && a[3]) {
        /* As rt_sigsuspend: the caller's mask comes back after a handler. */
        self->sig_saved_mask = __atomic_load_n(&self->sig_mask, __ATOMIC_SEQ_CST);
        self->sig_restore_mask = true;
        __atomic_store_n(&self->sig_mask, mask & ~SIG_UNBLOCKABLE, __ATOMIC_SEQ_CST);
    }
    while (!ret) {
        unsigned int seen = __atomic_load_n(&poll_events, __ATOMIC_SEQ_CST);
        ret = poll_scan(p, fds, (unsigned int)n);
        if (ret || (a[2] && !ts.sec && !ts.nsec))
            break;
        int err = uthread_wait_interruptible(
            self, &poll_wq, __atomic_load_n(&poll_events, __ATOMIC_SEQ_CST) != seen, deadline);
        if (err == -ETIMEDOUT)
            break;
        if (err)
            ret = err;
    }
    if (ret >= 0 && uvm_copy_out(p->as->uvm, a[0], fds, n * sizeof(*fds)))
        ret = -EFAULT;
    kfree(fds);
    return ret;
}
