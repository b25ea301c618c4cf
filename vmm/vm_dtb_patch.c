/* vm_dtb_patch.c - makes a user's guest DTB match its VM: memory, CPUs, /chosen and PSCI. */
#include <stdarg.h>
#include <stdbool.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_write.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/vm_dtb.h"

/* Structure-block tokens and the reservation entry size (Devicetree Specification v0.4, 5.3.2
   and 5.4.1). */
#define TOKEN_PROP    0x3u
#define TOKEN_NOP     0x4u
#define RSV_ENTRY_LEN 16

#define NAME_MAX_LEN 64 /* "memory@" and 16 hex digits, NUL */

/** State of one patch: the validated input, the writer, and where the copy stands. */
struct patch {
    const struct fdt *fdt;
    const struct vm_dtb_config *cfg;
    struct fdt_writer w;
    char *err;
    size_t errlen;
    uint32_t root_addr_cells, root_size_cells;
    bool drop_cpu_map;   /* some CPU nodes go, so the topology map would name missing CPUs */
    bool memory_written; /* the VM's memory node is out */
    bool chosen_seen, psci_seen;
    int open; /* input nodes currently open in the output: the kept ancestors of the next node */
    int skip; /* depth of the dropped subtree being passed over, -1 if none */
};

static int patch_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int patch_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        fmt_vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* Names from the blob may hold any byte; keep the message on one printable line. */
        for (char *c = err; *c; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        }
    }
    return code;
}

/* The parts of cfg this patch writes; the rest of the VM is what the user's tree describes. */
static int check_config(const struct vm_dtb_config *cfg, char *err, size_t errlen)
{
    if (cfg->ncpus < 1 || cfg->ncpus > VM_DTB_MAX_CPUS)
        return patch_fail(err, errlen, -EINVAL, "dtb: ncpus must be 1..%d, got %u", VM_DTB_MAX_CPUS,
                          cfg->ncpus);
    if (!cfg->psci_method ||
        (strcmp(cfg->psci_method, "hvc") != 0 && strcmp(cfg->psci_method, "smc") != 0))
        return patch_fail(err, errlen, -EINVAL, "dtb: PSCI method must be \"hvc\" or \"smc\"");
    if (cfg->ram_size == 0 || cfg->ram_base + cfg->ram_size - 1 < cfg->ram_base)
        return patch_fail(err, errlen, -EINVAL, "dtb: RAM 0x%llx+0x%llx is empty or wraps",
                          (unsigned long long)cfg->ram_base, (unsigned long long)cfg->ram_size);
    /* The guest can only read an initrd that the loader placed in its RAM. */
    if ((cfg->initrd_start || cfg->initrd_end) &&
        (cfg->initrd_end <= cfg->initrd_start || cfg->initrd_start < cfg->ram_base ||
         cfg->initrd_end - cfg->ram_base > cfg->ram_size))
        return patch_fail(
            err, errlen, -EINVAL, "dtb: initrd 0x%llx..0x%llx is empty or not inside RAM",
            (unsigned long long)cfg->initrd_start, (unsigned long long)cfg->initrd_end);
    return 0;
}

/* The root's #address-cells and #size-cells (defaults 2 and 1, DT spec 2.3.5) shape the memory
   node's reg, so they must be ones we can write and hold the VM's RAM range. */
static int read_root_cells(struct patch *p, const struct fdt_node *root)
{
    uint32_t ac = 2, sc = 1;
    int rc = fdt_prop_u32(p->fdt, root, "#address-cells", &ac);

    if (rc && rc != -ENOENT)
        return -EINVAL;
    rc = fdt_prop_u32(p->fdt, root, "#size-cells", &sc);
    if (rc && rc != -ENOENT)
        return -EINVAL;
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
        return patch_fail(p->err, p->errlen, -EINVAL,
                          "dtb: root #address-cells %u #size-cells %u unsupported (need 1 or 2)",
                          ac, sc);
    if ((ac == 1 && (p->cfg->ram_base + p->cfg->ram_size - 1) >> 32) ||
        (sc == 1 && p->cfg->ram_size >> 32))
        return patch_fail(p->err, p->errlen, -EINVAL,
                          "dtb: RAM 0x%llx+0x%llx does not fit the root's %u address and %u size "
                          "cells",
                          (unsigned long long)p->cfg->ram_base,
                          (unsigned long long)p->cfg->ram_size, ac, sc);
    p->root_addr_cells = ac;
    p->root_size_cells = sc;
    return 0;
}

static bool is_cpu_node(const struct patch *p, const struct fdt_node *node)
{
    const char *type;

    if (node->depth != 2 || strncmp(node->path, "/cpus/", 6) != 0)
        return false;
    type = fdt_prop_str(p->fdt, node, "device_type");
    return type && strcmp(type, "cpu") == 0;
}

/* A CPU node's reg is its MPIDR affinity (Linux bindings arm/cpus.yaml); vCPU i has MPIDR
   Aff0 = i and no higher affinity, so a node stays when that is what its reg says. */
static int cpu_reg(const struct patch *p, const struct fdt_node *node, uint64_t *mpidr)
{
    struct fdt_region r;
    int rc = fdt_node_reg(p->fdt, node, 0, &r);

    if (rc == -ENOENT)
        return patch_fail(p->err, p->errlen, -EINVAL, "dtb: %s has no reg", node->path);
    if (rc)
        return -EINVAL;
    *mpidr = r.base;
    return 0;
}

/* First pass: the root's cells, and whether the tree has a CPU node for each vCPU. */
static int scan(struct patch *p)
{
    struct fdt_iter it;
    struct fdt_node node;
    uint32_t found = 0; /* bit i: a CPU node with reg i */
    unsigned ncpu_nodes = 0;
    int rc;

    fdt_iter_init(&it);
    while ((rc = fdt_next_node(p->fdt, &it, &node)) == 1) {
        uint64_t mpidr;
        if (node.depth == 0) {
            rc = read_root_cells(p, &node);
            if (rc)
                return rc;
        }
        if (!is_cpu_node(p, &node))
            continue;
        rc = cpu_reg(p, &node, &mpidr);
        if (rc)
            return rc;
        ncpu_nodes++;
        if (mpidr >= p->cfg->ncpus) {
            p->drop_cpu_map = true;
            continue;
        }
        if (found & (1u << mpidr))
            return patch_fail(p->err, p->errlen, -EINVAL,
                              "dtb: %s repeats MPIDR 0x%llx of another CPU node", node.path,
                              (unsigned long long)mpidr);
        found |= 1u << mpidr;
    }
    if (rc < 0)
        return -EINVAL;
    for (unsigned i = 0; i < p->cfg->ncpus; i++) {
        if (!(found & (1u << i)))
            return patch_fail(p->err, p->errlen, -EINVAL,
                              "dtb: the VM has %u CPUs but the tree's %u CPU node(s) have none "
                              "with reg %u (MPIDR of vCPU %u)",
                              p->cfg->ncpus, ncpu_nodes, i, i);
    }
    return 0;
}

/* A step the writer refused: -ENOSPC is reported once at the end; anything else is a name the
   writer will not emit (DT spec 2.2.1, 2.2.4), which the user must fix in the tree. */
static int writer_check(struct patch *p, const char *path, const char *what, const char *name)
{
    if (p->w.error != -EINVAL)
        return 0;
    return patch_fail(p->err, p->errlen, -EINVAL, "dtb: %s: %s name \"%s\" is not valid", path,
                      what, name);
}

/* Copies the node's properties except the names in skip[]: the ones the VM's values replace. */
static int copy_props(struct patch *p, const struct fdt_node *node, const char *const *skip,
                      size_t nskip)
{
    const struct fdt *fdt = p->fdt;
    const uint8_t *s = fdt->blob + fdt->off_struct;
    uint32_t off = node->props;

    /* fdt_open() checked every token of the structure block, and node->props is a token
       boundary, so each property header, value and name below lies inside its block. */
    for (;;) {
        uint32_t tag = fdt_be32(s + off), len;
        const char *name;
        bool replaced = false;
        int rc;
        if (tag == TOKEN_NOP) {
            off += 4;
            continue;
        }
        if (tag != TOKEN_PROP)
            return 0;
        len = fdt_be32(s + off + 4);
        name = (const char *)fdt->blob + fdt->off_strings + fdt_be32(s + off + 8);
        for (size_t i = 0; i < nskip; i++)
            replaced |= strcmp(name, skip[i]) == 0;
        if (!replaced) {
            fdt_write_prop(&p->w, name, s + off + 12, len);
            rc = writer_check(p, node->path, "property", name);
            if (rc)
                return rc;
        }
        off = (off + 12 + len + 3) & ~(uint32_t)3;
    }
}

static void write_cells(struct fdt_writer *w, const char *name, uint64_t a, uint32_t acells,
                        uint64_t b, uint32_t bcells)
{
    uint32_t cells[4];
    size_t n = 0;

    if (acells == 2)
        cells[n++] = (uint32_t)(a >> 32);
    cells[n++] = (uint32_t)a;
    if (bcells == 2)
        cells[n++] = (uint32_t)(b >> 32);
    cells[n++] = (uint32_t)b;
    fdt_write_prop_cells(w, name, cells, n);
}

/* The VM's RAM as the one memory node, named by its first reg address (DT spec 2.2.1, 3.4). */
static void emit_memory(struct patch *p)
{
    char name[NAME_MAX_LEN];

    fmt_snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->cfg->ram_base);
    fdt_write_begin_node(&p->w, name);
    fdt_write_prop_str(&p->w, "device_type", "memory");
    write_cells(&p->w, "reg", p->cfg->ram_base, p->root_addr_cells, p->cfg->ram_size,
                p->root_size_cells);
    fdt_write_end_node(&p->w);
    p->memory_written = true;
}

/* Boot parameters (DT spec 3.6; Linux bindings chosen.yaml); the initrd bounds as u64, which
   Linux reads whatever the root's cells. */
static void emit_chosen_props(struct patch *p)
{
    const struct vm_dtb_config *cfg = p->cfg;

    if (cfg->bootargs && cfg->bootargs[0])
        fdt_write_prop_str(&p->w, "bootargs", cfg->bootargs);
    if (cfg->initrd_start || cfg->initrd_end) {
        fdt_write_prop_u64(&p->w, "linux,initrd-start", cfg->initrd_start);
        fdt_write_prop_u64(&p->w, "linux,initrd-end", cfg->initrd_end);
    }
}

/* The nodes the VM needs that the tree lacks, appended to the root. PSCI 1.0 with the 0.2
   fallback uses the standard function IDs, so none are listed (Linux bindings arm/psci.yaml). */
static void emit_missing(struct patch *p)
{
    static const char *const psci_compatible[2] = {"arm,psci-1.0", "arm,psci-0.2"};

    if (!p->memory_written)
        emit_memory(p);
    if (!p->chosen_seen) {
        fdt_write_begin_node(&p->w, "chosen");
        emit_chosen_props(p);
        fdt_write_end_node(&p->w);
    }
    if (!p->psci_seen) {
        fdt_write_begin_node(&p->w, "psci");
        fdt_write_prop_strs(&p->w, "compatible", psci_compatible, 2);
        fdt_write_prop_str(&p->w, "method", p->cfg->psci_method);
        fdt_write_end_node(&p->w);
    }
}

/* Ends output nodes until only depth of them are open, completing the root before it closes. */
static void close_to(struct patch *p, int depth)
{
    while (p->open > depth) {
        if (p->open == 1)
            emit_missing(p);
        fdt_write_end_node(&p->w);
        p->open--;
    }
}

/* Whether the node and its subtree leave the output. */
static int dropped(struct patch *p, const struct fdt_node *node, bool *drop)
{
    const char *type = fdt_prop_str(p->fdt, node, "device_type");
    uint64_t mpidr;
    int rc;

    *drop = false;
    if (node->depth > 0 && type && strcmp(type, "memory") == 0) {
        /* The first memory node at the root keeps its place for the VM's one. */
        if (node->depth == 1 && !p->memory_written)
            emit_memory(p);
        *drop = true;
    } else if (is_cpu_node(p, node)) {
        rc = cpu_reg(p, node, &mpidr);
        if (rc)
            return rc;
        *drop = mpidr >= p->cfg->ncpus;
    } else if (node->depth == 2 && strcmp(node->path, "/cpus/cpu-map") == 0) {
        /* The map's leaves point at CPU nodes by phandle; without the dropped ones Linux would
           reject it, and with no map it takes the topology from MPIDR (Linux bindings
           cpu/cpu-topology.txt). */
        *drop = p->drop_cpu_map;
    }
    return 0;
}

static int copy_node(struct patch *p, const struct fdt_node *node)
{
    static const char *const chosen_replaced[3] = {"bootargs", "linux,initrd-start",
                                                   "linux,initrd-end"};
    static const char *const psci_replaced[1] = {"method"};
    bool drop, chosen, psci;
    int rc = dropped(p, node, &drop);

    if (rc)
        return rc;
    if (drop) {
        p->skip = node->depth;
        return 0;
    }
    fdt_write_begin_node(&p->w, node->name);
    rc = writer_check(p, node->path, "node", node->name);
    if (rc)
        return rc;
    p->open++;
    chosen = node->depth == 1 && strcmp(node->name, "chosen") == 0;
    psci = node->depth == 1 && strcmp(node->name, "psci") == 0;
    if (chosen) {
        p->chosen_seen = true;
        rc = copy_props(p, node, chosen_replaced, 3);
        emit_chosen_props(p);
    } else if (psci) {
        p->psci_seen = true;
        rc = copy_props(p, node, psci_replaced, 1);
        fdt_write_prop_str(&p->w, "method", p->cfg->psci_method);
    } else {
        rc = copy_props(p, node, NULL, 0);
    }
    return rc;
}

/* The /memreserve/ entries up to the (0, 0) terminator (DT spec 5.3). An entry of size 0
   reserves nothing and the writer cannot express it, so it is left out. */
static int copy_reservations(struct patch *p)
{
    const struct fdt *fdt = p->fdt;
    uint32_t off = fdt->off_rsvmap;

    for (;;) {
        uint64_t base, size;
        if (fdt->totalsize - off < RSV_ENTRY_LEN)
            return patch_fail(p->err, p->errlen, -EINVAL,
                              "dtb: memory reservation block has no terminator");
        base = fdt_be64(fdt->blob + off);
        size = fdt_be64(fdt->blob + off + 8);
        off += RSV_ENTRY_LEN;
        if (!base && !size)
            return 0;
        if (size)
            fdt_write_reserve(&p->w, base, size);
    }
}

static int copy_tree(struct patch *p)
{
    struct fdt_iter it;
    struct fdt_node node;
    int rc;

    fdt_iter_init(&it);
    while ((rc = fdt_next_node(p->fdt, &it, &node)) == 1) {
        if (p->skip >= 0 && node.depth > p->skip)
            continue;
        p->skip = -1;
        close_to(p, node.depth);
        rc = copy_node(p, &node);
        if (rc)
            return rc;
    }
    if (rc < 0)
        return -EINVAL;
    close_to(p, 0);
    return 0;
}

int vm_dtb_patch(const void *in, size_t in_len, const struct vm_dtb_config *cfg, void *out,
                 size_t out_len, size_t *out_size, char *err, size_t errlen)
{
    struct fdt fdt;
    struct patch p;
    size_t total;
    int rc;

    if (!cfg || (!out && out_len) || !out_size)
        return patch_fail(err, errlen, -EINVAL, "dtb: missing configuration or buffer");
    rc = check_config(cfg, err, errlen);
    if (rc)
        return rc;
    /* The reader's own codes (-EUCLEAN for a broken structure) all mean a bad blob here. */
    if (fdt_open(&fdt, in, in_len, err, errlen))
        return -EINVAL;
    memset(&p, 0, sizeof(p));
    p.fdt = &fdt;
    p.cfg = cfg;
    p.err = err;
    p.errlen = errlen;
    p.skip = -1;
    rc = scan(&p);
    if (rc)
        return rc;
    fdt_write_init(&p.w, out, out_len);
    rc = copy_reservations(&p);
    if (!rc)
        rc = copy_tree(&p);
    if (rc)
        return rc;
    rc = fdt_write_finish(&p.w, &total);
    if (rc == -ENOSPC)
        return patch_fail(err, errlen, rc,
                          "dtb: a %zu-byte buffer is too small for the patched device tree",
                          out_len);
    if (rc)
        return patch_fail(err, errlen, rc, "dtb: the writer refused the patched tree (%s)",
                          errno_str(rc));
    *out_size = total;
    return 0;
}
