/* fdt.c - TestOS's tiny flattened device tree reader (Devicetree Specification v0.4, ch. 5). */
#include "fdt.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9
#define FDT_MAX_SIZE   (16u << 20) /* QEMU's -dtb doubles the file: 2 MiB and more */

struct walk_frame {
    struct fdt_node node;
    uint32_t child_addr_cells, child_size_cells; /* this node's #address-cells/#size-cells */
    bool visited;
};

struct walker {
    const uint8_t *blob;
    uint32_t struct_off, struct_end, strings_off, strings_end;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t str_len_bounded(const uint8_t *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/** Total size from the header, 0 when the blob does not start with the FDT magic. */
uint32_t fdt_total_size(const void *blob)
{
    const uint8_t *b = blob;

    if (be32(b) != FDT_MAGIC)
        return 0;
    return be32(b + 4);
}

static const char *walker_init(struct walker *w, const uint8_t *b)
{
    uint32_t total = be32(b + 4);

    if (be32(b) != FDT_MAGIC)
        return "bad magic";
    if (total < 40 || total > FDT_MAX_SIZE)
        return "implausible totalsize";
    if (be32(b + 20) < 17)
        return "version older than 17";
    w->blob = b;
    w->struct_off = be32(b + 8);
    w->strings_off = be32(b + 12);
    w->struct_end = w->struct_off + be32(b + 36);
    w->strings_end = w->strings_off + be32(b + 32);
    if ((w->struct_off & 3) || w->struct_end < w->struct_off || w->struct_end > total ||
        w->strings_end < w->strings_off || w->strings_end > total)
        return "blocks outside the blob";
    return NULL;
}

static void record_prop(struct walk_frame *f, const char *name, struct fdt_value v)
{
    struct fdt_node *n = &f->node;

    if (str_eq(name, "compatible"))
        n->compatible = v;
    else if (str_eq(name, "device_type"))
        n->device_type = v;
    else if (str_eq(name, "reg"))
        n->reg = v;
    else if (str_eq(name, "interrupts"))
        n->interrupts = v;
    else if (str_eq(name, "method"))
        n->method = v;
    else if (str_eq(name, "bootargs"))
        n->bootargs = v;
    else if (str_eq(name, "status"))
        n->status = v;
    else if (str_eq(name, "#address-cells") && v.len == 4)
        f->child_addr_cells = be32(v.data);
    else if (str_eq(name, "#size-cells") && v.len == 4)
        f->child_size_cells = be32(v.data);
}

static void visit(struct walk_frame *f, fdt_node_fn fn, void *ctx)
{
    if (!f->visited) {
        f->visited = true;
        fn(ctx, &f->node);
    }
}

/**
 * Check the blob and call fn once per node, after the node's own properties (which precede
 * its children in the structure block). Returns NULL, or what is wrong with the blob.
 */
const char *fdt_walk(const void *blob, fdt_node_fn fn, void *ctx)
{
    static struct walk_frame stack[FDT_MAX_DEPTH];
    struct walker w;
    const char *err = walker_init(&w, blob);
    unsigned int depth = 0; /* frames in use */
    uint32_t off;

    if (err)
        return err;
    for (off = w.struct_off; off + 4 <= w.struct_end;) {
        uint32_t token = be32(w.blob + off);
        off += 4;
        if (token == FDT_BEGIN_NODE) {
            const uint8_t *name = w.blob + off;
            size_t len = str_len_bounded(name, w.struct_end - off);
            if (len == w.struct_end - off)
                return "unterminated node name";
            if (depth == FDT_MAX_DEPTH)
                return "nodes nested too deep";
            struct walk_frame *f = &stack[depth];
            struct walk_frame *parent = depth ? &stack[depth - 1] : NULL;
            if (parent)
                visit(parent, fn, ctx);
            *f = (struct walk_frame){0};
            f->node.name = (const char *)name;
            f->node.parent_name = parent ? parent->node.name : NULL;
            f->node.depth = depth;
            f->node.addr_cells = parent ? parent->child_addr_cells : 2;
            f->node.size_cells = parent ? parent->child_size_cells : 1;
            f->child_addr_cells = 2; /* the specification's defaults */
            f->child_size_cells = 1;
            depth++;
            off += (uint32_t)((len + 1 + 3) & ~3u);
        } else if (token == FDT_PROP) {
            if (!depth || off + 8 > w.struct_end)
                return "property outside a node";
            uint32_t len = be32(w.blob + off), nameoff = be32(w.blob + off + 4);
            off += 8;
            if (len > w.struct_end - off)
                return "property value past the structure block";
            if (nameoff >= w.strings_end - w.strings_off)
                return "property name outside the strings block";
            const uint8_t *pname = w.blob + w.strings_off + nameoff;
            size_t room = w.strings_end - w.strings_off - nameoff;
            if (str_len_bounded(pname, room) == room)
                return "unterminated property name";
            record_prop(&stack[depth - 1], (const char *)pname,
                        (struct fdt_value){w.blob + off, len});
            off += (len + 3) & ~3u;
        } else if (token == FDT_END_NODE) {
            if (!depth)
                return "unbalanced end of node";
            visit(&stack[depth - 1], fn, ctx);
            depth--;
        } else if (token == FDT_END) {
            return depth ? "end inside a node" : NULL;
        } else if (token != FDT_NOP) {
            return "unknown token";
        }
    }
    return "no end token";
}

/** Whether a string-list property (e.g. compatible) contains s. */
bool fdt_has_string(struct fdt_value v, const char *s)
{
    uint32_t i = 0;

    while (i < v.len) {
        const char *item = (const char *)v.data + i;
        size_t n = str_len_bounded(v.data + i, v.len - i);
        if (n == v.len - i)
            return false; /* not NUL-terminated */
        if (str_eq(item, s))
            return true;
        i += (uint32_t)n + 1;
    }
    return false;
}

/** Whether a string property is exactly s. */
bool fdt_value_is(struct fdt_value v, const char *s)
{
    return v.len && v.data[v.len - 1] == 0 && str_eq((const char *)v.data, s);
}

/** ncells (1 or 2) big-endian cells at offset_cells as one number; the caller checks len. */
uint64_t fdt_cells(struct fdt_value v, uint32_t offset_cells, uint32_t ncells)
{
    uint64_t val = 0;

    for (uint32_t i = 0; i < ncells; i++)
        val = val << 32 | be32(v.data + 4 * (offset_cells + i));
    return val;
}

/** Whether a node name, without its unit address, is base; NULL (the root's parent) is not. */
bool fdt_name_is(const char *name, const char *base)
{
    if (!name)
        return false;
    while (*base && *name == *base) {
        name++;
        base++;
    }
    return !*base && (!*name || *name == '@');
}
