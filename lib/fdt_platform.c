/* fdt_platform.c - reads what the kernel needs (memory, CPUs, GIC, UART, timer, virtio, PSCI) from
 * a DTB. */
#include <stdarg.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_priv.h"
#include "lib/printf.h"
#include "lib/string.h"

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
        return fdt_fail(p->fdt, -EINVAL, "fdt: %s: PSCI method missing or not hvc/smc", node->path);
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
    if (!p->out->rtc.size && fdt_node_compatible(fdt, node, "arm,pl031"))
        return plat_reg(p, node, 0, true, &p->out->rtc);
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
