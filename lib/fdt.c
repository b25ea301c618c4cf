/* fdt.c - defensive flattened device tree reader: every offset and length is checked before use. */
#include <stdarg.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_priv.h"
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

int fdt_fail(const struct fdt *fdt, int code, const char *fmt, ...)
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
    case FDT_END: next = (uint64_t)off + 4; break;
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
                return fdt_fail(fdt, -EUCLEAN, "fdt: second root node at struct offset 0x%x", off);
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
        default: break;
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
        return fdt_fail(fdt, -EINVAL, "fdt: %zu bytes is smaller than the %d-byte header", max_size,
                        FDT_HEADER_V17);
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
        return fdt_fail(fdt, -EINVAL, "fdt: last compatible version %u is newer than %d", last_comp,
                        FDT_LAST_VERSION);
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
const uint8_t *fdt_prop_n(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                          size_t namelen, uint32_t *len)
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
        return fdt_fail(fdt, -EINVAL,
                        "fdt: %s: reg with #address-cells %u #size-cells %u unsupported",
                        node->path, ac, sc);
    entry = (ac + sc) * 4;
    if (len % entry)
        return fdt_fail(fdt, -EINVAL, "fdt: %s: reg length %u is not a multiple of %u", node->path,
                        len, entry);
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
static int fdt_level_init(const struct fdt *fdt, const struct fdt_node *node, struct fdt_level *lvl)
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
    lvl->children_phys =
        node->depth == 0 ||
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
        case FDT_BEGIN_NODE: return fdt_enter_node(fdt, it, &tok, node);
        case FDT_END_NODE:
            if (it->depth == 0)
                return fdt_fail(fdt, -EUCLEAN, "fdt: unbalanced FDT_END_NODE");
            it->depth--;
            break;
        case FDT_END: it->done = true; break;
        default: break;
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

int fdt_find_node(const struct fdt *fdt, const char *path, struct fdt_iter *it,
                  struct fdt_node *node)
{
    return fdt_find_node_n(fdt, path, strlen(path), it, node);
}
