/* fdt.h - TestOS's tiny flattened device tree reader: validate a blob, visit its nodes. */
#ifndef TESTOS_FDT_H
#define TESTOS_FDT_H

#include "arch.h"

#define FDT_MAX_DEPTH 8

/** A property value inside the blob (big-endian cells, or strings). */
struct fdt_value {
    const uint8_t *data;
    uint32_t len;
};

/** One node as the walker hands it over, with the properties TestOS looks at. */
struct fdt_node {
    const char *name;        /* "cpu@0"; "" for the root */
    const char *parent_name; /* NULL for the root */
    unsigned int depth;      /* root = 0 */
    uint32_t addr_cells;     /* the parent's #address-cells: how to read this node's reg */
    uint32_t size_cells;
    struct fdt_value compatible, device_type, reg, interrupts, method, bootargs, status;
};

typedef void (*fdt_node_fn)(void *ctx, const struct fdt_node *node);

uint32_t fdt_total_size(const void *blob);
const char *fdt_walk(const void *blob, fdt_node_fn fn, void *ctx);
bool fdt_has_string(struct fdt_value v, const char *s);
bool fdt_value_is(struct fdt_value v, const char *s);
uint64_t fdt_cells(struct fdt_value v, uint32_t offset_cells, uint32_t ncells);
bool fdt_name_is(const char *name, const char *base);

#endif
