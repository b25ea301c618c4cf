/* manifest_value.c - guest.cfg values: numbers, sizes, paths, names, and error messages. */
#include "lib/errno.h"
#include "lib/printf.h"
#include "manifest_priv.h"

int manifest_fail(struct mparse *p, int line, const char *fmt, ...)
{
    va_list ap;
    int n = line ? fmt_snprintf(p->err, p->errlen, "%s:%d: ", p->cfg_path, line)
                 : fmt_snprintf(p->err, p->errlen, "%s: ", p->cfg_path);

    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        fmt_vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "0x" and 1+ hex digits: 0, -EINVAL (syntax) or -ERANGE (over 64 bits). */
int manifest_hex(struct slice v, uint64_t *out)
{
    uint64_t x = 0;

    if (v.n < 3 || v.s[0] != '0' || (v.s[1] != 'x' && v.s[1] != 'X'))
        return -EINVAL;
    for (size_t i = 2; i < v.n; i++) {
        int d = hex_digit(v.s[i]);
        if (d < 0)
            return -EINVAL;
        if (x >> 60)
            return -ERANGE;
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* 1+ decimal digits: 0, -EINVAL or -ERANGE. */
int manifest_dec(struct slice v, uint64_t *out)
{
    uint64_t x = 0;

    if (v.n == 0)
        return -EINVAL;
    for (size_t i = 0; i < v.n; i++) {
        if (v.s[i] < '0' || v.s[i] > '9')
            return -EINVAL;
        uint64_t d = (uint64_t)(v.s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -ERANGE;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/* A byte count: 0x<hex>, or decimal with an optional K, M or G (binary units, "iB" allowed). */
int manifest_size(struct slice v, uint64_t *out)
{
    static const char units[] = "KkMmGg";
    unsigned shift = 0;
    uint64_t x;
    int err;

    if (v.n >= 2 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X'))
        return manifest_hex(v, out);
    if (v.n > 2 && (v.s[v.n - 1] == 'B' || v.s[v.n - 1] == 'b') && v.s[v.n - 2] == 'i')
        v.n -= 2;
    const char *unit = v.n ? find_char(units, v.s[v.n - 1], 6) : NULL;
    if (unit) {
        shift = 10 * (unsigned)((unit - units) / 2 + 1); /* K, M, G: 10, 20, 30 */
        v.n--;
    }
    err = manifest_dec(v, &x);
    if (err)
        return err;
    if (x > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = x << shift;
    return 0;
}

/* Copy a value into dst[size]; false if it does not fit. */
bool manifest_copy(struct slice v, char *dst, size_t size)
{
    if (v.n >= size)
        return false;
    memcpy(dst, v.s, v.n);
    dst[v.n] = '\0';
    return true;
}

/* A path value made absolute against the manifest's directory and normalised into dst. */
int manifest_path(struct mparse *p, const char *what, struct slice v, char *dst)
{
    if (v.n == 0)
        return manifest_fail(p, p->line, "%s must not be empty", what);
    if (!manifest_copy(v, p->path_in, sizeof(p->path_in)) ||
        vfs_normalize(p->dir, p->path_in, p->path_out) || strlen(p->path_out) >= GUEST_PATH_MAX)
        return manifest_fail(p, p->line,
                             "%s path is too long (at most %d bytes once resolved): '%.*s'", what,
                             GUEST_PATH_MAX - 1, shown(v), v.s);
    if (!strcmp(p->path_out, "/"))
        return manifest_fail(p, p->line, "%s '%.*s' names the root directory", what, shown(v), v.s);
    strcpy(dst, p->path_out);
    return 0;
}

int manifest_name(struct mparse *p, struct slice v, char *dst, const char *what)
{
    char name[GUEST_NAME_MAX];

    if (!manifest_copy(v, name, sizeof(name)) || !manifest_name_valid(name))
        return manifest_fail(
            p, p->line,
            "%s must be a letter followed by letters, digits, '-' or '_' (at most %d), "
            "got '%.*s'",
            what, GUEST_NAME_MAX - 1, shown(v), v.s);
    strcpy(dst, name);
    return 0;
}

int manifest_addr(struct mparse *p, const char *what, struct slice v, uint64_t *out)
{
    int err = manifest_hex(v, out);

    if (err == -ERANGE)
        return manifest_fail(p, p->line, "%s '%.*s' does not fit in 64 bits", what, shown(v), v.s);
    if (err)
        return manifest_fail(p, p->line, "%s must be a hex address like 0x40080000, got '%.*s'",
                             what, shown(v), v.s);
    if (*out == 0)
        return manifest_fail(p, p->line, "%s 0x0 is outside guest RAM", what);
    return 0;
}
