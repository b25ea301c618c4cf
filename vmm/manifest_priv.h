/* manifest_priv.h - what the guest.cfg parser's files share (vmm/manifest_*.c only). */
#ifndef VMM_MANIFEST_PRIV_H
#define VMM_MANIFEST_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/vfs.h"
#include "lib/string.h"
#include "vmm/manifest.h"

#define SHOWN_MAX 60 /* bytes of an offending value quoted in a message */

/* The keys, in the order of key_names in manifest_parse.c. */
enum manifest_key {
    KEY_NAME,
    KEY_KERNEL,
    KEY_DTB,
    KEY_INITRD,
    KEY_LOAD_ADDR,
    KEY_ENTRY,
    KEY_SMP,
    KEY_MEMORY,
    KEY_BOOTARGS,
    KEY_DEVICE,
    KEY_PASSTHROUGH,
    KEY_ON_FAULT,
    NR_KEYS,
};

/** A slice of the input: not NUL-terminated. */
struct slice {
    const char *s;
    size_t n;
};

/** One parse: where the input stands, and where results and errors go. */
struct mparse {
    const char *cfg_path;
    char dir[VFS_PATH_MAX];     /* directory of cfg_path: base of relative paths */
    char path_in[VFS_PATH_MAX]; /* scratch for one path value */
    char path_out[VFS_PATH_MAX];
    int line;
    int key_line[NR_KEYS];              /* where each key was set, 0 if not */
    int device_line[GUEST_MAX_DEVICES]; /* where each device was set */
    struct guest_manifest *m;
    char *err;
    size_t errlen;
};

/* Quoted in messages: at most SHOWN_MAX bytes (the value is free text from the file). */
static inline int shown(struct slice v)
{
    return (int)(v.n < SHOWN_MAX ? v.n : SHOWN_MAX);
}

/* The first c in s[0, n), or NULL (lib/string has no memchr). */
static inline const char *find_char(const char *s, char c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == c)
            return s + i;
    }
    return NULL;
}

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline struct slice trim(struct slice v)
{
    while (v.n && is_blank(v.s[0])) {
        v.s++;
        v.n--;
    }
    while (v.n && is_blank(v.s[v.n - 1]))
        v.n--;
    return v;
}

static inline bool slice_is(struct slice v, const char *word)
{
    size_t n = strlen(word);

    return v.n == n && !memcmp(v.s, word, n);
}

/* "<cfg_path>:<line>: <message>" (no line number when line is 0) into p->err; -EINVAL. */
int manifest_fail(struct mparse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Numbers: 0, -EINVAL (not one) or -ERANGE (over 64 bits). */
int manifest_hex(struct slice v, uint64_t *out);  /* 0x<hex> */
int manifest_dec(struct slice v, uint64_t *out);  /* decimal */
int manifest_size(struct slice v, uint64_t *out); /* 0x<hex>, or decimal with K, M or G */

/* Copy a value into dst[size]; false if it does not fit. */
bool manifest_copy(struct slice v, char *dst, size_t size);

/* Values that report their own errors (on p->line): 0 or -EINVAL. */
int manifest_path(struct mparse *p, const char *what, struct slice v, char *dst);
int manifest_name(struct mparse *p, struct slice v, char *dst, const char *what);
int manifest_addr(struct mparse *p, const char *what, struct slice v, uint64_t *out);
int manifest_device(struct mparse *p, struct slice v);
int manifest_passthrough(struct mparse *p, struct slice v);

#endif
