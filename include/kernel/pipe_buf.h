/* pipe_buf.h - the bounded byte ring behind a pipe (pure logic, host-tested). */
#ifndef KERNEL_PIPE_BUF_H
#define KERNEL_PIPE_BUF_H

#include <stddef.h>

/** A ring of size bytes at data; head is where the oldest byte is, len how many are held. */
struct pipe_buf {
    char *data;
    size_t size;
    size_t head;
    size_t len;
};

void pipe_buf_init(struct pipe_buf *b, char *data, size_t size);
/* Append up to n bytes of src (as many as fit); returns how many were taken. */
size_t pipe_buf_put(struct pipe_buf *b, const char *src, size_t n);
/* Remove up to n of the oldest bytes into dst; returns how many. */
size_t pipe_buf_get(struct pipe_buf *b, char *dst, size_t n);

static inline size_t pipe_buf_space(const struct pipe_buf *b)
{
    return b->size - b->len;
}

#endif
