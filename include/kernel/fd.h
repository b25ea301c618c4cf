/* fd.h - a process's file descriptor table: the console, VFS files and pipes. */
#ifndef KERNEL_FD_H
#define KERNEL_FD_H

#include <stdbool.h>

#include "kernel/proc.h"

#define FD_CLOEXEC 1
#define O_NONBLOCK 04000
#define O_CLOEXEC  02000000

/* fds 0, 1, 2 on the console. */
void fd_init_console(struct proc *p);
/* Put e (which the table takes over) in the lowest free slot >= min: the fd or -EMFILE. */
int fd_install(struct proc *p, const struct fd *e, int min);
/* A copy of fd's entry holding its own file reference (fd_release it): 0 or -EBADF. */
int fd_get(struct proc *p, int fd, struct fd *out);
void fd_release(struct fd *e);
int fd_close(struct proc *p, int fd);
/* dup3: make newfd refer to what oldfd does (closing newfd first): newfd or -EBADF/-EINVAL. */
int fd_dup_to(struct proc *p, int oldfd, int newfd, bool cloexec);
int fd_set_cloexec(struct proc *p, int fd, bool cloexec);
/*
 * F_SETFL: the bits of mask in fd's flags become those of set. Kept per descriptor here, not per
 * open file: a dup'd descriptor does not see the change. 0 or -EBADF.
 */
int fd_set_status_flags(struct proc *p, int fd, int set, int mask);
/* Is e the write end of a pipe? */
bool fd_pipe_writer(const struct fd *e);
/* fork: child gets every descriptor of parent (sharing the open files). */
void fd_copy(struct proc *child, struct proc *parent);
void fd_close_on_exec(struct proc *p);
void fd_close_all(struct proc *p);

#endif
