/* vvirtio_blk_req.c - virtio-blk requests (virtio 1.2, 5.2.6), carried out a bounded step at a
 * time. */
#include "hw/byteorder.h"
#include "lib/string.h"
#include "vvirtio_blk_priv.h"

/* Request types (5.2.6). */

_Static_assert(sizeof(VVIRTIO_BLK_SERIAL) - 1 <= VIRTIO_BLK_ID_BYTES,
               "the serial is at most 20 bytes");

static void req_answer(struct vvirtio_blk_req *r, uint8_t status)
{
    r->kind = VVIRTIO_BLK_REQ_ANSWER;
    r->status = status;
}

/*
 * The next piece of the stream at the request's cursor, which ends before descriptor end: at most
 * len bytes at consecutive host addresses, their address and in *n how many. NULL if the stream
 * ends first or the piece is not guest RAM.
 */
static uint8_t *req_piece(struct vvirtio_blk *d, unsigned end, uint64_t len, uint64_t *n)
{
    struct vvirtio_blk_req *r = &d->req;
    const struct vvirtio_blk_desc *de;
    uint64_t want;
    uint8_t *p;

    for (;;) {
        if (r->cur >= end)
            return NULL;
        de = &d->chain[r->cur];
        if (r->cur_off < de->len)
            break;
        r->cur++;
        r->cur_off = 0;
    }
    want = de->len - r->cur_off < len ? de->len - r->cur_off : len;
    p = d->ops->map(d->ctx, de->addr + r->cur_off, want, n);
    return p && *n >= 1 && *n <= want ? p : NULL;
}

/* Copy len bytes between buf and the stream at the cursor, advancing it: false if it falls short.
 */
static bool req_copy(struct vvirtio_blk *d, unsigned end, uint8_t *buf, uint64_t len, bool to_guest)
{
    while (len) {
        uint64_t n;
        uint8_t *p = req_piece(d, end, len, &n);

        if (!p)
            return false;
        if (to_guest)
            memcpy(p, buf, n);
        else
            memcpy(buf, p, n);
        d->req.cur_off += (uint32_t)n;
        buf += n;
        len -= n;
    }
    return true;
}

/* Whether the len bytes of the stream from the cursor on are all guest RAM; the cursor stays. */
static bool req_stream_ok(struct vvirtio_blk *d, unsigned end, uint64_t len)
{
    struct vvirtio_blk_req *r = &d->req;
    unsigned cur = r->cur;
    uint32_t cur_off = r->cur_off;
    bool ok = true;

    while (len && ok) {
        uint64_t n;

        ok = req_piece(d, end, len, &n) != NULL;
        if (ok) {
            r->cur_off += (uint32_t)n;
            len -= n;
        }
    }
    r->cur = cur;
    r->cur_off = cur_off;
    return ok;
}

/*
 * IN or OUT of len bytes between the stream at the cursor and the disk from sector on. Ranges past
 * the capacity, lengths that are not whole sectors (5.2.6) and buffers that are not all guest RAM
 * are refused before anything moves.
 */
static void req_data_start(struct vvirtio_blk *d, uint64_t sector, uint64_t len, bool write)
{
    struct vvirtio_blk_req *r = &d->req;

    if (len % VIRTIO_BLK_SECTOR_SIZE || sector > d->capacity ||
        len / VIRTIO_BLK_SECTOR_SIZE > d->capacity - sector ||
        !req_stream_ok(d, write ? r->n_out : r->n, len)) {
        req_answer(r, VIRTIO_BLK_S_IOERR);
        return;
    }
    r->kind = VVIRTIO_BLK_REQ_DATA;
    r->write = write;
    r->offset = sector * VIRTIO_BLK_SECTOR_SIZE;
    r->left = len;
}

/* Read the header from the readable stream and decide what the request needs. */
static void req_decode(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;
    uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE];
    uint64_t sector;

    r->cur = 0;
    r->cur_off = 0;
    /* A header shorter than 16 bytes runs out of readable stream: IOERR. */
    if (!req_copy(d, r->n_out, hdr, sizeof(hdr), false)) {
        req_answer(r, VIRTIO_BLK_S_IOERR);
        return;
    }
    sector = load_le64(hdr + 8);
    switch (load_le32(hdr)) {
    case VIRTIO_BLK_T_IN:
        r->cur = r->n_out;
        r->cur_off = 0;
        req_data_start(d, sector, r->in_len, false);
        break;
    case VIRTIO_BLK_T_OUT:
        /* A read-only device fails writes and writes nothing (5.2.6). */
        if (d->read_only)
            req_answer(r, VIRTIO_BLK_S_IOERR);
        else
            req_data_start(d, sector, r->out_len - VIRTIO_BLK_REQ_HDR_SIZE, true);
        break;
    case VIRTIO_BLK_T_FLUSH: r->kind = VVIRTIO_BLK_REQ_FLUSH; break;
    case VIRTIO_BLK_T_GET_ID:
        r->cur = r->n_out;
        r->cur_off = 0;
        r->kind = VVIRTIO_BLK_REQ_GET_ID;
        break;
    default: req_answer(r, VIRTIO_BLK_S_UNSUPP); break;
    }
}

/*
 * At most VVIRTIO_BLK_STEP_SIZE bytes of data, straight between the guest's buffers and the disk:
 * one disk call per piece of guest RAM that is contiguous on the host.
 */
static void req_data_step(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;
    uint64_t budget = r->left < VVIRTIO_BLK_STEP_SIZE ? r->left : VVIRTIO_BLK_STEP_SIZE;
    unsigned end = r->write ? r->n_out : r->n;

    while (budget) {
        uint64_t n;
        uint8_t *p = req_piece(d, end, budget, &n);
        int rc;

        if (!p) {
            req_answer(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        if (r->write)
            rc = d->ops->disk_write(d->ctx, r->offset, p, (size_t)n);
        else
            rc = d->ops->disk_read(d->ctx, r->offset, p, (size_t)n);
        if (rc) {
            req_answer(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        r->cur_off += (uint32_t)n;
        r->offset += n;
        r->left -= n;
        budget -= n;
    }
    if (r->left)
        return;
    /* FLUSH offered but not negotiated: a completed write must be stable (5.2.6). */
    if (r->write && r->write_through)
        r->kind = VVIRTIO_BLK_REQ_FLUSH;
    else
        req_answer(r, VIRTIO_BLK_S_OK);
}

/* As many of the 20 ID bytes as the buffer holds, NUL-padded (5.2.6). */
static void req_get_id(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    uint64_t n = r->in_len < VIRTIO_BLK_ID_BYTES ? r->in_len : VIRTIO_BLK_ID_BYTES;

    memset(id, 0, sizeof(id));
    memcpy(id, VVIRTIO_BLK_SERIAL, sizeof(VVIRTIO_BLK_SERIAL) - 1);
    req_answer(r, req_copy(d, r->n, id, n, true) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* Each step does one thing that may take long: a piece of data, or a flush. */
bool vvirtio_blk_step(struct vvirtio_blk *d)
{
    struct vvirtio_blk_req *r = &d->req;

    if (!r->active && !vvirtio_blk_take(d))
        return false;
    if (!vvirtio_blk_req_current(d)) {
        r->active = false; /* reset or re-enabled since: the driver no longer waits for it */
        return true;
    }
    if (r->kind == VVIRTIO_BLK_REQ_NEW)
        req_decode(d);
    if (r->kind == VVIRTIO_BLK_REQ_DATA)
        req_data_step(d);
    else if (r->kind == VVIRTIO_BLK_REQ_FLUSH)
        req_answer(r, d->ops->disk_flush(d->ctx) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
    else if (r->kind == VVIRTIO_BLK_REQ_GET_ID)
        req_get_id(d);
    if (r->kind == VVIRTIO_BLK_REQ_ANSWER)
        vvirtio_blk_answer(d);
    return true;
}
