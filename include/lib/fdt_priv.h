/* fdt_priv.h - helpers shared by the FDT walker (fdt.c) and the platform reader (fdt_platform.c).
 */
#ifndef LIB_FDT_PRIV_H
#define LIB_FDT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "lib/fdt.h"

#define FDT_RSV_ENTRY 16 /* bytes per /memreserve/ entry: two big-endian u64 */

/* Record a one-line message in fdt's error buffer and return code. */
int fdt_fail(const struct fdt *fdt, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Property of node by a counted name; NULL if absent. */
const uint8_t *fdt_prop_n(const struct fdt *fdt, const struct fdt_node *node, const char *name,
                          size_t namelen, uint32_t *len);

#endif
