/* pipe.h - pipes: a bounded buffer between descriptors, readers and writers sleeping on it. */
#ifndef KERNEL_PIPE_H
#define KERNEL_PIPE_H

#include <stdbool.h>
#include <stddef.h>

#define PIPE_SIZE   16384 /* bytes a pipe holds */
#define PIPE_ATOMIC 4096  /* PIPE_BUF: writes up to this size are never interleaved */

struct pipe;

/* A new pipe with one reader and one writer reference; NULL if out of memory. */
struct pipe *pipe_create(void);
/* One more / one less reference to the read or write end; the last one frees the pipe. */
void pipe_get(struct pipe *p, bool writer);
void pipe_put(struct pipe *p, bool writer);

/*
 * Read up to n bytes into buf: the count, 0 once the buffer is empty and no writer is left,
 * -EAGAIN (nonblock, empty), -EINTR (a signal or kill came while it slept).
 */
long pipe_read(struct pipe *p, char *buf, size_t n, bool nonblock);
/*
 * Write n bytes of buf (up to PIPE_ATOMIC of them in one piece): the count written, -EPIPE when
 * no reader is left (the caller raises SIGPIPE), -EAGAIN, -EINTR (nothing written yet).
 */
long pipe_write(struct pipe *p, const char *buf, size_t n, bool nonblock);
/* poll events (POLLIN, POLLOUT, POLLHUP, POLLERR) of one end now. */
short pipe_poll(struct pipe *p, bool writer);
/* Bytes waiting to be read (FIONREAD). */
size_t pipe_unread(struct pipe *p);

#endif
