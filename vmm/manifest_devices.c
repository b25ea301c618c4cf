/* manifest_devices.c - guest.cfg `device` and `passthrough` lines. */
#include "lib/errno.h"
#include "manifest_priv.h"

/* Split off the text up to the next ',' (or the end), trimmed. */
static struct slice next_option(struct slice *rest)
{
    const char *comma = find_char(rest->s, ',', rest->n);
    size_t n = comma ? (size_t)(comma - rest->s) : rest->n;
    struct slice opt = {rest->s, n};

    rest->s += comma ? n + 1 : n;
    rest->n -= comma ? n + 1 : n;
    return trim(opt);
}

/* Split "key=value" at the '='; false when there is none. */
static bool split_option(struct slice opt, struct slice *key, struct slice *value)
{
    const char *eq = find_char(opt.s, '=', opt.n);

    if (!eq)
        return false;
    *key = trim((struct slice){opt.s, (size_t)(eq - opt.s)});
    *value = trim((struct slice){eq + 1, opt.n - (size_t)(eq - opt.s) - 1});
    return true;
}

static struct guest_device *mp_new_device(struct mparse *p)
{
    if (p->m->ndevices >= GUEST_MAX_DEVICES) {
        manifest_fail(p, p->line, "more than %d device and passthrough lines", GUEST_MAX_DEVICES);
        return NULL;
    }
    p->device_line[p->m->ndevices] = p->line;
    return &p->m->devices[p->m->ndevices++];
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* xx:xx:xx:xx:xx:xx, a unicast address (the I/G bit of the first byte clear). */
static int parse_mac(struct mparse *p, struct slice v, uint8_t mac[6])
{
    bool ok = v.n == 17;

    for (unsigned i = 0; ok && i < 6; i++) {
        int hi = hex_digit(v.s[3 * i]), lo = hex_digit(v.s[3 * i + 1]);

        ok = hi >= 0 && lo >= 0 && (i == 5 || v.s[3 * i + 2] == ':');
        if (ok)
            mac[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!ok)
        return manifest_fail(
            p, p->line, "virtio-net mac must be like 02:00:00:00:00:01, got '%.*s'", shown(v), v.s);
    if (mac[0] & 1)
        return manifest_fail(p, p->line, "virtio-net mac %.*s is a multicast address", shown(v),
                             v.s);
    return 0;
}

/* device = virtio-net[,mac=<xx:xx:xx:xx:xx:xx>][,switch=<name>] */
static int manifest_net(struct mparse *p, struct slice v)
{
    struct guest_device *d = mp_new_device(p);
    bool have_switch = false;
    struct slice key, value;

    if (!d)
        return -EINVAL;
    d->kind = GUEST_DEV_VIRTIO_NET;
    memcpy(d->net_switch, VSWITCH_DEFAULT, sizeof(VSWITCH_DEFAULT));
    while (v.n) {
        struct slice opt = next_option(&v);
        int err = 0;

        if (split_option(opt, &key, &value) && slice_is(key, "mac") && !d->has_mac) {
            d->has_mac = true;
            err = parse_mac(p, value, d->mac);
        } else if (split_option(opt, &key, &value) && slice_is(key, "switch") && !have_switch) {
            have_switch = true;
            if (value.n >= VSWITCH_NAME_MAX)
                err = manifest_fail(p, p->line, "virtio-net switch name longer than %d bytes",
                                    VSWITCH_NAME_MAX - 1);
            else
                err = manifest_name(p, value, d->net_switch, "virtio-net switch");
        } else {
            err = manifest_fail(p, p->line,
                                "virtio-net option '%.*s' unknown or repeated (options: "
                                "mac=<xx:xx:xx:xx:xx:xx>, switch=<name>)",
                                shown(opt), opt.s);
        }
        if (err)
            return err;
    }
    return 0;
}

/* device = virtio-blk,image=<path>[,readonly] | virtio-net[,...] */
int manifest_device(struct mparse *p, struct slice v)
{
    struct slice kind = next_option(&v), key, value;
    struct guest_device *d;

    if (slice_is(kind, "virtio-net"))
        return manifest_net(p, v);
    if (!slice_is(kind, "virtio-blk"))
        return manifest_fail(p, p->line, "unknown device '%.*s' (known: virtio-blk, virtio-net)",
                             shown(kind), kind.s);
    d = mp_new_device(p);
    if (!d)
        return -EINVAL;
    d->kind = GUEST_DEV_VIRTIO_BLK;
    while (v.n) {
        struct slice opt = next_option(&v);
        if (slice_is(opt, "readonly") && !d->read_only) {
            d->read_only = true;
        } else if (split_option(opt, &key, &value) && slice_is(key, "image") && !d->image[0]) {
            int err = manifest_path(p, "image", value, d->image);
            if (err)
                return err;
        } else {
            return manifest_fail(
                p, p->line,
                "virtio-blk option '%.*s' unknown or repeated (options: image=<path>, "
                "readonly)",
                shown(opt), opt.s);
        }
    }
    if (!d->image[0])
        return manifest_fail(p, p->line, "virtio-blk needs image=<path>");
    return 0;
}

/* passthrough = <label>@0x<base>[,size=<size>][,irq=<intid>] */
int manifest_passthrough(struct mparse *p, struct slice v)
{
    struct slice head = next_option(&v), key, value;
    const char *at = find_char(head.s, '@', head.n);
    bool have_size = false, have_irq = false;
    struct guest_device *d;
    uint64_t x;

    if (!at)
        return manifest_fail(p, p->line,
                             "passthrough must start with <label>@0x<address>, got '%.*s'",
                             shown(head), head.s);
    d = mp_new_device(p);
    if (!d)
        return -EINVAL;
    d->kind = GUEST_DEV_PASSTHROUGH;
    d->size = GUEST_PASSTHROUGH_DEFAULT_SIZE;
    struct slice label = trim((struct slice){head.s, (size_t)(at - head.s)});
    struct slice base = trim((struct slice){at + 1, head.n - (size_t)(at - head.s) - 1});
    int err = manifest_name(p, label, d->label, "passthrough label");
    if (!err)
        err = manifest_addr(p, "passthrough address", base, &d->base);
    while (!err && v.n) {
        struct slice opt = next_option(&v);
        if (!split_option(opt, &key, &value)) {
            err = manifest_fail(p, p->line, "passthrough option '%.*s' is not key=value",
                                shown(opt), opt.s);
        } else if (slice_is(key, "size") && !have_size) {
            have_size = true;
            if (manifest_size(value, &d->size))
                err = manifest_fail(p, p->line,
                                    "passthrough size must be like 0x1000 or 4K, got '%.*s'",
                                    shown(value), value.s);
        } else if (slice_is(key, "irq") && !have_irq) {
            have_irq = true;
            if (manifest_dec(value, &x) || x < GUEST_SPI_MIN || x > GUEST_SPI_MAX)
                err = manifest_fail(p, p->line,
                                    "passthrough irq must be an SPI INTID %d..%d, got %.*s",
                                    GUEST_SPI_MIN, GUEST_SPI_MAX, shown(value), value.s);
            else
                d->irq = (uint32_t)x;
        } else {
            err = manifest_fail(
                p, p->line, "passthrough option '%.*s' unknown or repeated (options: size, irq)",
                shown(key), key.s);
        }
    }
    return err;
}
