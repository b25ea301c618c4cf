/* manifest_parse.c - the guest.cfg parser: `key = value` lines into a struct guest_manifest. */
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "manifest_priv.h"

/*
 * Grammar (docs/guests.md is the user's version):
 *
 *   file     = { line }       lines end in LF or CRLF, the last one may lack it
 *   line     = blank | comment | setting
 *   comment  = [ws] "#" text   a whole line: a '#' inside a value belongs to the value
 *   setting  = [ws] key [ws] "=" [ws] value [ws]
 *   value    = text | '"' text '"'   quotes keep blanks at either end; there are no escapes
 *
 *   name        = <letter>{letter|digit|-|_}     default: the name of the directory
 *   kernel      = <path>                         required
 *   dtb, initrd = <path>
 *   load_addr   = 0x<hex>                        IPA; default: the kernel format's
 *   entry       = 0x<hex>                        IPA; default: the kernel format's
 *   smp         = 1..8                           default 1
 *   memory      = <n>[K|M|G] | 0x<hex>           4M..16G, a multiple of 2M; default 64M
 *   bootargs    = <text>                         the rest of the line
 *   device      = virtio-blk,image=<path>[,readonly]             repeatable
 *   device      = virtio-net[,mac=<xx:xx:xx:xx:xx:xx>][,switch=<name>]  repeatable; switch sw0
 *   passthrough = <label>@0x<base>[,size=<size>][,irq=<intid>]   repeatable; size default 4K
 *   on_fault    = inject | stop                  default inject
 *
 * Paths are absolute or relative to the directory holding the guest.cfg. Every key but device
 * and passthrough may appear once; unknown keys, bad values and control characters are errors
 * naming the line.
 */

#define DEFAULT_MEMORY (64UL << 20)

static const char *const key_names[NR_KEYS] = {
    "name", "kernel", "dtb",      "initrd", "load_addr",   "entry",
    "smp",  "memory", "bootargs", "device", "passthrough", "on_fault",
};

static int mp_smp(struct mparse *p, struct slice v)
{
    uint64_t n;

    if (manifest_dec(v, &n) || n < 1 || n > GUEST_SMP_MAX)
        return manifest_fail(p, p->line, "smp must be 1..%d, got %.*s", GUEST_SMP_MAX, shown(v),
                             v.s);
    p->m->smp_cores = (uint32_t)n;
    return 0;
}

static int mp_memory(struct mparse *p, struct slice v)
{
    uint64_t bytes;
    int err = manifest_size(v, &bytes);

    if (err == -EINVAL)
        return manifest_fail(p, p->line, "memory must be a size like 64M or 1G, got '%.*s'",
                             shown(v), v.s);
    if (err || bytes < GUEST_MEMORY_MIN || bytes > GUEST_MEMORY_MAX)
        return manifest_fail(p, p->line, "memory must be %luM..%luG, got %.*s",
                             GUEST_MEMORY_MIN >> 20, GUEST_MEMORY_MAX >> 30, shown(v), v.s);
    if (bytes % GUEST_MEMORY_ALIGN)
        return manifest_fail(p, p->line, "memory must be a multiple of 2M, got %.*s", shown(v),
                             v.s);
    p->m->memory_size = bytes;
    return 0;
}

static int mp_on_fault(struct mparse *p, struct slice v)
{
    if (slice_is(v, "inject"))
        p->m->on_fault = GUEST_FAULT_INJECT;
    else if (slice_is(v, "stop"))
        p->m->on_fault = GUEST_FAULT_STOP;
    else
        return manifest_fail(p, p->line, "on_fault must be inject or stop, got '%.*s'", shown(v),
                             v.s);
    return 0;
}

static int mp_setting(struct mparse *p, enum manifest_key key, struct slice v)
{
    struct guest_manifest *m = p->m;

    switch (key) {
    case KEY_NAME: return manifest_name(p, v, m->name, "name");
    case KEY_KERNEL: return manifest_path(p, "kernel", v, m->kernel_path);
    case KEY_DTB: return manifest_path(p, "dtb", v, m->dtb_path);
    case KEY_INITRD: return manifest_path(p, "initrd", v, m->initrd_path);
    case KEY_LOAD_ADDR: return manifest_addr(p, "load_addr", v, &m->load_addr);
    case KEY_ENTRY: return manifest_addr(p, "entry", v, &m->entry);
    case KEY_SMP: return mp_smp(p, v);
    case KEY_MEMORY: return mp_memory(p, v);
    case KEY_BOOTARGS:
        if (!manifest_copy(v, m->bootargs, sizeof(m->bootargs)))
            return manifest_fail(p, p->line, "bootargs longer than %d bytes",
                                 GUEST_BOOTARGS_MAX - 1);
        return 0;
    case KEY_DEVICE: return manifest_device(p, v);
    case KEY_PASSTHROUGH: return manifest_passthrough(p, v);
    case KEY_ON_FAULT: return mp_on_fault(p, v);
    default: return manifest_fail(p, p->line, "internal: key %d", (int)key);
    }
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int mp_line(struct mparse *p, struct slice line)
{
    for (size_t i = 0; i < line.n; i++) {
        unsigned char c = (unsigned char)line.s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return manifest_fail(p, p->line,
                                 "control character 0x%02x (only text and tabs are allowed)", c);
    }
    line = trim(line);
    if (line.n == 0 || line.s[0] == '#')
        return 0;

    struct slice key = {line.s, 0}, value;
    while (key.n < line.n && is_key_char(line.s[key.n]))
        key.n++;
    struct slice rest = trim((struct slice){line.s + key.n, line.n - key.n});
    if (key.n == 0 || rest.n == 0 || rest.s[0] != '=')
        return manifest_fail(p, p->line, "expected 'key = value', got '%.*s'", shown(line), line.s);
    value = trim((struct slice){rest.s + 1, rest.n - 1});

    enum manifest_key k = 0;
    while (k < NR_KEYS && !slice_is(key, key_names[k]))
        k++;
    if (k == NR_KEYS)
        return manifest_fail(
            p, p->line,
            "unknown key '%.*s' (keys: name, kernel, dtb, initrd, load_addr, entry, "
            "smp, memory, bootargs, device, passthrough, on_fault)",
            shown(key), key.s);
    if (p->key_line[k] && k != KEY_DEVICE && k != KEY_PASSTHROUGH)
        return manifest_fail(p, p->line, "duplicate key '%s' (first set on line %d)", key_names[k],
                             p->key_line[k]);
    p->key_line[k] = p->line;

    if (value.n && value.s[0] == '"') {
        if (value.n < 2 || value.s[value.n - 1] != '"')
            return manifest_fail(p, p->line, "%s: unterminated quote", key_names[k]);
        value.s++;
        value.n -= 2;
    }
    return mp_setting(p, k, value);
}

/* The line a manifest_check problem is about (0: the whole file). */
static int mp_where_line(const struct mparse *p, const struct manifest_where *w)
{
    if (w->device >= 0 && w->device < GUEST_MAX_DEVICES)
        return p->device_line[w->device];
    for (int k = 0; k < NR_KEYS; k++) {
        if (!strcmp(w->key, key_names[k]))
            return p->key_line[k];
    }
    return 0;
}

/* The directory of cfg_path (base of relative paths) and, as the default name, its last part. */
static int mp_start(struct mparse *p)
{
    const char *slash = strrchr(p->cfg_path, '/');
    size_t n = slash ? (size_t)(slash - p->cfg_path) : 0;

    if (p->cfg_path[0] != '/' || n >= sizeof(p->dir))
        return manifest_fail(p, 0, "manifest path must be absolute and shorter than %d bytes",
                             VFS_PATH_MAX);
    memcpy(p->dir, p->cfg_path, n);
    p->dir[n] = '\0';
    if (n == 0)
        strcpy(p->dir, "/");
    return 0;
}

static void mp_default_name(struct mparse *p)
{
    const char *base = strrchr(p->dir, '/');

    base = base ? base + 1 : p->dir;
    if (strlen(base) < GUEST_NAME_MAX)
        strcpy(p->m->name, base);
}

static int mp_finish(struct mparse *p)
{
    char msg[MANIFEST_ERR_MAX];
    struct manifest_where where;

    if (!p->key_line[KEY_NAME]) {
        mp_default_name(p);
        if (!manifest_name_valid(p->m->name))
            return manifest_fail(
                p, 0, "no name given, and the directory name '%s' is not a valid guest name",
                p->m->name);
    }
    if (!p->key_line[KEY_KERNEL])
        return manifest_fail(p, 0, "no kernel given (kernel = <path>)");
    if (manifest_check(p->m, msg, sizeof(msg), &where))
        return manifest_fail(p, mp_where_line(p, &where), "%s", msg);
    return 0;
}

int manifest_parse(const char *text, size_t len, const char *cfg_path, struct guest_manifest *out,
                   char *err, size_t errlen)
{
    struct mparse *p = kzalloc(sizeof(*p));
    size_t pos = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    out->id = -1;
    out->smp_cores = 1;
    out->memory_size = DEFAULT_MEMORY;
    if (!p) {
        fmt_snprintf(err, errlen, "%s: out of memory", cfg_path);
        return -ENOMEM;
    }
    p->cfg_path = cfg_path;
    p->m = out;
    p->err = err;
    p->errlen = errlen;
    rc = mp_start(p);
    if (!rc && len > MANIFEST_FILE_MAX)
        rc = manifest_fail(p, 0, "larger than %d bytes", MANIFEST_FILE_MAX);
    while (!rc && pos < len) {
        const char *nl = find_char(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct slice line = {text + pos, end - pos};

        p->line++;
        if (line.n && line.s[line.n - 1] == '\r')
            line.n--;
        if (line.n > MANIFEST_LINE_MAX)
            rc = manifest_fail(p, p->line, "line longer than %d bytes", MANIFEST_LINE_MAX);
        else
            rc = mp_line(p, line);
        pos = end + 1;
    }
    if (!rc)
        rc = mp_finish(p);
    kfree(p);
    return rc;
}
