/* fdt_write.h - sequential flattened device tree (DTB) writer into a caller's buffer. */
#ifndef LIB_FDT_WRITE_H
#define LIB_FDT_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Writer state. Header, memory reservation block and structure block grow up from the start of
 * the buffer; the strings block grows down from its end and moves into place at finish. The
 * first error (overflow or misuse) is kept and every later call does nothing, so a caller emits
 * a whole tree and checks once, at fdt_write_finish().
 */
struct fdt_writer {
    uint8_t *buf;
    size_t cap;
    size_t off;        /* end of header + reservation block + structure block so far */
    size_t off_struct; /* where the structure block starts, once the root has begun */
    size_t strings;    /* bytes of the strings block, kept at buf[cap - strings, cap) */
    int depth;         /* nodes open */
    bool started;      /* the root node has begun, so the reservation block is closed */
    bool props_open;   /* the innermost open node has no child yet, so may take properties */
    int error;         /* first failure: -ENOSPC (buffer too small) or -EINVAL (misuse) */
};

void fdt_write_init(struct fdt_writer *w, void *buf, size_t len);
/* A /memreserve/ entry; only before the root node begins. */
void fdt_write_reserve(struct fdt_writer *w, uint64_t addr, uint64_t size);
/* Opens a node: "" for the root (exactly once), else "name" or "name@unit-address". */
void fdt_write_begin_node(struct fdt_writer *w, const char *name);
void fdt_write_end_node(struct fdt_writer *w);
/* Properties of the node most recently opened and not yet ended; cells are big-endian. */
void fdt_write_prop(struct fdt_writer *w, const char *name, const void *val, size_t len);
void fdt_write_prop_empty(struct fdt_writer *w, const char *name);
void fdt_write_prop_u32(struct fdt_writer *w, const char *name, uint32_t val);
void fdt_write_prop_u64(struct fdt_writer *w, const char *name, uint64_t val);
void fdt_write_prop_cells(struct fdt_writer *w, const char *name, const uint32_t *cells, size_t n);
void fdt_write_prop_str(struct fdt_writer *w, const char *name, const char *s);
/* A string list ("a\0b\0"), as for compatible. */
void fdt_write_prop_strs(struct fdt_writer *w, const char *name, const char *const *list, size_t n);
/* Closes the blob and writes the header. Returns 0 with the blob's size in *total, -ENOSPC if
   the buffer was too small at any point, or -EINVAL if the calls did not form a valid tree. */
int fdt_write_finish(struct fdt_writer *w, size_t *total);

#endif
