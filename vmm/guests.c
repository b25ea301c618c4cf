/* guests.c - the guest registry: built-in manifests plus guest.cfg files found under /guests. */
#include "vmm/guests.h"

#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

/** What one scan found; installed as the registry when it is complete. */
struct scan {
    struct guest_entry **table; /* kmalloc'd, cap slots; grows as guests are found */
    unsigned count, cap;
    char refused[GUESTS_MAX_REFUSED][MANIFEST_ERR_MAX];
    unsigned nrefused;
    struct vfs_dirent dirent;
    char cfg[VFS_PATH_MAX];
    char err[MANIFEST_ERR_MAX];
};

/*
 * lock protects registry, count, refused, nrefused and next_id. A scan reads the files without
 * it and swaps its result in, so readers never wait on the disk.
 */
static spinlock_t lock = SPINLOCK_INIT;
static struct guest_entry **registry; /* count entries, in id order (kmalloc'd) */
static unsigned count;
static char refused[GUESTS_MAX_REFUSED][MANIFEST_ERR_MAX];
static unsigned nrefused;
static int next_id = -1; /* next id for a new file manifest; -1 until the first scan */

static void refuse(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct scan *s, const char *fmt, ...)
{
    va_list ap;

    if (s->nrefused == GUESTS_MAX_REFUSED)
        return;
    if (s->nrefused == GUESTS_MAX_REFUSED - 1) {
        strcpy(s->refused[s->nrefused++], "(more manifests refused, not listed)");
        return;
    }
    va_start(ap, fmt);
    fmt_vsnprintf(s->refused[s->nrefused++], MANIFEST_ERR_MAX, fmt, ap);
    va_end(ap);
}

/* The guest already registered in this scan under name (any case), or NULL. */
static const struct guest_entry *scan_find_name(const struct scan *s, const char *name)
{
    for (unsigned i = 0; i < s->count; i++) {
        if (manifest_same_name(s->table[i]->m.name, name))
            return s->table[i];
    }
    return NULL;
}

/* Room for twice as many guests: 0, or -ENOMEM (the table is unchanged). The number of guests
 * is bounded by memory only. */
static int scan_grow(struct scan *s)
{
    unsigned cap = s->cap ? 2 * s->cap : GUESTS_TABLE_MIN;
    struct guest_entry **t;

    if (cap > UINT32_MAX / sizeof(*t) || !(t = kmalloc(cap * sizeof(*t))))
        return -ENOMEM;
    if (s->count)
        memcpy(t, s->table, s->count * sizeof(*t));
    kfree(s->table);
    s->table = t;
    s->cap = cap;
    return 0;
}

/* Add m (from source) unless its name is taken or there is no memory for it. */
static void scan_add(struct scan *s, const struct guest_manifest *m, const char *source)
{
    const struct guest_entry *other = scan_find_name(s, m->name);
    struct guest_entry *e;

    if (other) {
        if (!strcmp(other->source, GUESTS_BUILTIN))
            refuse(s, "%s: guest name '%s' is already taken by built-in guest '%s'", source,
                   m->name, other->m.name);
        else
            refuse(s, "%s: guest name '%s' is already taken by %s", source, m->name, other->source);
        return;
    }
    if (s->count == s->cap && scan_grow(s)) {
        refuse(s, "%s: out of memory", source);
        return;
    }
    e = kmalloc(sizeof(*e));
    if (!e) {
        refuse(s, "%s: out of memory", source);
        return;
    }
    e->m = *m;
    strcpy(e->source, source);
    s->table[s->count++] = e;
}

static void scan_builtin(struct scan *s)
{
    for (unsigned i = 0; i < guest_manifests_count; i++) {
        const struct guest_manifest *m = &guest_manifests[i];
        if (manifest_check(m, s->err, sizeof(s->err), NULL))
            refuse(s, "built-in guest %u: %s", i, s->err);
        else
            scan_add(s, m, GUESTS_BUILTIN);
    }
}

/* GUESTS_DIR/<name>/guest.cfg, if there is one. */
static void scan_cfg(struct scan *s, const char *name)
{
    struct guest_manifest *m;
    struct vfs_stat st;
    void *text;
    size_t len;
    int err;

    if ((size_t)fmt_snprintf(s->cfg, sizeof(s->cfg), GUESTS_DIR "/%s/" GUESTS_CFG_NAME, name) >=
        GUEST_PATH_MAX) {
        refuse(s, GUESTS_DIR "/%s: path too long for a guest", name);
        return;
    }
    err = vfs_stat(s->cfg, &st);
    if (err == -ENOENT)
        return; /* a directory of files for a built-in guest, or anything else */
    if (!err)
        err = vfs_read_file(s->cfg, &text, &len, MANIFEST_FILE_MAX);
    if (err) {
        refuse(s, "%s: %s", s->cfg,
               err == -EFBIG ? "larger than a manifest may be (64 KiB)" : errno_str(err));
        return;
    }
    m = kmalloc(sizeof(*m));
    if (!m)
        refuse(s, "%s: out of memory", s->cfg);
    else if (manifest_parse(text, len, s->cfg, m, s->err, sizeof(s->err)))
        refuse(s, "%s", s->err);
    else
        scan_add(s, m, s->cfg);
    kfree(m);
    kfree(text);
}

static void scan_files(struct scan *s)
{
    struct file *dir;
    int err = vfs_open(GUESTS_DIR, O_RDONLY | O_DIRECTORY, &dir);

    if (err == -ENOENT)
        return; /* no volume, or no guests on it */
    if (err) {
        refuse(s, GUESTS_DIR ": %s", errno_str(err));
        return;
    }
    while ((err = vfs_readdir(dir, &s->dirent)) == 1) {
        const char *name = s->dirent.name;
        if (s->dirent.st.is_dir && strcmp(name, ".") && strcmp(name, ".."))
            scan_cfg(s, name);
    }
    if (err < 0)
        refuse(s, GUESTS_DIR ": %s", errno_str(err));
    vfs_close(dir);
}

/*
 * Ids (under lock): built-in guests keep the table's; a file manifest keeps the id it had in the
 * registry being replaced, or gets the next never-used one. Then the table goes in id order.
 */
static void scan_assign_ids(struct scan *s)
{
    if (next_id < 0) {
        next_id = 0;
        for (unsigned i = 0; i < guest_manifests_count; i++) {
            if (guest_manifests[i].id >= next_id)
                next_id = guest_manifests[i].id + 1;
        }
    }
    for (unsigned i = 0; i < s->count; i++) {
        struct guest_entry *e = s->table[i];
        if (!strcmp(e->source, GUESTS_BUILTIN))
            continue;
        e->m.id = -1;
        for (unsigned j = 0; j < count && e->m.id < 0; j++) {
            if (!strcmp(registry[j]->source, e->source))
                e->m.id = registry[j]->m.id;
        }
        if (e->m.id < 0)
            e->m.id = next_id++;
    }
    for (unsigned i = 1; i < s->count; i++) {
        struct guest_entry *e = s->table[i];
        unsigned j = i;
        for (; j > 0 && s->table[j - 1]->m.id > e->m.id; j--)
            s->table[j] = s->table[j - 1];
        s->table[j] = e;
    }
}

int guests_scan(void)
{
    struct guest_entry **old;
    struct scan *s = kzalloc(sizeof(*s));
    unsigned nold, n;

    if (!s)
        return -ENOMEM;
    scan_builtin(s);
    scan_files(s);

    spin_lock(&lock);
    scan_assign_ids(s);
    nold = count;
    old = registry;
    registry = s->table;
    count = n = s->count;
    memcpy(refused, s->refused, sizeof(refused));
    nrefused = s->nrefused;
    spin_unlock(&lock);

    for (unsigned i = 0; i < nold; i++)
        kfree(old[i]);
    kfree(old);
    kfree(s);
    return (int)n;
}

unsigned guests_count(void)
{
    spin_lock(&lock);
    unsigned n = count;
    spin_unlock(&lock);
    return n;
}

int guests_get(unsigned index, struct guest_entry *out)
{
    int err = -ENOENT;

    spin_lock(&lock);
    if (index < count) {
        *out = *registry[index];
        err = 0;
    }
    spin_unlock(&lock);
    return err;
}

/* A decimal id, or -1 if s is not one. */
static int parse_id(const char *s)
{
    int id = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || id > 100000)
            return -1;
        id = id * 10 + (*s - '0');
    }
    return id;
}

int guests_find(const char *id_or_name, struct guest_entry *out)
{
    int id = parse_id(id_or_name), err = -ENOENT;

    spin_lock(&lock);
    for (unsigned i = 0; i < count && err; i++) {
        const struct guest_manifest *m = &registry[i]->m;
        if (id >= 0 ? m->id == id : manifest_same_name(m->name, id_or_name)) {
            *out = *registry[i];
            err = 0;
        }
    }
    spin_unlock(&lock);
    return err;
}

unsigned guests_refused_count(void)
{
    spin_lock(&lock);
    unsigned n = nrefused;
    spin_unlock(&lock);
    return n;
}

int guests_refused(unsigned index, char *msg, size_t len)
{
    int err = -ENOENT;

    spin_lock(&lock);
    if (index < nrefused) {
        fmt_snprintf(msg, len, "%s", refused[index]);
        err = 0;
    }
    spin_unlock(&lock);
    return err;
}
