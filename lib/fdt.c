/* fdt.c - defensive flattened device tree reader: every offset and length is checked before use. */
#include <stdarg.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/printf.h"
#include "lib/string.h"

/* Structure-block tokens and header layout: Devicetree Specification v0.4, chapter 5. */
#define FDT_BEGIN_NODE 0x1u
#define FDT_END_NODE   0x2u
#define FDT_PROP       0x3u
#define FDT_NOP        0x4u
#define FDT_END        0x9u

#define FDT_HEADER_V16   36 /* size_dt_struct arrived with version 17 */
#define FDT_HEADER_V17   40
#define FDT_LAST_VERSION 17 /* newest layout this reader understands */
#define FDT_RSV_ENTRY    16

/** One decoded token of the structure block. */
struct fdt_token {
    uint32_t tag;
    uint32_t next;      /* offset of the following token, always > this token's */
    const char *name;   /* node or property name, NUL-terminated inside its block */
    const uint8_t *val; /* property value */
    uint32_t len;       /* property length */
};

uint32_t fdt_be32(const void *p)
{
    const uint8_t *b = p;

    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_be64(const void *p)
{
    return (uint64_t)fdt_be32(p) << 32 | fdt_be32((const uint8_t *)p + 4);
}

__attribute__((format(printf, 3, 4))) static int fdt_fail(const struct fdt *fdt, int code,
                                                          const char *fmt, ...)
{
    va_list ap;

    if (fdt->err && fdt->errlen) {
        va_start(ap, fmt);
        fmt_vsnprintf(fdt->err, fdt->errlen, fmt, ap);
        va_end(ap);
        /* Names from the blob may hold any byte; keep the message on one printable line. */
        for (char *c = fdt->err; *c; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        }
    }
    return code;
}

static uint64_t fdt_align4(uint64_t v)
{
    return (v + 3) & ~(uint64_t)3;
}

/* Decodes the token at struct-block offset off, checking that all of it lies inside its blocks. */
static int fdt_token(const struct fdt *fdt, uint32_t off, struct fdt_token *tok)
{
    const uint8_t *s = fdt->blob + fdt->off_struct;
    uint32_t size = fdt->size_struct;
    uint64_t next;

    if (off > size || size - off < 4)
        return fdt_fail(fdt, -EUCLEAN, "fdt: struct block ends at 0x%x without FDT_END", off);
    tok->tag = fdt_be32(s + off);
    tok->name = NULL;
    tok->val = NULL;
    tok->len = 0;
    switch (tok->tag) {
    case FDT_BEGIN_NODE: {
        uint32_t start = off + 4;
        size_t n = strnlen((const char *)s + start, size - start);
        if (n == size - start)
            return fdt_fail(fdt, -EUCLEAN, "fdt: node name at struct offset 0x%x not terminated",
                            off);
        next = fdt_align4((uint64_t)start + n + 1);
        if (next > size)
            return fdt_fail(fdt, -EUCLEAN,
                            "fdt: node name at struct offset 0x%x runs past struct block", off);
        tok->name = (const char *)s + start;
        break;
    }
    case FDT_PROP: {
        uint32_t nameoff, room;
        const char *name;
        if (size - off < 12)
            return fdt_fail(fdt, -EUCLEAN,
                            "fdt: property at struct offset 0x%x runs past struct block", off);
        tok->len = fdt_be32(s + off + 4);
        nameoff = fdt_be32(s + off + 8);
        next = fdt_align4((uint64_t)off + 12 + tok->len);
        if (next > size)
            return fdt_fail(fdt, -EUCLEAN,
                            "fdt: property at struct offset 0x%x: length %u runs past struct block",
                            off, tok->len);
        if (nameoff >= fdt->size_strings)
            return fdt_fail(fdt, -EUCLEAN, "fdt: property name offset 0x%x out of strings block",
                            nameoff);
        name = (const char *)fdt->blob + fdt->off_strings + nameoff;
        room = fdt->size_strings - nameoff;
        if (strnlen(name, room) == room)
            return fdt_fail(fdt, -EUCLEAN,
                            "fdt: property name at strings offset 0x%x not terminated", nameoff);
        tok->name = name;
        tok->val = s + off + 12;
        break;
    }
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        next = (uint64_t)off + 4;
        break;
    default:
        return fdt_fail(fdt, -EUCLEAN, "fdt: unknown token 0x%x at struct offset 0x%x", tok->tag,
                        off);
    }
    tok->next = (uint32_t)next;
    return 0;
}

/* One pass over the whole token stream, so later walks meet only well-formed structure. */
static int fdt_check_structure(const struct fdt *fdt)
{
    bool had_child[FDT_MAX_DEPTH];
    bool root_seen = false;
    int depth = 0;
    uint32_t off = 0;
    struct fdt_token tok;

    for (;;) {
        int rc = fdt_token(fdt, off, &tok);
        if (rc)
            return rc;
        switch (tok.tag) {
        case FDT_BEGIN_NODE:
            if (depth == 0 && root_seen)
                return fdt_fail(fdt, -EUCLEAN, "fdt: second root node at struct offset 0x%x",
                                off);
            if (depth == FDT_MAX_DEPTH)
                return fdt_fail(fdt, -EUCLEAN, "fdt: nesting deeper than %d", FDT_MAX_DEPTH);
            if (depth > 0)
                had_child[depth - 1] = true;
            had_child[depth++] = false;
            root_seen = true;
            break;
        case FDT_END_NODE:
            if (depth == 0)
                return fdt_fail(fdt, -EUCLEAN,
                                "fdt: FDT_END_NODE without FDT_BEGIN_NODE at struct offset 0x%x",
                                off);
            depth--;
            break;
        case FDT_PROP:
            if (depth == 0)
                return fdt_fail(fdt, -EUCLEAN,
                                "fdt: property outside any node at struct offset 0x%x", off);
            /* The spec puts properties before subnodes; lookups rely on it. */
            if (had_child[depth - 1])
                return fdt_fail(fdt, -EUCLEAN,
                                "fdt: property after a subnode at struct offset 0x%x", off);
            break;
        case FDT_END:
            if (depth != 0)
                return fdt_fail(fdt, -EUCLEAN, "fdt: FDT_END with %d node(s) still open", depth);
            if (!root_seen)
                return fdt_fail(fdt, -EUCLEAN, "fdt: no root node");
            return 0;
        default:
            break;
        }
        off = tok.next;
    }
}

int fdt_open(struct fdt *fdt, const void *blob, size_t max_size, char *err, size_t errlen)
{
    const uint8_t *b = blob;
    uint32_t magic, last_comp, hdr;

    memset(fdt, 0, sizeof(*fdt));
    fdt->err = err;
    fdt->errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    if (!b)
        return fdt_fail(fdt, -EINVAL, "fdt: no blob");
    if (max_size < FDT_HEADER_V17)
        return fdt_fail(fdt, -EINVAL, "fdt: %zu bytes is smaller than the %d-byte header",
                        max_size, FDT_HEADER_V17);
    magic = fdt_be32(b);
    if (magic != FDT_MAGIC)
        return fdt_fail(fdt, -EINVAL, "fdt: bad magic 0x%08x", magic);
    fdt->totalsize = fdt_be32(b + 4);
    fdt->off_struct = fdt_be32(b + 8);
    fdt->off_strings = fdt_be32(b + 12);
    fdt->off_rsvmap = fdt_be32(b + 16);
    fdt->version = fdt_be32(b + 20);
    last_comp = fdt_be32(b + 24);
    fdt->boot_cpuid = fdt_be32(b + 28);
    fdt->size_strings = fdt_be32(b + 32);
    fdt->size_struct = fdt_be32(b + 36);

    if (fdt->version < 16)
        return fdt_fail(fdt, -EINVAL, "fdt: version %u too old (need >= 16)", fdt->version);
    if (last_comp > FDT_LAST_VERSION)
        return fdt_fail(fdt, -EINVAL, "fdt: last compatible version %u is newer than %d",
                        last_comp, FDT_LAST_VERSION);
    hdr = fdt->version >= 17 ? FDT_HEADER_V17 : FDT_HEADER_V16;
    if (fdt->totalsize < hdr)
        return fdt_fail(fdt, -EINVAL, "fdt: totalsize %u is smaller than the header",
                        fdt->totalsize);
    if (fdt->totalsize > max_size)
        return fdt_fail(fdt, -EINVAL, "fdt: totalsize %u exceeds the %zu bytes available",
                        fdt->totalsize, max_size);
    if (fdt->off_struct % 4)
        return fdt_fail(fdt, -EINVAL, "fdt: struct block offset 0x%x not 4-byte aligned",
                        fdt->off_struct);
    if (fdt->off_struct < hdr || fdt->off_struct > fdt->totalsize)
        return fdt_fail(fdt, -EINVAL, "fdt: struct block offset 0x%x outside the blob",
                        fdt->off_struct);
    if (fdt->version < 17)
        fdt->size_struct = fdt->totalsize - fdt->off_struct;
    else if (fdt->size_struct > fdt->totalsize - fdt->off_struct)
        return fdt_fail(fdt, -EINVAL, "fdt: struct block runs past totalsize");
    if (fdt->off_strings < hdr || fdt->off_strings > fdt->totalsize ||
        fdt->size_strings > fdt->totalsize - fdt->off_strings)
        return fdt_fail(fdt, -EINVAL, "fdt: strings block runs past totalsize");
    if (fdt->off_rsvmap < hdr || fdt->off_rsvmap > fdt->totalsize ||
        fdt->totalsize - fdt->off_rsvmap < FDT_RSV_ENTRY)
        return fdt_fail(fdt, -EINVAL, "fdt: memory reservation block outside totalsize");
    fdt->blob = b;
    return fdt_check_structure(fdt);
}

uint32_t fdt_totalsize(const void *blob)
{
    if (fdt_be32(blob) != FDT_MAGIC)
        return 0;
    return fdt_be32((const uint8_t *)blob + 4);
}

/* Property lookup with a counted name, so callers can match a substring (an alias, say). */
static const uint8_t *fdt_prop_n(const struct fdt *fdt, const struct fdt_node *node,
                                 const char *name, size_t namelen, uint32_t *len)
{
    uint32_t off = node->props;
    struct fdt_token tok;

    for (;;) {
        if (fdt_token(fdt, off, &tok))
            return NULL;
        if (tok.tag == FDT_PROP) {
            if (strncmp(tok.name, name, namelen) == 0 && tok.name[namelen] == '\0') {
                if (len)
                    *len = tok.len;
                return tok.val;
            }
        } else if (tok.tag != FDT_NOP) {
            return NULL;
        }
        off = tok.next;
    }
}

const void *fdt_prop(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                     uint32_t *len)
{
    return fdt_prop_n(fdt, node, name, strlen(name), len);
}

const char *fdt_prop_str(const struct fdt *fdt, const struct fdt_node *node, const char *name)
{
    uint32_t len;
    const char *v = fdt_prop(fdt, node, name, &len);

    if (!v || len == 0 || strnlen(v, len) == len)
        return NULL;
    return v;
}

int fdt_prop_u32(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                 uint32_t *val)
{
    uint32_t len;
    const uint8_t *v = fdt_prop(fdt, node, name, &len);

    if (!v)
        return -ENOENT;
    if (len != 4)
        return fdt_fail(fdt, -EINVAL, "fdt: %s: %s has %u bytes, expected one cell", node->path,
                        name, len);
    *val = fdt_be32(v);
    return 0;
}

bool fdt_node_compatible(const struct fdt *fdt, const struct fdt_node *node, const char *compat)
{
    uint32_t len, pos = 0;
    const char *v = fdt_prop(fdt, node, "compatible", &len);
    size_t want = strlen(compat);

    if (!v)
        return false;
    /* A string list; the last entry may lack its NUL in a malformed blob, so count bytes. */
    while (pos < len) {
        size_t n = strnlen(v + pos, len - pos);
        if (n == want && memcmp(v + pos, compat, n) == 0)
            return true;
        pos += (uint32_t)n + 1;
    }
    return false;
}

bool fdt_node_enabled(const struct fdt *fdt, const struct fdt_node *node)
{
    uint32_t len;
    const char *status;

    if (!fdt_prop(fdt, node, "status", &len))
        return true;
    status = fdt_prop_str(fdt, node, "status");
    return status && (strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0);
}

int fdt_node_reg(const struct fdt *fdt, const struct fdt_node *node, int index,
                 struct fdt_region *out)
{
    uint32_t len, ac = node->addr_cells, sc = node->size_cells, entry;
    const uint8_t *v = fdt_prop(fdt, node, "reg", &len);

    if (!v)
        return -ENOENT;
    if (ac < 1 || ac > 2 || sc > 2)
        return fdt_fail(fdt, -EINVAL, "fdt: %s: reg with #address-cells %u #size-cells %u unsupported",
                        node->path, ac, sc);
    entry = (ac + sc) * 4;
    if (len % entry)
        return fdt_fail(fdt, -EINVAL, "fdt: %s: reg length %u is not a multiple of %u",
                        node->path, len, entry);
    if (index < 0 || (uint32_t)index >= len / entry)
        return -ENOENT;
    v += (uint32_t)index * entry;
    out->base = ac == 2 ? fdt_be64(v) : fdt_be32(v);
    v += ac * 4;
    out->size = sc == 2 ? fdt_be64(v) : sc == 1 ? fdt_be32(v) : 0;
    return 0;
}

void fdt_iter_init(struct fdt_iter *it)
{
    it->pos = 0;
    it->depth = 0;
    it->done = false;
    it->path[0] = '\0';
}

/* Reads the properties that shape a node's children; defaults per the spec (2 and 1 cells). */
static int fdt_level_init(const struct fdt *fdt, const struct fdt_node *node,
                          struct fdt_level *lvl)
{
    uint32_t ranges_len;
    int rc;

    lvl->addr_cells = 2;
    lvl->size_cells = 1;
    rc = fdt_prop_u32(fdt, node, "#address-cells", &lvl->addr_cells);
    if (rc && rc != -ENOENT)
        return rc;
    rc = fdt_prop_u32(fdt, node, "#size-cells", &lvl->size_cells);
    if (rc && rc != -ENOENT)
        return rc;
    lvl->interrupt_parent = node->interrupt_parent;
    /* Addresses below a bus stay CPU physical only through an empty ("1:1") ranges. */
    lvl->children_phys = node->depth == 0 ||
                         (node->phys && fdt_prop(fdt, node, "ranges", &ranges_len) && ranges_len == 0);
    return 0;
}

static int fdt_enter_node(const struct fdt *fdt, struct fdt_iter *it, const struct fdt_token *tok,
                          struct fdt_node *node)
{
    static const struct fdt_level root_parent = {2, 1, 0, true, 0};
    const struct fdt_level *parent;
    size_t pathlen, namelen = strlen(tok->name);
    uint32_t phandle;
    int rc;

    if (it->depth >= FDT_MAX_DEPTH)
        return fdt_fail(fdt, -EUCLEAN, "fdt: nesting deeper than %d", FDT_MAX_DEPTH);
    parent = it->depth ? &it->level[it->depth - 1] : &root_parent;
    pathlen = parent->pathlen;
    /* The buffer may still hold a deeper sibling's path; cut it back to the parent's. */
    it->path[pathlen] = '\0';
    if (it->depth == 0) {
        it->path[0] = '/';
        pathlen = 1;
    } else {
        if (pathlen + 1 + namelen >= FDT_MAX_PATH)
            return fdt_fail(fdt, -EUCLEAN, "fdt: path longer than %d bytes at %s/%s",
                            FDT_MAX_PATH - 1, it->path, tok->name);
        if (pathlen > 1)
            it->path[pathlen++] = '/';
        memcpy(it->path + pathlen, tok->name, namelen);
        pathlen += namelen;
    }
    it->path[pathlen] = '\0';

    node->name = tok->name;
    node->path = it->path;
    node->depth = it->depth;
    node->props = tok->next;
    node->addr_cells = parent->addr_cells;
    node->size_cells = parent->size_cells;
    node->interrupt_parent = parent->interrupt_parent;
    node->phys = parent->children_phys;
    rc = fdt_prop_u32(fdt, node, "interrupt-parent", &phandle);
    if (rc == 0)
        node->interrupt_parent = phandle;
    else if (rc != -ENOENT)
        return rc;
    rc = fdt_level_init(fdt, node, &it->level[it->depth]);
    if (rc)
        return rc;
    it->level[it->depth].pathlen = (uint16_t)pathlen;
    it->depth++;
    return 1;
}

int fdt_next_node(const struct fdt *fdt, struct fdt_iter *it, struct fdt_node *node)
{
    struct fdt_token tok;

    while (!it->done) {
        int rc = fdt_token(fdt, it->pos, &tok);
        if (rc)
            return rc;
        it->pos = tok.next;
        switch (tok.tag) {
        case FDT_BEGIN_NODE:
            return fdt_enter_node(fdt, it, &tok, node);
        case FDT_END_NODE:
            if (it->depth == 0)
                return fdt_fail(fdt, -EUCLEAN, "fdt: unbalanced FDT_END_NODE");
            it->depth--;
            break;
        case FDT_END:
            it->done = true;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Path lookup with a counted path, as stdout-path targets end at ':' rather than NUL. */
static int fdt_find_node_n(const struct fdt *fdt, const char *path, size_t pathlen,
                           struct fdt_iter *it, struct fdt_node *node)
{
    int rc;

    fdt_iter_init(it);
    while ((rc = fdt_next_node(fdt, it, node)) == 1) {
        if (strlen(node->path) == pathlen && memcmp(node->path, path, pathlen) == 0)
            return 1;
    }
    return rc;
}

int fdt_find_node(const struct fdt *fdt, const char *path, struct fdt_iter *it, struct fdt_node *node)
{
    return fdt_find_node_n(fdt, path, strlen(path), it, node);
}

/** State of one fdt_parse_platform() run. */
struct plat {
    const struct fdt *fdt;
    struct fdt_platform *out;
    uint32_t gic_phandle;
    uint32_t gic_icells;
    const char *stdout_path; /* target of /chosen stdout-path, aliases resolved; not terminated */
    size_t stdout_len;
    bool uart_is_stdout;
    bool timer_seen;
};

/* Fetches reg entry index: 1 if present, 0 if not, <0 if malformed or wrapping round. */
static int plat_reg_entry(struct plat *p, const struct fdt_node *node, int index,
                          struct fdt_region *r)
{
    int rc = fdt_node_reg(p->fdt, node, index, r);

    if (rc == -ENOENT) {
        r->base = r->size = 0;
        return 0;
    }
    if (rc)
        return rc;
    if (r->size && r->base + r->size - 1 < r->base)
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: reg entry %d wraps the address space",
                        node->path, index);
    return 1;
}

static int plat_reg(struct plat *p, const struct fdt_node *node, int index, bool required,
                    struct fdt_region *r)
{
    int rc = plat_reg_entry(p, node, index, r);

    if (rc == 0 && required)
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: reg entry %d missing", node->path, index);
    return rc < 0 ? rc : 0;
}

/* Decodes interrupt index of node as a GIC INTID (0 when absent or not routed to the GIC).
   GIC specifier: type (0 SPI, 1 PPI), number, flags; SPI n is INTID 32+n, PPI n is 16+n. */
static int plat_irq(struct plat *p, const struct fdt_node *node, int index, int *intid)
{
    uint32_t len, stride, type, num;
    const uint8_t *v;

    *intid = 0;
    if (!p->out->gic_version)
        return 0;
    if (node->interrupt_parent && node->interrupt_parent != p->gic_phandle)
        return 0;
    v = fdt_prop(p->fdt, node, "interrupts", &len);
    if (!v)
        return 0;
    stride = p->gic_icells * 4;
    if (len % stride)
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: interrupts length %u is not a multiple of %u",
                        node->path, len, stride);
    if ((uint32_t)index >= len / stride)
        return 0;
    v += (uint32_t)index * stride;
    type = fdt_be32(v);
    num = fdt_be32(v + 4);
    if (type == 0 && num < 988)
        *intid = (int)(32 + num);
    else if (type == 1 && num < 16)
        *intid = (int)(16 + num);
    else
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: interrupt type %u number %u unsupported",
                        node->path, type, num);
    return 0;
}

static int plat_add_rsv(struct plat *p, uint64_t base, uint64_t size)
{
    struct fdt_platform *out = p->out;

    if (!size)
        return 0;
    if (base + size - 1 < base)
        return fdt_fail(p->fdt, -EINVAL, "fdt: reserved region 0x%llx+0x%llx wraps",
                        (unsigned long long)base, (unsigned long long)size);
    /* Dropping a reservation could let the kernel overwrite firmware data, so refuse. */
    if (out->nrsv == FDT_MAX_RSV)
        return fdt_fail(p->fdt, -E2BIG, "fdt: more than %d reserved memory regions", FDT_MAX_RSV);
    out->rsv[out->nrsv].base = base;
    out->rsv[out->nrsv].size = size;
    out->nrsv++;
    return 0;
}

/* The /memreserve/ entries: (address, size) u64 pairs ended by a (0, 0) pair. */
static int plat_memreserve(struct plat *p)
{
    const struct fdt *fdt = p->fdt;
    uint32_t off = fdt->off_rsvmap;

    for (;;) {
        uint64_t base, size;
        int rc;
        if (fdt->totalsize - off < FDT_RSV_ENTRY)
            return fdt_fail(fdt, -EUCLEAN, "fdt: memory reservation block has no terminator");
        base = fdt_be64(fdt->blob + off);
        size = fdt_be64(fdt->blob + off + 8);
        off += FDT_RSV_ENTRY;
        if (!base && !size)
            return 0;
        rc = plat_add_rsv(p, base, size);
        if (rc)
            return rc;
    }
}

/* Reads a 32- or 64-bit address property of /chosen. */
static int plat_chosen_addr(struct plat *p, const struct fdt_node *node, const char *name,
                            uint64_t *val)
{
    uint32_t len;
    const uint8_t *v = fdt_prop(p->fdt, node, name, &len);

    if (!v)
        return 0;
    if (len == 4)
        *val = fdt_be32(v);
    else if (len == 8)
        *val = fdt_be64(v);
    else
        return fdt_fail(p->fdt, -EINVAL, "fdt: /chosen: %s has %u bytes, expected 4 or 8", name,
                        len);
    return 0;
}

static int plat_chosen(struct plat *p, const struct fdt_node *node)
{
    struct fdt_platform *out = p->out;
    const char *path;
    int rc;

    if (fdt_prop(p->fdt, node, "bootargs", NULL)) {
        out->bootargs = fdt_prop_str(p->fdt, node, "bootargs");
        if (!out->bootargs)
            return fdt_fail(p->fdt, -EINVAL, "fdt: /chosen: bootargs is not a terminated string");
    }
    rc = plat_chosen_addr(p, node, "linux,initrd-start", &out->initrd_start);
    if (rc)
        return rc;
    rc = plat_chosen_addr(p, node, "linux,initrd-end", &out->initrd_end);
    if (rc)
        return rc;
    if (out->initrd_end < out->initrd_start)
        return fdt_fail(p->fdt, -EINVAL, "fdt: /chosen: initrd ends before it starts");
    path = fdt_prop_str(p->fdt, node, "stdout-path");
    if (!path)
        path = fdt_prop_str(p->fdt, node, "linux,stdout-path");
    if (path) {
        /* "path-or-alias:options" - the options (baud rate etc.) follow a colon. */
        const char *colon = strchr(path, ':');
        p->stdout_path = path;
        p->stdout_len = colon ? (size_t)(colon - path) : strlen(path);
    }
    return 0;
}

/* A stdout-path not starting with '/' names a property of /aliases holding the real path. */
static void plat_resolve_alias(struct plat *p, const struct fdt_node *aliases)
{
    uint32_t len;
    const char *v;

    if (!p->stdout_path || p->stdout_len == 0 || p->stdout_path[0] == '/')
        return;
    v = aliases ? (const char *)fdt_prop_n(p->fdt, aliases, p->stdout_path, p->stdout_len, &len)
                : NULL;
    if (!v || len == 0 || strnlen(v, len) == len || v[0] != '/') {
        p->stdout_path = NULL;
        return;
    }
    p->stdout_path = v;
    p->stdout_len = strlen(v);
}

static int plat_gic_version(const struct fdt *fdt, const struct fdt_node *node)
{
    if (fdt_node_compatible(fdt, node, "arm,gic-v3"))
        return 3;
    if (fdt_node_compatible(fdt, node, "arm,cortex-a15-gic") ||
        fdt_node_compatible(fdt, node, "arm,gic-400"))
        return 2;
    return 0;
}

static int plat_gic(struct plat *p, const struct fdt_node *node, int version)
{
    struct fdt_platform *out = p->out;
    int rc;

    rc = fdt_prop_u32(p->fdt, node, "phandle", &p->gic_phandle);
    if (rc == -ENOENT)
        rc = fdt_prop_u32(p->fdt, node, "linux,phandle", &p->gic_phandle);
    if (rc && rc != -ENOENT)
        return rc;
    rc = fdt_prop_u32(p->fdt, node, "#interrupt-cells", &p->gic_icells);
    if (rc == -ENOENT)
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: GIC without #interrupt-cells", node->path);
    if (rc)
        return rc;
    /* 3 cells (type, number, flags); GICv3 may add a 4th, the PPI partition. */
    if (p->gic_icells != 3 && !(version == 3 && p->gic_icells == 4))
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: #interrupt-cells %u unsupported", node->path,
                        p->gic_icells);
    out->gic_version = version;
    rc = plat_reg(p, node, 0, true, &out->gicd);
    if (!rc && version == 2) {
        rc = plat_reg(p, node, 1, true, &out->gicc);
        if (!rc)
            rc = plat_reg(p, node, 2, false, &out->gich);
        if (!rc)
            rc = plat_reg(p, node, 3, false, &out->gicv);
    } else if (!rc) {
        rc = plat_reg(p, node, 1, true, &out->gicr);
    }
    if (!rc)
        rc = plat_irq(p, node, 0, &out->gic_maint_irq);
    return rc;
}

/* First pass: what the second needs to know first - the GIC, /chosen, /aliases. */
static int plat_pass_early(struct plat *p)
{
    struct fdt_iter it;
    struct fdt_node node, aliases;
    bool have_aliases = false;
    int rc;

    fdt_iter_init(&it);
    while ((rc = fdt_next_node(p->fdt, &it, &node)) == 1) {
        int err = 0;
        if (node.depth == 1 && strcmp(node.name, "chosen") == 0) {
            err = plat_chosen(p, &node);
        } else if (node.depth == 1 && strcmp(node.name, "aliases") == 0) {
            aliases = node;
            have_aliases = true;
        } else if (!p->out->gic_version && node.phys && fdt_node_enabled(p->fdt, &node)) {
            int version = plat_gic_version(p->fdt, &node);
            if (version)
                err = plat_gic(p, &node, version);
        }
        if (err)
            return err;
    }
    if (rc)
        return rc;
    plat_resolve_alias(p, have_aliases ? &aliases : NULL);
    return 0;
}

static int plat_memory(struct plat *p, const struct fdt_node *node)
{
    struct fdt_platform *out = p->out;
    struct fdt_region r;

    for (int i = 0;; i++) {
        int rc = plat_reg_entry(p, node, i, &r);
        if (rc <= 0)
            return rc;
        /* Memory past the table is left unused, which is safe. */
        if (r.size && out->nmem < FDT_MAX_MEM)
            out->mem[out->nmem++] = r;
    }
}

static int plat_cpu(struct plat *p, const struct fdt_node *node)
{
    struct fdt_region r;
    int rc = plat_reg(p, node, 0, true, &r);

    if (rc)
        return rc;
    if (p->out->ncpus < FDT_MAX_CPUS)
        p->out->cpu_mpidr[p->out->ncpus++] = r.base;
    return 0;
}

static int plat_reserved(struct plat *p, const struct fdt_node *node)
{
    struct fdt_region r;

    if (!node->phys)
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: /reserved-memory without an empty ranges",
                        node->path);
    for (int i = 0;; i++) {
        int rc = plat_reg_entry(p, node, i, &r);
        if (rc <= 0)
            return rc;
        rc = plat_add_rsv(p, r.base, r.size);
        if (rc)
            return rc;
    }
}

static int plat_uart(struct plat *p, const struct fdt_node *node)
{
    struct fdt_platform *out = p->out;
    bool is_stdout = p->stdout_path && strlen(node->path) == p->stdout_len &&
                     memcmp(node->path, p->stdout_path, p->stdout_len) == 0;
    int rc;

    if (p->uart_is_stdout || (out->uart.size && !is_stdout))
        return 0;
    rc = plat_reg(p, node, 0, true, &out->uart);
    if (!rc)
        rc = plat_irq(p, node, 0, &out->uart_irq);
    p->uart_is_stdout = is_stdout;
    return rc;
}

/* Keeps the table sorted by base; when full, the highest addresses fall off. */
static int plat_virtio(struct plat *p, const struct fdt_node *node)
{
    struct fdt_platform *out = p->out;
    struct fdt_region r;
    int irq, i, rc;

    rc = plat_reg(p, node, 0, true, &r);
    if (!rc)
        rc = plat_irq(p, node, 0, &irq);
    if (rc)
        return rc;
    for (i = out->nvirtio; i > 0 && out->virtio[i - 1].reg.base > r.base; i--) {
        if (i < FDT_MAX_VIRTIO)
            out->virtio[i] = out->virtio[i - 1];
    }
    if (i == FDT_MAX_VIRTIO)
        return 0;
    out->virtio[i].reg = r;
    out->virtio[i].irq = irq;
    if (out->nvirtio < FDT_MAX_VIRTIO)
        out->nvirtio++;
    return 0;
}

static int plat_timer(struct plat *p, const struct fdt_node *node)
{
    p->timer_seen = true;
    for (int i = 0; i < 4; i++) {
        int rc = plat_irq(p, node, i, &p->out->timer_irq[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int plat_psci(struct plat *p, const struct fdt_node *node)
{
    const char *method = fdt_prop_str(p->fdt, node, "method");

    if (method && strcmp(method, "hvc") == 0)
        p->out->psci = FDT_PSCI_HVC;
    else if (method && strcmp(method, "smc") == 0)
        p->out->psci = FDT_PSCI_SMC;
    else
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: PSCI method missing or not hvc/smc",
                        node->path);
    return 0;
}

static bool plat_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool plat_device_type(const struct fdt *fdt, const struct fdt_node *node, const char *type)
{
    const char *t = fdt_prop_str(fdt, node, "device_type");

    return t && strcmp(t, type) == 0;
}

/* Dispatches one node of the second pass to whichever part of the platform it describes. */
static int plat_node(struct plat *p, const struct fdt_node *node)
{
    const struct fdt *fdt = p->fdt;
    bool enabled = fdt_node_enabled(fdt, node);

    if (node->depth == 1 && enabled && plat_device_type(fdt, node, "memory"))
        return plat_memory(p, node);
    if (node->depth == 2 && plat_has_prefix(node->path, "/cpus/") &&
        plat_device_type(fdt, node, "cpu"))
        return plat_cpu(p, node);
    if (node->depth == 2 && plat_has_prefix(node->path, "/reserved-memory/") && enabled)
        return plat_reserved(p, node);
    if (!p->out->psci && (fdt_node_compatible(fdt, node, "arm,psci-1.0") ||
                          fdt_node_compatible(fdt, node, "arm,psci-0.2")))
        return plat_psci(p, node);
    if (!enabled || !node->phys)
        return 0;
    if (fdt_node_compatible(fdt, node, "arm,pl011"))
        return plat_uart(p, node);
    if (fdt_node_compatible(fdt, node, "virtio,mmio"))
        return plat_virtio(p, node);
    if (!p->timer_seen && fdt_node_compatible(fdt, node, "arm,armv8-timer"))
        return plat_timer(p, node);
    return 0;
}

int fdt_parse_platform(const void *blob, size_t max_size, struct fdt_platform *out, char *err,
                       size_t errlen)
{
    struct fdt fdt;
    struct plat p;
    struct fdt_iter it;
    struct fdt_node node;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = fdt_open(&fdt, blob, max_size, err, errlen);
    if (rc)
        return rc;
    memset(&p, 0, sizeof(p));
    p.fdt = &fdt;
    p.out = out;
    rc = plat_memreserve(&p);
    if (!rc)
        rc = plat_pass_early(&p);
    if (!rc) {
        fdt_iter_init(&it);
        while ((rc = fdt_next_node(&fdt, &it, &node)) == 1) {
            rc = plat_node(&p, &node);
            if (rc)
                break;
        }
    }
    if (rc) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return 0;
}
