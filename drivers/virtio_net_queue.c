/* virtio_net_queue.c - the NIC driver's receive and transmit rings: one preallocated buffer per
 * descriptor, so nothing is allocated per frame (pure bookkeeping, host-tested). */
#include "drivers/virtio_net_queue.h"

#include "lib/errno.h"
#include "lib/string.h"

void vnet_queue_init(struct vnet_queue *q, uint8_t *buf, uint64_t buf_pa, unsigned hdr_bytes)
{
    q->buf = buf;
    q->buf_pa = buf_pa;
    q->hdr_bytes = hdr_bytes;
    q->frames = q->bytes = q->dropped = q->bad_len = 0;
}

static uint64_t vnet_buf_pa(const struct vnet_queue *q, unsigned head)
{
    return q->buf_pa + (uint64_t)head * VNET_BUF_BYTES;
}

unsigned vnet_rx_refill(struct vnet_queue *q)
{
    unsigned posted = 0;
    int head;

    while ((head = virtq_next_head(&q->vq)) >= 0) {
        struct virtq_buf b = {vnet_buf_pa(q, (unsigned)head), VNET_BUF_BYTES, true};
        uint16_t got;

        if (virtq_add(&q->vq, &b, 1, &got))
            break;
        posted++;
    }
    return posted;
}

int vnet_rx_next(struct vnet_queue *q, struct vnet_rx_frame *out)
{
    for (;;) {
        uint16_t head;
        uint32_t len;
        int r = virtq_get_used(&q->vq, &head, &len);

        if (r <= 0)
            return r;
        /* virtq_get_used checked len against the buffer's VNET_BUF_BYTES; the frame must fit. */
        if (len < q->hdr_bytes + VNET_FRAME_MIN || len > q->hdr_bytes + VNET_FRAME_MAX) {
            q->dropped++;
            continue;
        }
        out->data = q->buf + (size_t)head * VNET_BUF_BYTES + q->hdr_bytes;
        out->len = len - q->hdr_bytes;
        q->frames++;
        q->bytes += out->len;
        return 1;
    }
}

int vnet_tx_reclaim(struct vnet_queue *q)
{
    int n = 0;
    uint16_t head;
    uint32_t len;
    int r;

    while ((r = virtq_get_used(&q->vq, &head, &len)) > 0)
        n++;
    return r < 0 ? r : n;
}

int vnet_tx_add(struct vnet_queue *q, const void *frame, size_t len)
{
    if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX) {
        q->bad_len++;
        return -EINVAL;
    }
    int head = virtq_next_head(&q->vq);
    if (head < 0) {
        /* Completions are taken only when needed: the device sends no TX interrupts. */
        int r = vnet_tx_reclaim(q);
        if (r < 0)
            return r;
        head = virtq_next_head(&q->vq);
        if (head < 0) {
            q->dropped++;
            return -ENOSPC;
        }
    }
    uint8_t *b = q->buf + (size_t)head * VNET_BUF_BYTES;
    memset(b, 0, q->hdr_bytes);
    memcpy(b + q->hdr_bytes, frame, len);
    struct virtq_buf vb = {vnet_buf_pa(q, (unsigned)head), (uint32_t)(q->hdr_bytes + len), false};
    uint16_t got;
    int r = virtq_add(&q->vq, &vb, 1, &got);
    if (r)
        return r;
    q->frames++;
    q->bytes += len;
    return 0;
}
