/* fdt.h - defensive flattened device tree (DTB) reader: validation, node walk, platform summary. */
#ifndef LIB_FDT_H
#define LIB_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC     0xd00dfeedu
#define FDT_MAX_DEPTH 16  /* nodes open at once, root included */
#define FDT_MAX_PATH  256 /* bytes of a node path, NUL included */

#define FDT_MAX_MEM    4
#define FDT_MAX_CPUS   8
#define FDT_MAX_VIRTIO 32
#define FDT_MAX_RSV    8

enum fdt_psci { FDT_PSCI_NONE, FDT_PSCI_HVC, FDT_PSCI_SMC };

struct fdt_region {
    uint64_t base, size; /* size 0 = absent */
};

/** What the kernel needs to know about the machine, distilled from the device tree. */
struct fdt_platform {
    /* device_type "memory" nodes, all reg entries (extras beyond the table are ignored) */
    struct fdt_region mem[FDT_MAX_MEM];
    int nmem;
    /* /memreserve/ block + /reserved-memory children with reg (more is an error) */
    struct fdt_region rsv[FDT_MAX_RSV];
    int nrsv;
    /* /cpus children with device_type "cpu", MPIDR affinity from reg */
    int ncpus;
    uint64_t cpu_mpidr[FDT_MAX_CPUS];
    /* GIC: version 2 or 3 (0 if none); v2 uses gicd/gicc/gich/gicv (reg 0..3, gich/gicv only
       with virtualization), v3 uses gicd/gicr (reg 0, 1 = first redistributor region) */
    int gic_version;
    struct fdt_region gicd, gicc, gich, gicv, gicr;
    int gic_maint_irq; /* INTID of the GIC's own (maintenance) interrupt, 0 if absent */
    /* the stdout-path PL011 if it is one, else the first PL011; irq as INTID */
    struct fdt_region uart;
    struct fdt_region rtc; /* first "arm,pl031" real-time clock, size 0 if absent */
    int uart_irq;
    /* "virtio,mmio" nodes in address order */
    int nvirtio;
    struct {
        struct fdt_region reg;
        int irq;
    } virtio[FDT_MAX_VIRTIO];
    /* "arm,armv8-timer" INTIDs: secure phys, non-secure phys, virtual, hyp phys */
    int timer_irq[4];
    enum fdt_psci psci;
    /* /chosen: initrd bounds (0 if absent), bootargs pointing into the blob (NULL if absent) */
    uint64_t initrd_start, initrd_end;
    const char *bootargs;
};

/** A blob whose header and whole structure block have been checked by fdt_open(). */
struct fdt {
    const uint8_t *blob;
    uint32_t totalsize;
    uint32_t off_struct, size_struct;
    uint32_t off_strings, size_strings;
    uint32_t off_rsvmap;
    uint32_t version;
    uint32_t boot_cpuid;
    char *err; /* where failures are described, may be NULL */
    size_t errlen;
};

/** A node as seen by the walker. */
struct fdt_node {
    const char *name;          /* unit name in the blob, "" for the root */
    const char *path;          /* full path in the iterator's buffer, valid until the next step */
    int depth;                 /* root = 0 */
    uint32_t props;            /* structure-block offset of the node's first property token */
    uint32_t addr_cells;       /* the parent's #address-cells, which shapes this node's reg */
    uint32_t size_cells;       /* the parent's #size-cells */
    uint32_t interrupt_parent; /* own or inherited phandle, 0 if none */
    bool phys;                 /* reg is CPU physical: every bus above maps 1:1 ("ranges;") */
};

/** Per-level context the walker keeps for the nodes currently open. */
struct fdt_level {
    uint32_t addr_cells, size_cells; /* for this node's children */
    uint32_t interrupt_parent;       /* inherited by children */
    bool children_phys;
    uint16_t pathlen;
};

/** Depth-first walk state; initialise with fdt_iter_init(). */
struct fdt_iter {
    uint32_t pos;
    int depth; /* nodes currently open */
    bool done;
    struct fdt_level level[FDT_MAX_DEPTH];
    char path[FDT_MAX_PATH];
};

/* Big-endian reads of possibly unaligned cells. */
uint32_t fdt_be32(const void *p);
uint64_t fdt_be64(const void *p);

/* Validates the header and the whole token stream of blob (at most max_size bytes readable).
   Returns 0, or a negative errno with a one-line message in err[errlen]. */
int fdt_open(struct fdt *fdt, const void *blob, size_t max_size, char *err, size_t errlen);

void fdt_iter_init(struct fdt_iter *it);
/* Steps to the next node in depth-first order: 1 with *node filled, 0 at the end, <0 on error. */
int fdt_next_node(const struct fdt *fdt, struct fdt_iter *it, struct fdt_node *node);
/* Finds a node by full path ("/chosen"): 1 found, 0 not found, <0 on error. */
int fdt_find_node(const struct fdt *fdt, const char *path, struct fdt_iter *it,
                  struct fdt_node *node);

/* A property's value and length (via *len), or NULL if the node has no such property. */
const void *fdt_prop(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                     uint32_t *len);
/* A property's value as a NUL-terminated string, or NULL if absent or not terminated. */
const char *fdt_prop_str(const struct fdt *fdt, const struct fdt_node *node, const char *name);
/* A one-cell property: 0, -ENOENT if absent, -EINVAL if not exactly 4 bytes. */
int fdt_prop_u32(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                 uint32_t *val);
/* Whether any string of the node's "compatible" list equals compat. */
bool fdt_node_compatible(const struct fdt *fdt, const struct fdt_node *node, const char *compat);
/* Whether "status" is absent, "okay" or "ok". */
bool fdt_node_enabled(const struct fdt *fdt, const struct fdt_node *node);
/* Entry index of "reg": 0, -ENOENT past the end or absent, -EINVAL if the cells are unusable. */
int fdt_node_reg(const struct fdt *fdt, const struct fdt_node *node, int index,
                 struct fdt_region *out);

/* Validates header (magic, version >= 16, totalsize <= max_size, offsets/sizes inside totalsize,
   aligned struct block), then the token stream, and fills *out. Returns 0, or a negative errno with
   a one-line human message in err[errlen]. */
int fdt_parse_platform(const void *blob, size_t max_size, struct fdt_platform *out, char *err,
                       size_t errlen);
/* The header's totalsize, or 0 if the magic is wrong. */
uint32_t fdt_totalsize(const void *blob);

#endif
