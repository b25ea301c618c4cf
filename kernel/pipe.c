/* pipe.c - pipes: a bounded ring with sleeping readers and writers, EOF and EPIPE at the ends. */
#include "kernel/pipe.h"
#include "kernel/kmalloc.h"
#include "kernel/pipe_buf.h"
#include "kernel/poll.h"
#include "kernel/proc.h"
#include "lib/errno.h"

/**
 * A pipe. lock protects buf, readers and writers (also read atomically, without it, by sleepers'
 * wake-up conditions). Readers sleep on read_wq until data or no writer; writers on write_wq.
 */
struct pipe {
    spinlock_t lock;
    struct pipe_buf buf;
    unsigned int readers, writers; /* descriptor references to each end */
    struct wait_queue read_wq, write_wq;
    char data[PIPE_SIZE];
};

struct pipe *pipe_create(void)
{
    struct pipe *p = kzalloc(sizeof(*p));

    if (!p)
        return NULL;
    spin_init(&p->lock);
    pipe_buf_init(&p->buf, p->data, PIPE_SIZE);
    p->readers = p->writers = 1;
    wait_queue_init(&p->read_wq);
    wait_queue_init(&p->write_wq);
    return p;
}

void pipe_get(struct pipe *p, bool writer)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);

    if (writer)
        p->writers++;
    else
        p->readers++;
    spin_unlock_irqrestore(&p->lock, flags);
}

void pipe_put(struct pipe *p, bool writer)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);

    if (writer)
        __atomic_store_n(&p->writers, p->writers - 1, __ATOMIC_RELEASE);
    else
        __atomic_store_n(&p->readers, p->readers - 1, __ATOMIC_RELEASE);
    bool last = !p->readers && !p->writers;
    spin_unlock_irqrestore(&p->lock, flags);
    if (last) {
        kfree(p);
        return;
    }
    /* The other end may be waiting for this one: end of file, or EPIPE. */
    wait_wake_all(writer ? &p->read_wq : &p->write_wq);
    poll_notify();
}

static bool pipe_readable(struct pipe *p)
{
    return __atomic_load_n(&p->buf.len, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&p->writers, __ATOMIC_ACQUIRE);
}

long pipe_read(struct pipe *p, char *buf, size_t n, bool nonblock)
{
    struct uthread *self = uthread_current();

    for (;;) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        if (p->buf.len || !p->writers) {
            size_t got = pipe_buf_get(&p->buf, buf, n);
            spin_unlock_irqrestore(&p->lock, flags);
            if (got) {
                wait_wake_all(&p->write_wq);
                poll_notify();
            }
            return (long)got;
        }
        spin_unlock_irqrestore(&p->lock, flags);
        if (nonblock)
            return -EAGAIN;
        int err =
            uthread_wait_interruptible(self, &p->read_wq, pipe_readable(p), SCHED_NO_DEADLINE);
        if (err)
            return err;
    }
}

/* Room for a write of left bytes: all of it if it must stay in one piece, else any. */
static bool pipe_writable(struct pipe *p, size_t left)
{
    size_t need = left <= PIPE_ATOMIC ? left : 1;

    return PIPE_SIZE - __atomic_load_n(&p->buf.len, __ATOMIC_ACQUIRE) >= need ||
           !__atomic_load_n(&p->readers, __ATOMIC_ACQUIRE);
}

long pipe_write(struct pipe *p, const char *buf, size_t n, bool nonblock)
{
    struct uthread *self = uthread_current();
    size_t done = 0;

    while (done < n) {
        size_t left = n - done;
        unsigned long flags = spin_lock_irqsave(&p->lock);
        if (!p->readers) {
            spin_unlock_irqrestore(&p->lock, flags);
            return done ? (long)done : -EPIPE;
        }
        if (pipe_buf_space(&p->buf) >= (left <= PIPE_ATOMIC ? left : 1)) {
            done += pipe_buf_put(&p->buf, buf + done, left);
            spin_unlock_irqrestore(&p->lock, flags);
            wait_wake_all(&p->read_wq);
            poll_notify();
            continue;
        }
        spin_unlock_irqrestore(&p->lock, flags);
        if (nonblock)
            return done ? (long)done : -EAGAIN;
        int err = uthread_wait_interruptible(self, &p->write_wq, pipe_writable(p, left),
                                             SCHED_NO_DEADLINE);
        if (err)
            return done ? (long)done : err;
    }
    return (long)done;
}

short pipe_poll(struct pipe *p, bool writer)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);
    short ev = 0;

    if (writer) {
        if (!p->readers)
            ev |= POLLERR;
        else if (pipe_buf_space(&p->buf) >= PIPE_ATOMIC)
            ev |= POLLOUT;
    } else {
        if (p->buf.len)
            ev |= POLLIN;
        if (!p->writers)
            ev |= POLLHUP;
    }
    spin_unlock_irqrestore(&p->lock, flags);
    return ev;
}

size_t pipe_unread(struct pipe *p)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);
    size_t n = p->buf.len;

    spin_unlock_irqrestore(&p->lock, flags);
    return n;
}
