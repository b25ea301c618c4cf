/* vswitch.c - a learning Ethernet switch between ports: MAC learning with ageing, flooding. */
#include "vmm/vswitch.h"

#include "kernel/kmalloc.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/printf.h"
#include "lib/string.h"

#define VSWITCH_MAX   8   /* switches; created on first use, never removed */
#define VSWITCH_PORTS 16  /* ports per switch (a bit each in flush_mask) */
#define VSWITCH_MACS  256 /* learnt addresses per switch: a power of 2 */
#define VSWITCH_PROBE 8   /* slots an address may occupy from its hash on */
/* An address not seen for this long is forgotten (IEEE 802.1D's default ageing time, 300 s). */
#define VSWITCH_AGE_NS (300ull * 1000000000ull)
#define ETH_ALEN       6

_Static_assert((VSWITCH_MACS & (VSWITCH_MACS - 1)) == 0, "the hash masks with VSWITCH_MACS - 1");
_Static_assert(VSWITCH_PORTS <= 32, "flush_mask has a bit per port");

struct vswitch;

/** A port. name, ops, ctx, sw and index are fixed while attached; sw->lock protects the rest. */
struct vswitch_port {
    struct vswitch *sw;
    unsigned index; /* in sw->ports */
    char name[VSWITCH_NAME_MAX];
    const struct vswitch_port_ops *ops;
    void *ctx;
    uint32_t flush_mask; /* ports delivered to since this port's last vswitch_flush */
    struct vswitch_port_stats stats;
};

/** A learnt address: frames to mac go to port (an index in ports) while seen_ns is recent. */
struct vswitch_mac {
    uint8_t mac[ETH_ALEN];
    bool used;
    uint8_t port;
    uint64_t seen_ns;
};

/**
 * A switch. name is set once, when the slot is taken under vswitch_table_lock; lock protects
 * ports and macs. Callbacks run with lock held, which is how vswitch_detach() knows none runs.
 */
struct vswitch {
    char name[VSWITCH_NAME_MAX];
    spinlock_t lock;
    struct vswitch_port *ports[VSWITCH_PORTS];
    struct vswitch_mac macs[VSWITCH_MACS];
};

static struct vswitch vswitch_table[VSWITCH_MAX];
static unsigned vswitch_count; /* slots in use: written under vswitch_table_lock, read atomically */
static spinlock_t vswitch_table_lock = SPINLOCK_INIT;

static void vswitch_copy_name(char *dst, const char *src)
{
    size_t n = strnlen(src, VSWITCH_NAME_MAX - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The switch named name (compared as truncated to VSWITCH_NAME_MAX - 1), created if new. */
static struct vswitch *vswitch_get(const char *name)
{
    char key[VSWITCH_NAME_MAX];
    struct vswitch *sw = NULL;
    unsigned long flags;

    vswitch_copy_name(key, name);
    flags = spin_lock_irqsave(&vswitch_table_lock);
    for (unsigned i = 0; i < vswitch_count && !sw; i++) {
        if (!strcmp(vswitch_table[i].name, key))
            sw = &vswitch_table[i];
    }
    if (!sw && vswitch_count < VSWITCH_MAX) {
        sw = &vswitch_table[vswitch_count];
        memset(sw, 0, sizeof(*sw));
        memcpy(sw->name, key, sizeof(key));
        spin_init(&sw->lock);
        __atomic_store_n(&vswitch_count, vswitch_count + 1, __ATOMIC_RELEASE);
    }
    spin_unlock_irqrestore(&vswitch_table_lock, flags);
    return sw;
}

struct vswitch_port *vswitch_attach(const char *sw_name, const char *name,
                                    const struct vswitch_port_ops *ops, void *ctx)
{
    struct vswitch *sw = vswitch_get(sw_name);
    struct vswitch_port *p = sw ? kzalloc(sizeof(*p)) : NULL;
    unsigned long flags;

    if (!p)
        return NULL;
    p->sw = sw;
    vswitch_copy_name(p->name, name);
    p->ops = ops;
    p->ctx = ctx;
    flags = spin_lock_irqsave(&sw->lock);
    for (p->index = 0; p->index < VSWITCH_PORTS && sw->ports[p->index]; p->index++)
        ;
    if (p->index < VSWITCH_PORTS)
        sw->ports[p->index] = p;
    spin_unlock_irqrestore(&sw->lock, flags);
    if (p->index == VSWITCH_PORTS) {
        kfree(p);
        return NULL;
    }
    return p;
}

void vswitch_detach(struct vswitch_port *p)
{
    struct vswitch *sw = p->sw;
    unsigned long flags = spin_lock_irqsave(&sw->lock);

    sw->ports[p->index] = NULL;
    /* The index is free for the next port: nothing may still point it at this one's traffic. */
    for (unsigned i = 0; i < VSWITCH_MACS; i++) {
        if (sw->macs[i].used && sw->macs[i].port == p->index)
            sw->macs[i].used = false;
    }
    for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
        if (sw->ports[i])
            sw->ports[i]->flush_mask &= ~(1u << p->index);
    }
    spin_unlock_irqrestore(&sw->lock, flags);
    kfree(p);
}

static unsigned vswitch_hash(const uint8_t *mac)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (unsigned i = 0; i < ETH_ALEN; i++)
        h = (h ^ mac[i]) * 16777619u;
    return h & (VSWITCH_MACS - 1);
}

static bool vswitch_fresh(const struct vswitch_mac *e, uint64_t now)
{
    return e->used && now - e->seen_ns < VSWITCH_AGE_NS;
}

/* Locked: the entry for mac in its probe window, fresh or not, or NULL. */
static struct vswitch_mac *vswitch_find(struct vswitch *sw, const uint8_t *mac)
{
    unsigned h = vswitch_hash(mac);

    for (unsigned i = 0; i < VSWITCH_PROBE; i++) {
        struct vswitch_mac *e = &sw->macs[(h + i) & (VSWITCH_MACS - 1)];

        if (e->used && !memcmp(e->mac, mac, ETH_ALEN))
            return e;
    }
    return NULL;
}

/*
 * Locked: mac was seen on port. A new address takes a free or aged slot of its window, else the
 * least recently seen one: a full table forgets the stalest address, which is then flooded to.
 */
static void vswitch_learn(struct vswitch *sw, const uint8_t *mac, unsigned port, uint64_t now)
{
    struct vswitch_mac *e = vswitch_find(sw, mac);
    unsigned h = vswitch_hash(mac);

    if (!e) {
        for (unsigned i = 0; i < VSWITCH_PROBE; i++) {
            struct vswitch_mac *c = &sw->macs[(h + i) & (VSWITCH_MACS - 1)];

            if (!vswitch_fresh(c, now)) {
                e = c;
                break;
            }
            if (!e || c->seen_ns < e->seen_ns)
                e = c;
        }
        memcpy(e->mac, mac, ETH_ALEN);
        e->used = true;
    }
    e->port = (uint8_t)port;
    e->seen_ns = now;
}

/* Locked: hand the frame to port dst, count it, and remember to flush dst for from. */
static void vswitch_deliver(struct vswitch_port *from, struct vswitch_port *dst, const void *frame,
                            size_t len)
{
    if (dst->ops->deliver(dst->ctx, frame, len)) {
        dst->stats.tx_frames++;
        dst->stats.tx_bytes += len;
        from->flush_mask |= 1u << dst->index;
    } else {
        dst->stats.drop_refused++;
    }
}

void vswitch_send(struct vswitch_port *from, const void *frame, size_t len)
{
    struct vswitch *sw = from->sw;
    const uint8_t *dst_mac = frame, *src_mac = (const uint8_t *)frame + ETH_ALEN;
    uint64_t now = time_now_ns();
    unsigned long flags = spin_lock_irqsave(&sw->lock);

    if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX) {
        from->stats.drop_length++;
        spin_unlock_irqrestore(&sw->lock, flags);
        return;
    }
    from->stats.rx_frames++;
    from->stats.rx_bytes += len;
    /* A group source address (I/G bit set) is not a station: never learnt (802.1D 7.8). */
    if (!(src_mac[0] & 1))
        vswitch_learn(sw, src_mac, from->index, now);
    if (!(dst_mac[0] & 1)) {
        struct vswitch_mac *e = vswitch_find(sw, dst_mac);

        if (e && vswitch_fresh(e, now)) {
            /* A frame for the sender's own side goes nowhere, as a bridge filters it. */
            if (e->port != from->index)
                vswitch_deliver(from, sw->ports[e->port], frame, len);
            spin_unlock_irqrestore(&sw->lock, flags);
            return;
        }
    }
    for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
        if (sw->ports[i] && i != from->index)
            vswitch_deliver(from, sw->ports[i], frame, len);
    }
    spin_unlock_irqrestore(&sw->lock, flags);
}

void vswitch_flush(struct vswitch_port *from)
{
    struct vswitch *sw = from->sw;
    unsigned long flags = spin_lock_irqsave(&sw->lock);
    uint32_t mask = from->flush_mask;

    from->flush_mask = 0;
    for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
        struct vswitch_port *p = sw->ports[i];

        if ((mask & (1u << i)) && p && p->ops->flush)
            p->ops->flush(p->ctx);
    }
    spin_unlock_irqrestore(&sw->lock, flags);
}

void vswitch_port_stats(struct vswitch_port *p, struct vswitch_port_stats *out)
{
    unsigned long flags = spin_lock_irqsave(&p->sw->lock);

    *out = p->stats;
    spin_unlock_irqrestore(&p->sw->lock, flags);
}

/** What the report prints of a switch, copied under its lock so the printing holds none. */
struct vswitch_snapshot {
    unsigned nports, nmacs;
    struct {
        char name[VSWITCH_NAME_MAX];
        struct vswitch_port_stats stats;
    } ports[VSWITCH_PORTS];
    struct {
        uint8_t mac[ETH_ALEN];
        unsigned port; /* in ports[] of the snapshot */
        uint64_t age_ns;
    } macs[VSWITCH_MACS];
};

static void vswitch_snap(struct vswitch *sw, struct vswitch_snapshot *s)
{
    unsigned slot[VSWITCH_PORTS];
    uint64_t now = time_now_ns();
    unsigned long flags = spin_lock_irqsave(&sw->lock);

    s->nports = 0;
    s->nmacs = 0;
    for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
        if (!sw->ports[i])
            continue;
        slot[i] = s->nports;
        vswitch_copy_name(s->ports[s->nports].name, sw->ports[i]->name);
        s->ports[s->nports++].stats = sw->ports[i]->stats;
    }
    for (unsigned i = 0; i < VSWITCH_MACS; i++) {
        const struct vswitch_mac *e = &sw->macs[i];

        if (!vswitch_fresh(e, now))
            continue;
        memcpy(s->macs[s->nmacs].mac, e->mac, ETH_ALEN);
        s->macs[s->nmacs].port = slot[e->port];
        s->macs[s->nmacs++].age_ns = now - e->seen_ns;
    }
    spin_unlock_irqrestore(&sw->lock, flags);
}

void vswitch_report(void (*line)(void *arg, const char *text), void *arg)
{
    unsigned n = __atomic_load_n(&vswitch_count, __ATOMIC_ACQUIRE);
    struct vswitch_snapshot *s = n ? kmalloc(sizeof(*s)) : NULL;
    char text[160];

    if (!n) {
        line(arg, "no switch (a VM with `device = virtio-net` creates one)");
        return;
    }
    if (!s) {
        line(arg, "net: out of memory");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        vswitch_snap(&vswitch_table[i], s);
        fmt_snprintf(text, sizeof(text), "switch %s: %u ports, %u addresses learnt",
                     vswitch_table[i].name, s->nports, s->nmacs);
        line(arg, text);
        for (unsigned j = 0; j < s->nports; j++) {
            const struct vswitch_port_stats *st = &s->ports[j].stats;

            fmt_snprintf(text, sizeof(text),
                         "  port %s: rx %lu frames %lu bytes, tx %lu frames %lu bytes, "
                         "drops: length %lu, refused %lu",
                         s->ports[j].name, (unsigned long)st->rx_frames,
                         (unsigned long)st->rx_bytes, (unsigned long)st->tx_frames,
                         (unsigned long)st->tx_bytes, (unsigned long)st->drop_length,
                         (unsigned long)st->drop_refused);
            line(arg, text);
        }
        for (unsigned j = 0; j < s->nmacs; j++) {
            const uint8_t *m = s->macs[j].mac;

            fmt_snprintf(text, sizeof(text), "  mac %02x:%02x:%02x:%02x:%02x:%02x on %s, %lu s ago",
                         m[0], m[1], m[2], m[3], m[4], m[5], s->ports[s->macs[j].port].name,
                         (unsigned long)(s->macs[j].age_ns / 1000000000ull));
            line(arg, text);
        }
    }
    kfree(s);
}
