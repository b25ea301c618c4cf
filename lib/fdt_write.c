/* fdt_write.c - sequential DTB writer (Devicetree Specification v0.4, chapter 5), no allocation. */
#include "lib/errno.h"
#include "lib/fdt_priv.h"
#include "lib/fdt_write.h"
#include "lib/string.h"

/* Structure block tokens (DT spec 5.4.1). */
#define FDT_BEGIN_NODE 0x1u
#define FDT_END_NODE   0x2u
#define FDT_PROP       0x3u
#define FDT_END        0x9u

#define FDT_HEADER_SIZE   40 /* version 17 header: ten big-endian u32 (DT spec 5.2) */
#define FDT_VERSION       17
#define FDT_LAST_COMPAT   16
#define FDT_MAX_NAME      31 /* node-name and property-name length limit (DT spec 2.2.1, 2.2.4) */
#define FDT_TOTALSIZE_MAX 0xffffffffu

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static void fail(struct fdt_writer *w, int code)
{
    if (!w->error)
        w->error = code;
}

/* Claims n bytes of the structure area, or records -ENOSPC and returns NULL. The strings block
   below the end of the buffer is never overwritten: off + strings <= cap always holds. */
static uint8_t *claim(struct fdt_writer *w, size_t n)
{
    uint8_t *p;

    if (w->error)
        return NULL;
    if (n > w->cap - w->strings - w->off) {
        fail(w, -ENOSPC);
        return NULL;
    }
    p = w->buf + w->off;
    w->off += n;
    return p;
}

/* Claims n bytes padded with zeros to the 4-byte alignment of structure tokens (DT spec 5.4). */
static uint8_t *claim_padded(struct fdt_writer *w, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    uint8_t *p;

    if (padded < n) {
        fail(w, -ENOSPC);
        return NULL;
    }
    p = claim(w, padded);
    if (p)
        memset(p + n, 0, padded - n);
    return p;
}

static void token(struct fdt_writer *w, uint32_t tok)
{
    uint8_t *p = claim(w, 4);

    if (p)
        put32(p, tok);
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Node names are node-name[@unit-address]: node-name is 1..31 of [0-9a-zA-Z,._+-] starting with
   a letter, the unit address uses the same characters (DT spec 2.2.1, table 2.1). */
static bool node_name_valid(const char *name)
{
    size_t n = 0;
    bool at = false;

    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
        return false;
    for (const char *c = name; *c; c++) {
        if (*c == '@' && !at && c[1]) {
            at = true;
            continue;
        }
        if (!is_alnum(*c) && !strchr(",._+-", *c))
            return false;
        if (!at && ++n > FDT_MAX_NAME)
            return false;
    }
    return true;
}

/* Property names are 1..31 of [0-9a-zA-Z,._+?#-] (DT spec 2.2.4, table 2.2). */
static bool prop_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > FDT_MAX_NAME)
        return false;
    for (const char *c = name; *c; c++) {
        if (!is_alnum(*c) && !strchr(",._+?#-", *c))
            return false;
    }
    return true;
}

/* Finds or adds name in the strings block. Returns its distance from the end of the buffer
   (>= 1; the final offset is known only at finish), or 0 after recording -ENOSPC. */
static size_t string_ref(struct fdt_writer *w, const char *name)
{
    size_t len = strlen(name) + 1;
    const uint8_t *end;

    if (w->error)
        return 0;
    end = w->buf + w->cap;
    for (const uint8_t *s = end - w->strings; s < end;) {
        size_t slen = strlen((const char *)s) + 1;
        if (slen == len && memcmp(s, name, len) == 0)
            return (size_t)(end - s);
        s += slen;
    }
    if (len > w->cap - w->strings - w->off) {
        fail(w, -ENOSPC);
        return 0;
    }
    w->strings += len;
    memcpy(w->buf + w->cap - w->strings, name, len);
    return w->strings;
}

void fdt_write_init(struct fdt_writer *w, void *buf, size_t len)
{
    uint8_t *header;

    memset(w, 0, sizeof(*w));
    w->buf = buf;
    /* totalsize is a u32, so more room than that could never be used. */
    w->cap = len > FDT_TOTALSIZE_MAX ? FDT_TOTALSIZE_MAX : len;
    header = claim(w, FDT_HEADER_SIZE);
    if (header)
        memset(header, 0, FDT_HEADER_SIZE);
}

void fdt_write_reserve(struct fdt_writer *w, uint64_t addr, uint64_t size)
{
    uint8_t *p;

    /* A (0, 0) entry would end the block early (DT spec 5.3.2). */
    if (w->started || size == 0) {
        fail(w, -EINVAL);
        return;
    }
    p = claim(w, FDT_RSV_ENTRY);
    if (p) {
        put64(p, addr);
        put64(p + 8, size);
    }
}

void fdt_write_begin_node(struct fdt_writer *w, const char *name)
{
    uint8_t *p;
    size_t len = strlen(name) + 1;

    if (w->depth == 0) {
        /* Exactly one root, named "" (DT spec 5.4.1). */
        if (w->started || name[0]) {
            fail(w, -EINVAL);
            return;
        }
        p = claim(w, FDT_RSV_ENTRY);
        if (!p)
            return;
        memset(p, 0, FDT_RSV_ENTRY);
        w->started = true;
        w->off_struct = w->off;
    } else if (!node_name_valid(name)) {
        fail(w, -EINVAL);
        return;
    }
    token(w, FDT_BEGIN_NODE);
    p = claim_padded(w, len);
    if (!p)
        return;
    memcpy(p, name, len);
    w->depth++;
    w->props_open = true;
}

void fdt_write_end_node(struct fdt_writer *w)
{
    if (w->depth == 0) {
        fail(w, -EINVAL);
        return;
    }
    token(w, FDT_END_NODE);
    w->depth--;
    w->props_open = false;
}

/* Emits a property header and returns its zero-padded value area of len bytes, or NULL. */
static uint8_t *prop_value(struct fdt_writer *w, const char *name, size_t len)
{
    uint8_t *p;
    size_t ref;

    if (w->error)
        return NULL;
    /* A node's properties precede its children (DT spec 5.4.2). */
    if (!w->props_open || !prop_name_valid(name) || len > FDT_TOTALSIZE_MAX) {
        fail(w, -EINVAL);
        return NULL;
    }
    ref = string_ref(w, name);
    token(w, FDT_PROP);
    p = claim(w, 8);
    if (!p)
        return NULL;
    put32(p, (uint32_t)len);
    /* Provisional nameoff, made relative to the strings block by fdt_write_finish(). */
    put32(p + 4, (uint32_t)ref);
    return claim_padded(w, len);
}

void fdt_write_prop(struct fdt_writer *w, const char *name, const void *val, size_t len)
{
    uint8_t *p = prop_value(w, name, len);

    if (p && len)
        memcpy(p, val, len);
}

void fdt_write_prop_empty(struct fdt_writer *w, const char *name)
{
    prop_value(w, name, 0);
}

void fdt_write_prop_u32(struct fdt_writer *w, const char *name, uint32_t val)
{
    fdt_write_prop_cells(w, name, &val, 1);
}

void fdt_write_prop_u64(struct fdt_writer *w, const char *name, uint64_t val)
{
    uint32_t cells[2] = {(uint32_t)(val >> 32), (uint32_t)val};

    fdt_write_prop_cells(w, name, cells, 2);
}

void fdt_write_prop_cells(struct fdt_writer *w, const char *name, const uint32_t *cells, size_t n)
{
    uint8_t *p;

    if (n > FDT_TOTALSIZE_MAX / 4) {
        fail(w, -EINVAL);
        return;
    }
    p = prop_value(w, name, n * 4);
    for (size_t i = 0; p && i < n; i++)
        put32(p + 4 * i, cells[i]);
}

void fdt_write_prop_str(struct fdt_writer *w, const char *name, const char *s)
{
    fdt_write_prop(w, name, s, strlen(s) + 1);
}

void fdt_write_prop_strs(struct fdt_writer *w, const char *name, const char *const *list, size_t n)
{
    size_t total = 0;
    uint8_t *p;

    for (size_t i = 0; i < n; i++)
        total += strlen(list[i]) + 1;
    p = prop_value(w, name, total);
    for (size_t i = 0; p && i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        memcpy(p, list[i], len);
        p += len;
    }
}

/* Turns each property's provisional nameoff (distance of its name from the buffer's end) into
   an offset within the strings block, which ends at the buffer's end until it is moved. */
static void fix_name_offsets(struct fdt_writer *w)
{
    size_t pos = w->off_struct;

    for (;;) {
        uint32_t tok = fdt_be32(w->buf + pos);
        pos += 4;
        if (tok == FDT_END)
            return;
        if (tok == FDT_BEGIN_NODE) {
            pos += (strlen((const char *)w->buf + pos) + 1 + 3) & ~(size_t)3;
        } else if (tok == FDT_PROP) {
            uint32_t len = fdt_be32(w->buf + pos);
            uint32_t ref = fdt_be32(w->buf + pos + 4);
            put32(w->buf + pos + 4, (uint32_t)(w->strings - ref));
            pos += 8 + ((len + (size_t)3) & ~(size_t)3);
        }
    }
}

int fdt_write_finish(struct fdt_writer *w, size_t *total)
{
    uint8_t *h;
    int rc;

    if (!w->error && (!w->started || w->depth))
        fail(w, -EINVAL);
    token(w, FDT_END);
    rc = w->error;
    if (rc)
        return rc;
    fix_name_offsets(w);
    memmove(w->buf + w->off, w->buf + w->cap - w->strings, w->strings);
    /* Header fields in DT spec 5.2 order. */
    h = w->buf;
    put32(h + 0, FDT_MAGIC);
    put32(h + 4, (uint32_t)(w->off + w->strings));
    put32(h + 8, (uint32_t)w->off_struct);
    put32(h + 12, (uint32_t)w->off);
    put32(h + 16, FDT_HEADER_SIZE);
    put32(h + 20, FDT_VERSION);
    put32(h + 24, FDT_LAST_COMPAT);
    put32(h + 28, 0); /* boot_cpuid_phys: the guest boots on CPU 0 */
    put32(h + 32, (uint32_t)w->strings);
    put32(h + 36, (uint32_t)(w->off - w->off_struct));
    *total = w->off + w->strings;
    /* The strings have moved, so appending now would corrupt the blob. */
    w->error = -EINVAL;
    return 0;
}
