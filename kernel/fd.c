/* fd.c - per-process descriptor tables over the VFS open-file table (struct file references). */
#include "kernel/fd.h"
#include "fs/vfs.h"
#include "kernel/chrdev.h"
#include "kernel/pipe.h"
#include "lib/errno.h"

void fd_init_console(struct proc *p)
{
    for (int i = 0; i < 3; i++)
        p->fds[i] = (struct fd){.kind = FD_DEV, .dev = &tty_chrdev, .flags = O_RDWR};
}

bool fd_pipe_writer(const struct fd *e)
{
    return (e->flags & O_ACCMODE) == O_WRONLY;
}

/* One more reference to what e refers to (for a copy of the entry). */
static void fd_ref(const struct fd *e)
{
    if (e->kind == FD_FILE)
        vfs_dup(e->file);
    else if (e->kind == FD_PIPE)
        pipe_get(e->pipe, fd_pipe_writer(e));
}

static bool fd_valid(int fd)
{
    return fd >= 0 && fd < PROC_MAX_FDS;
}

int fd_install(struct proc *p, const struct fd *e, int min)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);
    int fd = -EMFILE;

    for (int i = min < 0 ? 0 : min; i < PROC_MAX_FDS; i++) {
        if (p->fds[i].kind == FD_NONE) {
            p->fds[i] = *e;
            fd = i;
            break;
        }
    }
    spin_unlock_irqrestore(&p->lock, flags);
    return fd;
}

int fd_get(struct proc *p, int fd, struct fd *out)
{
    if (!fd_valid(fd))
        return -EBADF;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    *out = p->fds[fd];
    fd_ref(out);
    spin_unlock_irqrestore(&p->lock, flags);
    return out->kind == FD_NONE ? -EBADF : 0;
}

void fd_release(struct fd *e)
{
    if (e->kind == FD_FILE)
        vfs_close(e->file);
    else if (e->kind == FD_PIPE)
        pipe_put(e->pipe, fd_pipe_writer(e));
    e->kind = FD_NONE;
}

/* Take the entry out of the table (the caller releases it). */
static struct fd fd_take(struct proc *p, int fd)
{
    unsigned long flags = spin_lock_irqsave(&p->lock);
    struct fd e = p->fds[fd];

    p->fds[fd].kind = FD_NONE;
    p->fds[fd].file = NULL;
    p->fds[fd].pipe = NULL;
    p->fds[fd].dev = NULL;
    spin_unlock_irqrestore(&p->lock, flags);
    return e;
}

int fd_close(struct proc *p, int fd)
{
    if (!fd_valid(fd))
        return -EBADF;
    struct fd e = fd_take(p, fd);
    if (e.kind == FD_NONE)
        return -EBADF;
    fd_release(&e);
    return 0;
}

int fd_dup_to(struct proc *p, int oldfd, int newfd, bool cloexec)
{
    struct fd e, old = {.kind = FD_NONE};

    if (!fd_valid(newfd))
        return -EBADF;
    int err = fd_get(p, oldfd, &e);
    if (err)
        return err;
    e.cloexec = cloexec;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    old = p->fds[newfd];
    p->fds[newfd] = e;
    spin_unlock_irqrestore(&p->lock, flags);
    fd_release(&old);
    return newfd;
}

int fd_set_cloexec(struct proc *p, int fd, bool cloexec)
{
    if (!fd_valid(fd))
        return -EBADF;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    int err = p->fds[fd].kind == FD_NONE ? -EBADF : 0;
    if (!err)
        p->fds[fd].cloexec = cloexec;
    spin_unlock_irqrestore(&p->lock, flags);
    return err;
}

int fd_set_status_flags(struct proc *p, int fd, int set, int mask)
{
    if (!fd_valid(fd))
        return -EBADF;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    int err = p->fds[fd].kind == FD_NONE ? -EBADF : 0;
    if (!err)
        p->fds[fd].flags = (p->fds[fd].flags & ~mask) | (set & mask);
    spin_unlock_irqrestore(&p->lock, flags);
    return err;
}

void fd_copy(struct proc *child, struct proc *parent)
{
    unsigned long flags = spin_lock_irqsave(&parent->lock);

    for (int i = 0; i < PROC_MAX_FDS; i++) {
        child->fds[i] = parent->fds[i];
        fd_ref(&child->fds[i]);
    }
    spin_unlock_irqrestore(&parent->lock, flags);
}

static void fd_close_matching(struct proc *p, bool only_cloexec)
{
    for (int i = 0; i < PROC_MAX_FDS; i++) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        bool hit = p->fds[i].kind != FD_NONE && (!only_cloexec || p->fds[i].cloexec);
        spin_unlock_irqrestore(&p->lock, flags);
        if (hit)
            fd_close(p, i);
    }
}

void fd_close_on_exec(struct proc *p)
{
    fd_close_matching(p, true);
}

void fd_close_all(struct proc *p)
{
    fd_close_matching(p, false);
}
