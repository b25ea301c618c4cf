/* vvirtio_net_ring.c - the virtio-net model's split virtqueues: transmit and receive (2.7, 5.1.6).
 */
#include "lib/string.h"
#include "vvirtio_net_priv.h"

/* Descriptor flags (2.7.5). */
#define DESC_F_NEXT     1u
#define DESC_F_WRITE    2u
#define DESC_F_INDIRECT 4u

#define DESC_SIZE            16u /* struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next */
#define RING_HDR_SIZE        4u  /* le16 flags, le16 idx before either ring's entries */
#define RING_IDX_OFF         2u
#define AVAIL_ELEM           2u /* le16 descriptor head */
#define USED_ELEM            8u /* le32 id, le32 len */
#define RING_TAIL_SIZE       2u /* used_event / avail_event after the entries */
#define AVAIL_F_NO_INTERRUPT 1u /* the driver wants no used buffer notification (2.7.7) */

/* The alignment each part of a split virtqueue must have (2.7, "Virtqueue Part Alignment"). */
#define DESC_ALIGN  16u
#define AVAIL_ALIGN 2u
#define USED_ALIGN  4u

/* Offset of num_buffers in struct virtio_net_hdr (5.1.6). */
#define HDR_NUM_BUFFERS 10u

/* The ring indices are loaded and stored whole as native 16-bit values. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

/* What a chain walk found wrong with a buffer. */
enum vring_verdict {
    VRING_OK,
    VRING_BAD_DESC, /* index past the table, loop, wrong direction, indirect, outside guest RAM */
    VRING_BAD_LEN,  /* transmit: too short or too long a frame */
};

static uint16_t vring_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t vring_le32(const uint8_t *p)
{
    return (uint32_t)vring_le16(p) | (uint32_t)vring_le16(p + 2) << 16;
}

static uint64_t vring_le64(const uint8_t *p)
{
    return (uint64_t)vring_le32(p) | (uint64_t)vring_le32(p + 4) << 32;
}

static void vring_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Whether [addr, addr + len) stays below 2^64; a range that wraps is never guest RAM. */
static bool vring_range_ok(uint64_t addr, uint64_t len)
{
    return len == 0 || addr <= UINT64_MAX - (len - 1);
}

/* Copy between guest RAM at ipa and buf (NULL: only check): 0, or -1 if a byte is not RAM. */
static int vring_copy(struct vvirtio_net *d, uint64_t ipa, uint8_t *buf, uint64_t len,
                      bool to_guest)
{
    if (!vring_range_ok(ipa, len))
        return -1;
    while (len) {
        uint64_t n;
        uint8_t *p = d->ops->map(d->ctx, ipa, len, &n);

        if (!p || n == 0 || n > len)
            return -1;
        if (buf && to_guest)
            memcpy(p, buf, n);
        else if (buf)
            memcpy(buf, p, n);
        if (buf)
            buf += n;
        ipa += n;
        len -= n;
    }
    return 0;
}

/* A ring index the driver reads or writes while the device does: one aligned 16-bit access. */
static uint16_t *vring_idx(struct vvirtio_net *d, uint64_t ipa)
{
    uint64_t n;
    void *p = d->ops->map(d->ctx, ipa, 2, &n);

    return p && n == 2 && ((uintptr_t)p & 1) == 0 ? p : NULL;
}

/* The rings lie below 2^64 and are aligned; whether they are guest RAM shows as they are used. */
static bool vring_rings_ok(const struct vvirtio_net_queue *q)
{
    return vring_range_ok(q->desc, (uint64_t)q->num * DESC_SIZE) &&
           vring_range_ok(q->avail,
                          RING_HDR_SIZE + (uint64_t)q->num * AVAIL_ELEM + RING_TAIL_SIZE) &&
           vring_range_ok(q->used, RING_HDR_SIZE + (uint64_t)q->num * USED_ELEM + RING_TAIL_SIZE) &&
           q->desc % DESC_ALIGN == 0 && q->avail % AVAIL_ALIGN == 0 && q->used % USED_ALIGN == 0;
}

/*
 * How many buffers the driver has made available past last_avail: 0 when none, -1 when the rings
 * are unusable (not RAM, or an index more than a queue ahead: 2.7.6).
 */
static int vring_pending(struct vvirtio_net *d, const struct vvirtio_net_queue *q)
{
    uint16_t *idx = vring_rings_ok(q) ? vring_idx(d, q->avail + RING_IDX_OFF) : NULL;
    uint16_t pending;

    if (!idx)
        return -1;
    pending = (uint16_t)(__atomic_load_n(idx, __ATOMIC_RELAXED) - q->last_avail);
    /* Entries the driver wrote before avail->idx must be read after it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return pending > q->num ? -1 : pending;
}

/* The head of the i-th pending buffer, or -1 if it is not a descriptor index or not RAM. */
static int vring_head(struct vvirtio_net *d, const struct vvirtio_net_queue *q, unsigned i)
{
    uint8_t raw[AVAIL_ELEM];
    uint64_t at = q->avail + RING_HDR_SIZE + ((q->last_avail + i) & (q->num - 1)) * AVAIL_ELEM;

    if (vring_copy(d, at, raw, sizeof(raw), false))
        return -1;
    return vring_le16(raw) < q->num ? vring_le16(raw) : -1;
}

/* Whether the driver asked for no used buffer notification (VIRTQ_AVAIL_F_NO_INTERRUPT). */
static bool vring_quiet(struct vvirtio_net *d, const struct vvirtio_net_queue *q)
{
    uint8_t raw[2];

    return !vring_copy(d, q->avail, raw, sizeof(raw), false) &&
           (vring_le16(raw) & AVAIL_F_NO_INTERRUPT);
}

/*
 * Descriptor idx of q's table into addr/len/flags/next: false if idx is past the table or the
 * entry is not guest RAM.
 */
static bool vring_desc(struct vvirtio_net *d, const struct vvirtio_net_queue *q, unsigned idx,
                       uint64_t *addr, uint32_t *len, uint16_t *flags, uint16_t *next)
{
    uint8_t raw[DESC_SIZE];

    if (idx >= q->num || vring_copy(d, q->desc + (uint64_t)idx * DESC_SIZE, raw, DESC_SIZE, false))
        return false;
    *addr = vring_le64(raw);
    *len = vring_le32(raw + 8);
    *flags = vring_le16(raw + 12);
    *next = vring_le16(raw + 14);
    return true;
}

/*
 * Hand n buffers back: used entries (head, len) and then used->idx, in that order (2.7.8.2).
 * false if the used ring is not guest RAM.
 */
static bool vring_give_back(struct vvirtio_net *d, struct vvirtio_net_queue *q,
                            const uint16_t *heads, const uint32_t *lens, unsigned n)
{
    uint16_t *idx = vring_idx(d, q->used + RING_IDX_OFF);
    uint8_t elem[USED_ELEM];

    if (!idx)
        return false;
    for (unsigned i = 0; i < n; i++) {
        uint64_t at =
            q->used + RING_HDR_SIZE + (uint64_t)((q->used_idx + i) & (q->num - 1)) * USED_ELEM;

        vring_put_le(elem, heads[i], 4);
        vring_put_le(elem + 4, lens ? lens[i] : 0, 4);
        if (vring_copy(d, at, elem, sizeof(elem), true))
            return false;
    }
    q->used_idx = (uint16_t)(q->used_idx + n);
    q->last_avail = (uint16_t)(q->last_avail + n);
    /* The entries (and the data before them) must be visible before the index that hands over. */
    __atomic_store_n(idx, q->used_idx, __ATOMIC_RELEASE);
    return true;
}

/*
 * Gather the transmit chain at head into tx_buf: the header and the frame, framed freely over the
 * descriptors (VERSION_1 implies ANY_LAYOUT, 2.7.4). *len is the frame's length. A chain longer
 * than tx_buf is refused as soon as that shows: nothing past it is read or checked.
 */
static enum vring_verdict vring_tx_gather(struct vvirtio_net *d, const struct vvirtio_net_queue *q,
                                          uint16_t head, size_t *len)
{
    uint64_t total = 0, addr;
    uint32_t dlen;
    uint16_t flags, next, idx = head;

    for (unsigned n = 0; n < q->num && n < VVIRTIO_NET_DESC_MAX; n++) {
        if (!vring_desc(d, q, idx, &addr, &dlen, &flags, &next))
            return VRING_BAD_DESC;
        if (flags & (DESC_F_WRITE | DESC_F_INDIRECT))
            return VRING_BAD_DESC;
        if (dlen > sizeof(d->tx_buf) - total)
            return VRING_BAD_LEN;
        if (vring_copy(d, addr, d->tx_buf + total, dlen, false))
            return VRING_BAD_DESC;
        total += dlen;
        if (!(flags & DESC_F_NEXT)) {
            if (total < VVIRTIO_NET_HDR_SIZE + VSWITCH_FRAME_MIN)
                return VRING_BAD_LEN;
            *len = total - VVIRTIO_NET_HDR_SIZE;
            return VRING_OK;
        }
        idx = next;
    }
    /* More descriptors than the queue holds (only a loop makes that: 2.7.5) or than we walk. */
    return VRING_BAD_DESC;
}

/*
 * One pass over the available transmit buffers, unlocked (so send can deliver to other devices
 * and the switch can call this device's receive side): each good frame goes to send; every chain,
 * good or not, goes back through the used ring in one update, under the lock and only if no reset
 * or queue change came meanwhile. Returns whether anything was sent.
 */
static bool vvirtio_net_tx_pass(struct vvirtio_net *d, unsigned long *flags)
{
    struct vvirtio_net_queue q = d->q[VVIRTIO_NET_TXQ];
    uint32_t gen = d->gen;
    uint64_t frames = 0, bad_desc = 0, bad_len = 0;
    unsigned n = 0;
    int pending;

    if (!vvirtio_net_queue_live(d, VVIRTIO_NET_TXQ))
        return false;
    spin_unlock_irqrestore(&d->lock, *flags);
    pending = vring_pending(d, &q);
    for (int i = 0; i < pending; i++) {
        int head = vring_head(d, &q, (unsigned)i);
        size_t len;

        if (head < 0) {
            pending = -1;
            break;
        }
        d->tx_heads[n++] = (uint16_t)head;
        switch (vring_tx_gather(d, &q, (uint16_t)head, &len)) {
        case VRING_OK:
            d->ops->send(d->ctx, d->tx_buf + VVIRTIO_NET_HDR_SIZE, len);
            frames++;
            break;
        case VRING_BAD_DESC: bad_desc++; break;
        case VRING_BAD_LEN: bad_len++; break;
        }
    }
    *flags = vvirtio_net_lock(d);
    d->stats.tx_frames += frames;
    d->stats.tx_bad_desc += bad_desc;
    d->stats.tx_bad_len += bad_len;
    if (gen != d->gen || !vvirtio_net_queue_live(d, VVIRTIO_NET_TXQ))
        return frames != 0;
    if (pending < 0 || !vring_give_back(d, &q, d->tx_heads, NULL, n)) {
        vvirtio_net_needs_reset(d);
        return frames != 0;
    }
    d->q[VVIRTIO_NET_TXQ].last_avail = q.last_avail;
    d->q[VVIRTIO_NET_TXQ].used_idx = q.used_idx;
    if (n && !vring_quiet(d, &q))
        d->int_status |= VVIRTIO_NET_INT_USED;
    return frames != 0;
}

void vvirtio_net_tx(struct vvirtio_net *d, unsigned long flags)
{
    bool sent = false;

    if (d->tx_busy) {
        d->tx_pending = true;
        spin_unlock_irqrestore(&d->lock, flags);
        return;
    }
    d->tx_busy = true;
    do {
        d->tx_pending = false;
        sent |= vvirtio_net_tx_pass(d, &flags);
    } while (d->tx_pending);
    d->tx_busy = false;
    vvirtio_net_unlock_sync(d, flags);
    if (sent)
        d->ops->flush(d->ctx);
}

/*
 * Walk the receive chain at head (the buffer number chain of this frame), appending the pieces
 * the frame still needs (need - *cap bytes) to rx_segs from *nsegs on: every descriptor must be
 * device-writable (2.7.4.2), every piece guest RAM; bytes past what the frame needs are neither
 * checked nor touched. *walked counts the descriptors read for this frame (VVIRTIO_NET_DESC_MAX
 * at most, which also ends a loop).
 */
static enum vring_verdict vring_rx_walk(struct vvirtio_net *d, const struct vvirtio_net_queue *q,
                                        uint16_t head, uint16_t chain, uint64_t need,
                                        unsigned *walked, unsigned *nsegs, uint64_t *cap)
{
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next, idx = head;

    for (unsigned n = 0; n < q->num; n++) {
        if (++*walked > VVIRTIO_NET_DESC_MAX || !vring_desc(d, q, idx, &addr, &len, &flags, &next))
            return VRING_BAD_DESC;
        if ((flags & (DESC_F_WRITE | DESC_F_INDIRECT)) != DESC_F_WRITE)
            return VRING_BAD_DESC;
        if (*cap < need && len) {
            uint32_t use = need - *cap < len ? (uint32_t)(need - *cap) : len;

            if (vring_copy(d, addr, NULL, use, true))
                return VRING_BAD_DESC;
            d->rx_segs[*nsegs] = (struct vvirtio_net_seg){addr, use, chain};
            ++*nsegs;
            *cap += use;
        }
        if (!(flags & DESC_F_NEXT))
            return VRING_OK;
        idx = next;
    }
    return VRING_BAD_DESC;
}

/* Scatter header and frame over the segments: each chain's used length in rx_lens. */
static bool vring_rx_scatter(struct vvirtio_net *d, unsigned nsegs, unsigned nchains,
                             const void *frame, size_t len)
{
    uint8_t hdr[VVIRTIO_NET_HDR_SIZE] = {0}; /* no flags, GSO_NONE (5.1.6) */
    size_t total = VVIRTIO_NET_HDR_SIZE + len, done = 0;

    vring_put_le(hdr + HDR_NUM_BUFFERS, nchains, 2);
    for (unsigned i = 0; i < nchains; i++)
        d->rx_lens[i] = 0;
    for (unsigned s = 0; s < nsegs && done < total; s++) {
        const struct vvirtio_net_seg *g = &d->rx_segs[s];
        size_t n = total - done < g->len ? total - done : g->len, off = 0;

        /* The header's part of this segment, then the frame's. */
        if (done < VVIRTIO_NET_HDR_SIZE) {
            off = VVIRTIO_NET_HDR_SIZE - done < n ? VVIRTIO_NET_HDR_SIZE - done : n;
            if (vring_copy(d, g->addr, hdr + done, off, true))
                return false;
        }
        if (n > off &&
            vring_copy(d, g->addr + off, (uint8_t *)frame + (done + off - VVIRTIO_NET_HDR_SIZE),
                       n - off, true))
            return false;
        d->rx_lens[g->chain] += (uint32_t)n;
        done += n;
    }
    return done == total;
}

/*
 * Locked (called by the switch). Buffers are taken one chain at a time until the header and frame
 * fit: with MRG_RXBUF over as many chains as needed (num_buffers says how many), without it in the
 * first chain alone. Too few buffers available: nothing is taken and the frame is dropped, the
 * backpressure the switch expects. A malformed, empty or (without MRG_RXBUF) too small buffer goes
 * back unused, with the ones taken before it, and the frame is dropped.
 */
bool vvirtio_net_rx(struct vvirtio_net *d, const void *frame, size_t len)
{
    unsigned long flags = vvirtio_net_lock(d);
    struct vvirtio_net_queue *q = &d->q[VVIRTIO_NET_RXQ];
    bool mrg = d->driver_features & VVIRTIO_NET_F_MRG_RXBUF;
    uint64_t need = VVIRTIO_NET_HDR_SIZE + len, cap = 0;
    unsigned nchains = 0, nsegs = 0, walked = 0;
    bool bad = false, ok = false;
    int pending;

    if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX ||
        !vvirtio_net_queue_live(d, VVIRTIO_NET_RXQ)) {
        d->stats.rx_no_buffer++;
        goto out;
    }
    pending = vring_pending(d, q);
    while (pending >= 0 && cap < need && !bad) {
        uint64_t had = cap;
        int head;

        if (nchains == (unsigned)pending) {
            d->stats.rx_no_buffer++;
            goto out;
        }
        head = vring_head(d, q, nchains);
        if (head < 0) {
            pending = -1;
            break;
        }
        d->rx_heads[nchains] = (uint16_t)head;
        /* A buffer with no room at all would leave its used entry empty inside a frame. */
        bad = vring_rx_walk(d, q, (uint16_t)head, (uint16_t)nchains, need, &walked, &nsegs, &cap) !=
                  VRING_OK ||
              cap == had || (!mrg && cap < need);
        nchains++;
    }
    if (pending < 0) {
        vvirtio_net_needs_reset(d);
        goto out;
    }
    if (bad) {
        d->stats.rx_bad_buffer += nchains;
        if (!vring_give_back(d, q, d->rx_heads, NULL, nchains))
            vvirtio_net_needs_reset(d);
        goto out;
    }
    if (!vring_rx_scatter(d, nsegs, nchains, frame, len) ||
        !vring_give_back(d, q, d->rx_heads, d->rx_lens, nchains)) {
        vvirtio_net_needs_reset(d);
        goto out;
    }
    d->stats.rx_frames++;
    ok = true;
out:
    /*
     * Buffers given back are worth a notification unless the driver wants none: a received frame's
     * at the end of the switch's batch (vvirtio_net_rx_flush), unused ones now, since the switch
     * flushes only ports that took a frame (set_irq takes no lock the switch's callers hold).
     */
    if (nchains && vvirtio_net_queue_live(d, VVIRTIO_NET_RXQ) && !vring_quiet(d, q)) {
        if (ok)
            d->rx_irq_due = true;
        else if (bad)
            d->int_status |= VVIRTIO_NET_INT_USED;
    }
    vvirtio_net_unlock_sync(d, flags);
    return ok;
}
