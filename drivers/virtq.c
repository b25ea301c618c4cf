/* virtq.c - the driver's side of a split virtqueue (virtio 1.1 §2.6): publishing chains and taking
 * completions. Only ring memory, no registers, so it is also built and tested on the host. */
#include "drivers/virtio_mmio.h"

#include "lib/errno.h"
#include "virtq_barrier.h"

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, uint16_t *head)
{
    uint64_t writable = 0;

    if (n == 0)
        return -EINVAL;
    if (n > vq->num_free)
        return -ENOSPC;
    for (unsigned i = 0; i < n; i++) {
        if (bufs[i].len == 0)
            return -EINVAL;
        if (bufs[i].device_writes)
            writable += bufs[i].len;
    }
    if (writable > 0xffffffffULL)
        return -EINVAL;
    /* Take n descriptors off the free list; free_next links them in chain order. */
    uint16_t first = vq->free_head, idx = first;
    for (unsigned i = 0; i < n; i++) {
        struct virtq_desc *d = &vq->desc[idx];
        bool more = i + 1 < n;

        d->addr = bufs[i].pa;
        d->len = bufs[i].len;
        d->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                              (more ? VIRTQ_DESC_F_NEXT : 0));
        d->next = more ? vq->free_next[idx] : 0;
        if (more)
            idx = vq->free_next[idx];
    }
    vq->free_head = vq->free_next[idx];
    vq->num_free = (uint16_t)(vq->num_free - n);
    vq->chain_len[first] = (uint16_t)n;
    vq->chain_write[first] = (uint32_t)writable;

    /* Descriptors and ring slot first, then the index that hands them over (§2.7.13). */
    vq->avail->ring[vq->avail_idx & (vq->size - 1)] = first;
    virtio_wmb();
    vq->avail_idx++;
    __atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELAXED);
    *head = first;
    return 0;
}

int virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len)
{
    uint16_t used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);

    if (used_idx == vq->last_used)
        return 0;
    if ((uint16_t)(used_idx - vq->last_used) > vq->size)
        return -EIO; /* more completions than descriptors: the index ran away */
    /* The entry, and the buffers it completes, are read only after the index (§2.7.14). */
    virtio_rmb();
    const volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
    uint32_t id = e->id, written = e->len;

    if (id >= vq->size || vq->chain_len[id] == 0 || written > vq->chain_write[id])
        return -EIO;
    vq->last_used++;
    /* Return the chain to the free list: its links in free_next are still in place. */
    uint16_t last = (uint16_t)id;
    for (unsigned i = 1; i < vq->chain_len[id]; i++)
        last = vq->free_next[last];
    vq->free_next[last] = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free = (uint16_t)(vq->num_free + vq->chain_len[id]);
    vq->chain_len[id] = 0;
    vq->chain_write[id] = 0;
    *head = (uint16_t)id;
    *len = written;
    return 1;
}

int virtq_next_head(const struct virtq *vq)
{
    return vq->num_free ? vq->free_head : -ENOSPC;
}

bool virtq_notify_needed(struct virtq *vq)
{
    /* The avail index store must be visible before the flags are read (§2.7.10 for drivers). */
    virtio_mb();
    return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

void virtq_set_interrupts(struct virtq *vq, bool on)
{
    __atomic_store_n(&vq->avail->flags, on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELAXED);
}
