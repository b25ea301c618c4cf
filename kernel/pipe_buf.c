/* pipe_buf.c - a bounded byte ring: the data of a pipe, copied in at most two pieces. */
#include "kernel/pipe_buf.h"
#include "lib/string.h"

void pipe_buf_init(struct pipe_buf *b, char *data, size_t size)
{
    b->data = data;
    b->size = size;
    b->head = 0;
    b->len = 0;
}

size_t pipe_buf_put(struct pipe_buf *b, const char *src, size_t n)
{
    size_t space = pipe_buf_space(b);

    if (n > space)
        n = space;
    size_t tail = (b->head + b->len) % b->size;
    size_t first = n < b->size - tail ? n : b->size - tail;
    memcpy(b->data + tail, src, first);
    memcpy(b->data, src + first, n - first);
    b->len += n;
    return n;
}

size_t pipe_buf_get(struct pipe_buf *b, char *dst, size_t n)
{
    if (n > b->len)
        n = b->len;
    size_t first = n < b->size - b->head ? n : b->size - b->head;
    memcpy(dst, b->data + b->head, first);
    memcpy(dst + first, b->data, n - first);
    b->head = (b->head + n) % b->size;
    b->len -= n;
    if (!b->len)
        b->head = 0;
    return n;
}
