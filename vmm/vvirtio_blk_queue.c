/* vvirtio_blk_queue.c - the virtio-blk model's split virtqueue in guest RAM (virtio 1.2, 2.7). */
#include "hw/byteorder.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vvirtio_blk_priv.h"

/* Descriptor flags (2.7.5). */

#define DESC_SIZE      16u /* struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next */
#define RING_HDR_SIZE  4u  /* le16 flags, le16 idx before either ring's entries */
#define RING_IDX_OFF   2u
#define AVAIL_ELEM     2u /* le16 descriptor head */
#define USED_ELEM      8u /* le32 id, le32 len */
#define RING_TAIL_SIZE 2u /* used_event / avail_event after the entries */

/* The alignment each part of a split virtqueue must have (2.7, table "Virtqueue Part Alignment").
 */
#define DESC_ALIGN  16u
#define AVAIL_ALIGN 2u
#define USED_ALIGN  4u

/* The ring indices are loaded and stored whole as native 16-bit values. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

/* The queue as the lock-holder saw it when a request was taken. */
struct vq_snap {
    uint64_t desc, avail, used;
    uint32_t num;
    uint64_t features; /* negotiated */
    uint16_t last_avail;
    uint32_t gen;
};

/* Whether [addr, addr + len) stays below 2^64; a range that wraps is never guest RAM. */
static bool vq_range_ok(uint64_t addr, uint64_t len)
{
    return len == 0 || addr <= UINT64_MAX - (len - 1);
}

static int vq_copy(struct vvirtio_blk *d, uint64_t ipa, uint8_t *buf, uint64_t len, bool to_guest)
{
    while (len) {
        uint64_t n;
        uint8_t *p = d->ops->map(d->ctx, ipa, len, &n);

        if (!p || n == 0 || n > len)
            return -EFAULT;
        if (to_guest)
            memcpy(p, buf, n);
        else
            memcpy(buf, p, n);
        buf += n;
        ipa += n;
        len -= n;
    }
    return 0;
}

int vvirtio_blk_copy_from(struct vvirtio_blk *d, uint64_t ipa, void *buf, uint64_t len)
{
    return vq_copy(d, ipa, buf, len, false);
}

int vvirtio_blk_copy_to(struct vvirtio_blk *d, uint64_t ipa, const void *buf, uint64_t len)
{
    return vq_copy(d, ipa, (uint8_t *)buf, len, true);
}

/*
 * A ring index, which the driver reads or writes while the device does: one 16-bit access, never
 * two bytes (a torn used->idx would hand the driver 255 buffers it never made available).
 */
static uint16_t *vq_idx(struct vvirtio_blk *d, uint64_t ipa)
{
    uint64_t n;
    void *p = d->ops->map(d->ctx, ipa, 2, &n);

    return p && n == 2 && ((uintptr_t)p & 1) == 0 ? p : NULL;
}

/*
 * Walk the chain from head into d->chain and d->req. -EFAULT if the descriptor table is not guest
 * RAM; 1 if the chain has no end the device can trust (an index past the table, or more
 * descriptors than the queue holds, which only a loop can make: 2.7.5), so no status can be
 * located; 0 otherwise, with kind ANSWER and IOERR if a layout rule is broken.
 */
static int vq_walk(struct vvirtio_blk *d, const struct vq_snap *q, uint16_t head)
{
    struct vvirtio_blk_req *r = &d->req;
    bool seen_writable = false, bad = false;
    uint16_t idx = head;
    unsigned n;

    for (n = 0; n < q->num; n++) {
        struct vvirtio_blk_desc *de = &d->chain[n];
        uint8_t raw[DESC_SIZE];
        uint16_t flags;

        if (idx >= q->num)
            return 1;
        if (vvirtio_blk_copy_from(d, q->desc + (uint64_t)idx * DESC_SIZE, raw, sizeof(raw)))
            return -EFAULT;
        flags = load_le16(raw + 12);
        de->addr = load_le64(raw);
        de->len = load_le32(raw + 8);
        de->writable = flags & VIRTQ_DESC_F_WRITE;
        /* INDIRECT was not offered (2.7.5.3.1); writable before readable breaks 2.7.4.2. */
        if ((flags & VIRTQ_DESC_F_INDIRECT) || (seen_writable && !de->writable))
            bad = true;
        if (!vq_range_ok(de->addr, de->len)) {
            bad = true;
            de->len = 0; /* nothing, not even the status, is taken from a wrapping range */
        }
        seen_writable |= de->writable;
        if (!de->writable)
            r->n_out = n + 1;
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = load_le16(raw + 14);
    }
    if (n == q->num)
        return 1;
    r->n = n + 1;
    if (d->chain[n].writable && d->chain[n].len) {
        uint64_t one;

        r->status_addr = d->chain[n].addr + d->chain[n].len - 1;
        r->has_status = d->ops->map(d->ctx, r->status_addr, 1, &one) != NULL;
        d->chain[n].len--;
    }
    /* At most 128 lengths below 2^32 each: the sums cannot overflow. */
    for (unsigned i = 0; i < r->n; i++) {
        if (d->chain[i].writable)
            r->in_len += d->chain[i].len;
        else
            r->out_len += d->chain[i].len;
    }
    if (bad) {
        r->kind = VVIRTIO_BLK_REQ_ANSWER;
        r->status = VIRTIO_BLK_S_IOERR;
    }
    return 0;
}

/* The rings lie below 2^64 and are aligned; whether they are guest RAM shows as they are used. */
static bool vq_rings_ok(const struct vq_snap *q)
{
    return vq_range_ok(q->desc, (uint64_t)q->num * DESC_SIZE) &&
           vq_range_ok(q->avail, RING_HDR_SIZE + (uint64_t)q->num * AVAIL_ELEM + RING_TAIL_SIZE) &&
           vq_range_ok(q->used, RING_HDR_SIZE + (uint64_t)q->num * USED_ELEM + RING_TAIL_SIZE) &&
           q->desc % DESC_ALIGN == 0 && q->avail % AVAIL_ALIGN == 0 && q->used % USED_ALIGN == 0;
}

static void vq_broken(struct vvirtio_blk *d, uint32_t gen)
{
    unsigned long flags = vvirtio_blk_lock(d);

    if (gen == d->gen)
        vvirtio_blk_needs_reset(d);
    vvirtio_blk_unlock_sync(d, flags);
}

/*
 * An available index more than a queue ahead of ours (2.7.6) makes the rings unusable: what the
 * driver meant cannot be known, so the device asks for a reset rather than guess. A head past the
 * table cannot go back through the used ring either.
 */
bool vvirtio_blk_take(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;
    unsigned long flags = vvirtio_blk_lock(d);
    bool live = vvirtio_blk_queue_live(d);
    struct vq_snap q = {
        .desc = d->queue_desc,
        .avail = d->queue_driver,
        .used = d->queue_device,
        .num = d->queue_num,
        .features = d->driver_features,
        .last_avail = d->last_avail,
        .gen = d->gen,
    };
    uint16_t *avail_idx, pending, head;
    uint8_t raw[AVAIL_ELEM];
    int rc;

    /* Cleared before the ring is read: a notify for buffers this look misses sets it again. */
    d->work_pending = false;
    spin_unlock_irqrestore(&d->lock, flags);
    if (!live)
        return false;
    if (!vq_rings_ok(&q) || !(avail_idx = vq_idx(d, q.avail + RING_IDX_OFF)))
        goto broken;
    pending = (uint16_t)(__atomic_load_n(avail_idx, __ATOMIC_RELAXED) - q.last_avail);
    /* Entries the driver wrote before avail->idx must be read after it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (pending == 0)
        return false;
    if (pending > q.num ||
        vvirtio_blk_copy_from(d,
                              q.avail + RING_HDR_SIZE + (q.last_avail & (q.num - 1)) * AVAIL_ELEM,
                              raw, sizeof(raw)))
        goto broken;
    head = load_le16(raw);
    if (head >= q.num)
        goto broken;
    memset(r, 0, sizeof(*r));
    r->kind = VVIRTIO_BLK_REQ_NEW;
    rc = vq_walk(d, &q, head);
    if (rc < 0)
        goto broken;
    r->active = true;
    r->gen = q.gen;
    r->head = head;
    r->write_through = !(q.features & VVIRTIO_BLK_F_FLUSH);
    /* Nowhere to put a status: the chain goes back unanswered and nothing else is done. */
    if (rc > 0 || !r->has_status) {
        r->has_status = false;
        r->kind = VVIRTIO_BLK_REQ_ANSWER;
    }
    return true;
broken:
    vq_broken(d, q.gen);
    return false;
}

bool vvirtio_blk_req_current(struct vvirtio_blk *d)
{
    unsigned long flags = vvirtio_blk_lock(d);
    bool current = d->req.gen == d->gen;

    spin_unlock_irqrestore(&d->lock, flags);
    return current;
}

/*
 * Status, used entry and used->idx, in that order (2.7.8.2), under the lock: after a reset or a
 * QueueReady change (gen) the driver may have reused that memory, so nothing is written there. As
 * QEMU does, the used length is the whole writable part when the status byte was written (Linux
 * reads only the status), and 0 when there was nowhere to write it.
 */
void vvirtio_blk_answer(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;
    unsigned long flags = vvirtio_blk_lock(d);
    uint64_t one, used = d->queue_device;
    uint32_t len = 0;
    uint8_t elem[USED_ELEM];
    uint16_t *idx;

    r->active = false;
    if (r->gen != d->gen || !vvirtio_blk_queue_live(d)) {
        vvirtio_blk_unlock_sync(d, flags);
        return;
    }
    if (r->has_status) {
        uint8_t *status = d->ops->map(d->ctx, r->status_addr, 1, &one);

        if (status) {
            *status = r->status;
            len = r->in_len + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(r->in_len + 1);
        }
    }
    store_le(elem, r->head, 4);
    store_le(elem + 4, len, 4);
    idx = vq_idx(d, used + RING_IDX_OFF);
    if (!idx || vvirtio_blk_copy_to(d,
                                    used + RING_HDR_SIZE +
                                        (uint64_t)(d->used_idx & (d->queue_num - 1)) * USED_ELEM,
                                    elem, sizeof(elem))) {
        vvirtio_blk_needs_reset(d);
        vvirtio_blk_unlock_sync(d, flags);
        return;
    }
    d->used_idx++;
    d->last_avail++;
    /* The entry (and the data before it) must be visible before the index that hands it over. */
    __atomic_store_n(idx, d->used_idx, __ATOMIC_RELEASE);
    d->int_status |= VIRTIO_MMIO_INT_VRING;
    vvirtio_blk_unlock_sync(d, flags);
}
