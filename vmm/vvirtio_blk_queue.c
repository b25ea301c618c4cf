/* vvirtio_blk_queue.c - virtio-blk requests (virtio 1.2, 5.2.6) on a split virtqueue (2.7). */
#include "lib/errno.h"
#include "lib/string.h"
#include "vvirtio_blk_priv.h"

/* Descriptor flags (2.7.5). */
#define DESC_F_NEXT     1u
#define DESC_F_WRITE    2u
#define DESC_F_INDIRECT 4u

#define DESC_SIZE      16u /* struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next */
#define RING_HDR_SIZE  4u  /* le16 flags, le16 idx before either ring's entries */
#define AVAIL_ELEM     2u  /* le16 descriptor head */
#define USED_ELEM      8u  /* le32 id, le32 len */
#define RING_TAIL_SIZE 2u  /* used_event / avail_event after the entries */

/* Request types and status values (5.2.6). */
#define BLK_T_IN        0u
#define BLK_T_OUT       1u
#define BLK_T_FLUSH     4u
#define BLK_T_GET_ID    8u
#define BLK_S_OK        0u
#define BLK_S_IOERR     1u
#define BLK_S_UNSUPP    2u
#define BLK_HDR_SIZE    16u /* le32 type, le32 reserved, le64 sector */
#define BLK_ID_BYTES    20u
#define BLK_SECTOR_SIZE 512u

_Static_assert(sizeof(VVIRTIO_BLK_SERIAL) - 1 <= BLK_ID_BYTES, "the serial is at most 20 bytes");

/*
 * One request as walked from its head. Buffers are framed freely (2.7.4, VERSION_1 implies
 * ANY_LAYOUT): the device-readable descriptors chain[0, n_out) form one byte stream (header, then
 * OUT data) and the writable ones chain[n_out, n) another (IN data), less the status, which is the
 * last byte of the chain.
 */
struct vq_req {
    unsigned n_out, n;
    uint64_t out_len, in_len; /* bytes in each stream; in_len leaves out the status byte */
    bool has_status;          /* the last descriptor is writable and at least a byte long */
    uint64_t status_addr;
    bool bad; /* a layout rule is broken: the answer is IOERR, with no data moved */
};

/* A position in one of a request's streams: descriptor i (below end), off bytes into it. */
struct vq_cursor {
    unsigned i, end;
    uint32_t off;
};

static uint16_t vq_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t vq_le32(const uint8_t *p)
{
    return (uint32_t)vq_le16(p) | (uint32_t)vq_le16(p + 2) << 16;
}

static uint64_t vq_le64(const uint8_t *p)
{
    return (uint64_t)vq_le32(p) | (uint64_t)vq_le32(p + 4) << 32;
}

static void vq_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Whether [addr, addr + len) stays below 2^64; a range that wraps is never guest RAM. */
static bool vq_range_ok(uint64_t addr, uint64_t len)
{
    return len == 0 || addr <= UINT64_MAX - (len - 1);
}

/*
 * Walk the chain from head into d->chain. -EFAULT if the descriptor table is not guest RAM; 1 if
 * the chain has no end the device can trust (an index past the table, or more descriptors than the
 * queue holds, which only a loop can make: 2.7.5), so no status can be located; 0 otherwise.
 */
static int vq_walk(struct vvirtio_blk *d, const struct vvirtio_blk_vq *q, uint16_t head,
                   struct vq_req *r)
{
    bool seen_writable = false;
    uint16_t idx = head;
    unsigned n;

    memset(r, 0, sizeof(*r));
    for (n = 0; n < q->num; n++) {
        struct vvirtio_blk_desc *de = &d->chain[n];
        uint8_t raw[DESC_SIZE];
        uint16_t flags;

        if (idx >= q->num)
            return 1;
        if (d->ops->mem_read(d->ctx, q->desc + (uint64_t)idx * DESC_SIZE, raw, sizeof(raw)))
            return -EFAULT;
        flags = vq_le16(raw + 12);
        de->addr = vq_le64(raw);
        de->len = vq_le32(raw + 8);
        de->writable = flags & DESC_F_WRITE;
        /* INDIRECT was not offered (2.7.5.3.1); writable before readable breaks 2.7.4.2. */
        if ((flags & DESC_F_INDIRECT) || (seen_writable && !de->writable))
            r->bad = true;
        if (!vq_range_ok(de->addr, de->len)) {
            r->bad = true;
            de->len = 0; /* nothing, not even the status, is taken from a wrapping range */
        }
        seen_writable |= de->writable;
        if (!de->writable)
            r->n_out = n + 1;
        if (!(flags & DESC_F_NEXT))
            break;
        idx = vq_le16(raw + 14);
    }
    if (n == q->num)
        return 1;
    r->n = n + 1;
    if (d->chain[n].writable && d->chain[n].len) {
        r->has_status = true;
        r->status_addr = d->chain[n].addr + d->chain[n].len - 1;
        d->chain[n].len--;
    }
    /* At most 128 lengths below 2^32 each: the sums cannot overflow. */
    for (unsigned i = 0; i < r->n; i++) {
        if (d->chain[i].writable)
            r->in_len += d->chain[i].len;
        else
            r->out_len += d->chain[i].len;
    }
    return 0;
}

/* Move len bytes between buf and guest RAM at the cursor, advancing it. */
static int vq_copy(struct vvirtio_blk *d, struct vq_cursor *c, void *buf, size_t len, bool to_guest)
{
    uint8_t *p = buf;

    while (len) {
        const struct vvirtio_blk_desc *de;
        size_t n;
        int rc;

        if (c->i >= c->end)
            return -EFAULT; /* the stream is shorter than the request needs */
        de = &d->chain[c->i];
        if (c->off == de->len) {
            c->i++;
            c->off = 0;
            continue;
        }
        n = de->len - c->off < len ? de->len - c->off : len;
        if (to_guest)
            rc = d->ops->mem_write(d->ctx, de->addr + c->off, p, n);
        else
            rc = d->ops->mem_read(d->ctx, de->addr + c->off, p, n);
        if (rc)
            return rc;
        c->off += (uint32_t)n;
        p += n;
        len -= n;
    }
    return 0;
}

/*
 * IN or OUT: len bytes of data between the stream at c and the disk from sector on, a bounce
 * buffer at a time. Ranges past the capacity, and lengths that are not whole sectors (5.2.6),
 * are refused before anything moves.
 */
static uint8_t vq_disk_io(struct vvirtio_blk *d, struct vq_cursor *c, uint64_t sector, uint64_t len,
                          bool write)
{
    uint64_t offset = sector * BLK_SECTOR_SIZE;

    if (len % BLK_SECTOR_SIZE || sector > d->capacity ||
        len / BLK_SECTOR_SIZE > d->capacity - sector)
        return BLK_S_IOERR;
    while (len) {
        size_t n = len < sizeof(d->bounce) ? (size_t)len : sizeof(d->bounce);

        if (write) {
            if (vq_copy(d, c, d->bounce, n, false) ||
                d->ops->disk_write(d->ctx, offset, d->bounce, n))
                return BLK_S_IOERR;
        } else {
            if (d->ops->disk_read(d->ctx, offset, d->bounce, n) ||
                vq_copy(d, c, d->bounce, n, true))
                return BLK_S_IOERR;
        }
        offset += n;
        len -= n;
    }
    return BLK_S_OK;
}

/* Carry out the request of a chain that has a status byte; the status to put there. */
static uint8_t vq_execute(struct vvirtio_blk *d, const struct vvirtio_blk_vq *q,
                          const struct vq_req *r)
{
    struct vq_cursor out = {0, r->n_out, 0}, in = {r->n_out, r->n, 0};
    uint8_t hdr[BLK_HDR_SIZE];
    uint64_t sector;
    uint8_t status;
    size_t n;

    /* A header shorter than 16 bytes runs out of readable stream: IOERR. */
    if (r->bad || vq_copy(d, &out, hdr, sizeof(hdr), false))
        return BLK_S_IOERR;
    sector = vq_le64(hdr + 8);
    switch (vq_le32(hdr)) {
    case BLK_T_IN: return vq_disk_io(d, &in, sector, r->in_len, false);
    case BLK_T_OUT:
        /* A read-only device fails writes and writes nothing (5.2.6). */
        if (d->read_only)
            return BLK_S_IOERR;
        status = vq_disk_io(d, &out, sector, r->out_len - BLK_HDR_SIZE, true);
        /* FLUSH offered but not negotiated: a completed write must be stable (5.2.6). */
        if (status == BLK_S_OK && !(q->features & VVIRTIO_BLK_F_FLUSH) &&
            d->ops->disk_flush(d->ctx))
            status = BLK_S_IOERR;
        return status;
    case BLK_T_FLUSH: return d->ops->disk_flush(d->ctx) ? BLK_S_IOERR : BLK_S_OK;
    case BLK_T_GET_ID:
        /* As many of the 20 ID bytes as the buffer holds, NUL-padded (5.2.6). */
        n = r->in_len < BLK_ID_BYTES ? (size_t)r->in_len : BLK_ID_BYTES;
        memset(d->bounce, 0, BLK_ID_BYTES);
        memcpy(d->bounce, VVIRTIO_BLK_SERIAL, sizeof(VVIRTIO_BLK_SERIAL) - 1);
        return vq_copy(d, &in, d->bounce, n, true) ? BLK_S_IOERR : BLK_S_OK;
    default: return BLK_S_UNSUPP;
    }
}

/*
 * Answer the chain at head; the used length it reports. As QEMU does, that is the whole writable
 * part when the status byte was written (Linux reads only the status), and 0 when it could not be.
 */
static int vq_answer(struct vvirtio_blk *d, const struct vvirtio_blk_vq *q, uint16_t head,
                     uint32_t *used_len)
{
    struct vq_req r;
    uint8_t status;
    int rc = vq_walk(d, q, head, &r);

    *used_len = 0;
    if (rc < 0)
        return rc;
    if (rc > 0 || !r.has_status)
        return 0;
    status = vq_execute(d, q, &r);
    if (d->ops->mem_write(d->ctx, r.status_addr, &status, 1) == 0)
        *used_len = r.in_len + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(r.in_len + 1);
    return 0;
}

/* Return head through used ring slot used_idx % num, then publish the new used->idx (2.7.8.2). */
static int vq_put_used(struct vvirtio_blk *d, struct vvirtio_blk_vq *q, uint16_t head, uint32_t len)
{
    uint64_t slot = q->used_idx & (q->num - 1);
    uint8_t elem[USED_ELEM], idx[2];

    vq_put_le(elem, head, 4);
    vq_put_le(elem + 4, len, 4);
    if (d->ops->mem_write(d->ctx, q->used + RING_HDR_SIZE + slot * USED_ELEM, elem, sizeof(elem)))
        return -EFAULT;
    q->used_idx++;
    vq_put_le(idx, q->used_idx, 2);
    /* The entry must be visible before the index that hands it over. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return d->ops->mem_write(d->ctx, q->used + 2, idx, sizeof(idx)) ? -EFAULT : 0;
}

/*
 * The rings must lie below 2^64; whether they are guest RAM shows as they are read. An available
 * index more than a queue ahead of ours (2.7.6) makes the rings unusable too: what the driver
 * meant cannot be known, so the device asks for a reset rather than guess.
 */
void vvirtio_blk_queue_run(struct vvirtio_blk *d, struct vvirtio_blk_vq *q)
{
    uint8_t hdr[RING_HDR_SIZE], raw[AVAIL_ELEM];
    uint16_t pending;

    if (!vq_range_ok(q->desc, (uint64_t)q->num * DESC_SIZE) ||
        !vq_range_ok(q->avail, RING_HDR_SIZE + (uint64_t)q->num * AVAIL_ELEM + RING_TAIL_SIZE) ||
        !vq_range_ok(q->used, RING_HDR_SIZE + (uint64_t)q->num * USED_ELEM + RING_TAIL_SIZE) ||
        d->ops->mem_read(d->ctx, q->avail, hdr, sizeof(hdr)))
        goto broken;
    /* Entries the driver wrote before avail->idx must be read after it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    pending = (uint16_t)(vq_le16(hdr + 2) - q->last_avail);
    if (pending > q->num)
        goto broken;
    while (pending--) {
        uint64_t slot = q->last_avail & (q->num - 1);
        uint32_t used_len;
        uint16_t head;

        if (d->ops->mem_read(d->ctx, q->avail + RING_HDR_SIZE + slot * AVAIL_ELEM, raw,
                             sizeof(raw)))
            goto broken;
        head = vq_le16(raw);
        /* A head past the table cannot go back through the used ring either. */
        if (head >= q->num || vq_answer(d, q, head, &used_len) || vq_put_used(d, q, head, used_len))
            goto broken;
        q->last_avail++;
        if (!vvirtio_blk_queue_used(d, q))
            return;
    }
    return;
broken:
    vvirtio_blk_queue_broken(d, q);
}
