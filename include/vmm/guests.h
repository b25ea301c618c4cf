/* guests.h - the guest registry: the built-in table plus /guests/<name>/guest.cfg files. */
#ifndef VMM_GUESTS_H
#define VMM_GUESTS_H

#include <stddef.h>

#include "vmm/manifest.h"

#define GUESTS_TABLE_MIN   16 /* first size of the registry's table (it grows: no fixed limit) */
#define GUESTS_MAX_REFUSED 16 /* refused manifests whose messages are kept */
#define GUESTS_DIR         "/guests"
#define GUESTS_CFG_NAME    "guest.cfg"
#define GUESTS_BUILTIN     "built-in"

/* The built-in table (guest/guest_manifests.c): ids in order from 0, names unique. */
extern const struct guest_manifest guest_manifests[];
extern const unsigned guest_manifests_count;

/** A registered guest: its manifest (with its id) and where it came from. */
struct guest_entry {
    struct guest_manifest m;
    char source[GUEST_PATH_MAX]; /* GUESTS_BUILTIN, or the path of its guest.cfg */
};

/*
 * Rebuild the registry: the built-in table, then every GUESTS_DIR/<dir>/guest.cfg on the mounted
 * volume (none when nothing is mounted or there is no GUESTS_DIR). A manifest that does not parse,
 * or whose name is taken, is refused with a message and the others stay. A file manifest keeps
 * its id across scans as long as its guest.cfg stays; new ones get the next unused id. Returns
 * the number of guests registered.
 */
int guests_scan(void);

unsigned guests_count(void);
/* The index-th guest in id order: 0, or -ENOENT past the end. */
int guests_get(unsigned index, struct guest_entry *out);
/* By id (decimal) or by name (any case): 0, or -ENOENT. */
int guests_find(const char *id_or_name, struct guest_entry *out);

unsigned guests_refused_count(void);
/* The index-th refusal of the last scan, e.g. "/guests/x/guest.cfg:3: smp must be 1..8, got 12". */
int guests_refused(unsigned index, char *msg, size_t len);

#endif
