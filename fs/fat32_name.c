/* fat32_name.c - FAT names: UTF-8 <-> UTF-16, long-name rules, 8.3 names, aliases, checksums. */
#include "fat32_priv.h"

static bool is_high_surrogate(uint32_t c)
{
    return c >= 0xD800 && c <= 0xDBFF;
}

static bool is_low_surrogate(uint32_t c)
{
    return c >= 0xDC00 && c <= 0xDFFF;
}

/** Decodes one UTF-8 sequence at s[*i]; returns the code point or -EILSEQ. */
static int32_t utf8_decode(const uint8_t *s, size_t len, size_t *i)
{
    static const uint32_t min_for_len[4] = {0, 0x80, 0x800, 0x10000};
    uint32_t c = s[*i];
    size_t extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;

    if (c < 0x80) {
        (*i)++;
        return (int32_t)c;
    }
    if (extra == 4 || extra >= len - *i)
        return -EILSEQ;
    c &= 0x7Fu >> extra;
    for (size_t k = 1; k <= extra; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return -EILSEQ;
        c = c << 6 | (s[*i + k] & 0x3F);
    }
    /* Overlong forms, encoded surrogates and values past Unicode are not characters. */
    if (c < min_for_len[extra] || c > 0x10FFFF || is_high_surrogate(c) || is_low_surrogate(c))
        return -EILSEQ;
    *i += extra + 1;
    return (int32_t)c;
}

int fat32_utf8_to_units(const char *str, size_t len, uint16_t *out, uint32_t max)
{
    const uint8_t *s = (const uint8_t *)str;
    uint32_t n = 0;
    size_t i = 0;

    while (i < len) {
        int32_t c = utf8_decode(s, len, &i);

        if (c < 0)
            return c;
        if (n + (c > 0xFFFF) >= max)
            return -ENAMETOOLONG;
        if (c > 0xFFFF) {
            c -= 0x10000;
            out[n++] = (uint16_t)(0xD800 | c >> 10);
            out[n++] = (uint16_t)(0xDC00 | (c & 0x3FF));
        } else {
            out[n++] = (uint16_t)c;
        }
    }
    return (int)n;
}

/** Encodes units as NUL-terminated UTF-8 (an unpaired surrogate becomes U+FFFD). */
int fat32_units_to_utf8(const uint16_t *u, uint32_t n, char *out, size_t max)
{
    size_t o = 0;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = u[i];

        if (is_high_surrogate(c) && i + 1 < n && is_low_surrogate(u[i + 1]))
            c = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
        else if (is_high_surrogate(c) || is_low_surrogate(c))
            c = 0xFFFD;
        size_t need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (o + need >= max)
            return -ERANGE;
        if (need == 1) {
            out[o++] = (char)c;
            continue;
        }
        out[o++] = (char)((need == 2 ? 0xC0 : need == 3 ? 0xE0 : 0xF0) | c >> (6 * (need - 1)));
        for (size_t k = need - 1; k > 0; k--)
            out[o++] = (char)(0x80 | (c >> (6 * (k - 1)) & 0x3F));
    }
    if (max == 0)
        return -ERANGE;
    out[o] = '\0';
    return (int)o;
}

/**
 * Whether a long name may be used. Creating follows the Windows rules (no reserved characters,
 * no trailing dot or space); a name read from disk need only be safe in a path.
 */
bool fat32_long_name_valid(const uint16_t *u, uint32_t n, bool creating)
{
    if (n == 0 || n > NAME_MAX_UNITS)
        return false;
    if ((n == 1 && u[0] == '.') || (n == 2 && u[0] == '.' && u[1] == '.'))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t c = u[i];

        if (c < 0x20 || c == '/')
            return false;
        if (is_high_surrogate(c) && !(i + 1 < n && is_low_surrogate(u[i + 1])))
            return false;
        if (is_low_surrogate(c) && !(i > 0 && is_high_surrogate(u[i - 1])))
            return false;
        if (creating && (c == 0x7F || (c < 0x80 && strchr("\"*:<>?\\|", c))))
            return false;
    }
    return !creating || (u[n - 1] != '.' && u[n - 1] != ' ');
}

static uint16_t fold(uint16_t c)
{
    return c >= 'a' && c <= 'z' ? (uint16_t)(c - 'a' + 'A') : c;
}

bool fat32_names_equal(const uint16_t *a, uint32_t an, const uint16_t *b, uint32_t bn)
{
    if (an != bn)
        return false;
    for (uint32_t i = 0; i < an; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

/**
 * The 8.3 name of a short entry as shown to users: trailing spaces dropped, NT lowercase bits
 * applied. Bytes above 0x7F are OEM code page; they pass through as Latin-1 units.
 */
uint32_t fat32_short_display(const uint8_t *ent, uint16_t *out)
{
    uint32_t base = 8, ext = 3, n = 0;

    while (base > 0 && ent[base - 1] == ' ')
        base--;
    while (ext > 0 && ent[8 + ext - 1] == ' ')
        ext--;
    for (uint32_t i = 0; i < base; i++) {
        uint16_t c = i == 0 && ent[0] == DIRENT_KANJI_E5 ? 0xE5 : ent[i];

        if ((ent[DE_NTRES] & NTRES_LOWER_BASE) && c >= 'A' && c <= 'Z')
            c = (uint16_t)(c - 'A' + 'a');
        out[n++] = c;
    }
    if (ext)
        out[n++] = '.';
    for (uint32_t i = 0; i < ext; i++) {
        uint16_t c = ent[8 + i];

        if ((ent[DE_NTRES] & NTRES_LOWER_EXT) && c >= 'A' && c <= 'Z')
            c = (uint16_t)(c - 'A' + 'a');
        out[n++] = c;
    }
    return n;
}

/* The checksum tying long-name entries to their short entry (spec, "ChkSum"). */
uint8_t fat32_short_checksum(const uint8_t *name11)
{
    uint8_t sum = 0;

    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
    return sum;
}

/* Characters allowed in a short name besides letters and digits (spec, "DIR_Name"). */
static bool short_char_ok(uint16_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c < 0x80 && c != 0 && strchr("$%'-_@~`!(){}^#&", c);
}

static uint8_t short_upper(uint16_t c)
{
    return (uint8_t)fold(c);
}

/**
 * Tries name as an 8.3 name. Returns 0 when it is one as it stands: each part all upper or all
 * lower case, expressed by the NT case bits in ntres. Returns 1 when only mixed case keeps it
 * from being one (it needs a long name, but the uppercased 8.3 name needs no tail). Returns -1
 * otherwise. name11 gets the uppercased name in the first two cases.
 */
int fat32_short_exact(const uint16_t *u, uint32_t n, uint8_t *name11, uint8_t *ntres)
{
    uint32_t dot = n;
    bool lower[2] = {false, false}, upper[2] = {false, false};

    for (uint32_t i = 0; i < n; i++) {
        if (u[i] != '.')
            continue;
        if (dot != n)
            return -1;
        dot = i;
    }
    if (dot == 0 || dot > 8 || (dot < n && (n - dot - 1 == 0 || n - dot - 1 > 3)))
        return -1;
    memset(name11, ' ', 11);
    for (uint32_t i = 0; i < n; i++) {
        int part = i > dot;

        if (i == dot)
            continue;
        if (!short_char_ok(u[i]))
            return -1;
        lower[part] |= u[i] >= 'a' && u[i] <= 'z';
        upper[part] |= u[i] >= 'A' && u[i] <= 'Z';
        name11[part ? 8 + (i - dot - 1) : i] = short_upper(u[i]);
    }
    *ntres = (uint8_t)((lower[0] ? NTRES_LOWER_BASE : 0) | (lower[1] ? NTRES_LOWER_EXT : 0));
    return (lower[0] && upper[0]) || (lower[1] && upper[1]) ? 1 : 0;
}

static uint8_t basis_char(uint16_t c)
{
    return short_char_ok(c) ? short_upper(c) : '_';
}

/**
 * The basis of an alias (spec, "Basis-Name Generation Algorithm"): spaces and leading dots
 * dropped, the part before the last dot (its dots dropped) as the base, three characters after
 * it as the extension, anything not allowed in a short name replaced by '_'.
 */
void fat32_short_basis(const uint16_t *u, uint32_t n, uint8_t *name11)
{
    uint32_t start = 0, last_dot = n, b = 0, e = 8;

    while (start < n && (u[start] == '.' || u[start] == ' '))
        start++;
    for (uint32_t i = start; i < n; i++)
        if (u[i] == '.')
            last_dot = i;
    memset(name11, ' ', 11);
    for (uint32_t i = start; i < last_dot && b < 8; i++)
        if (u[i] != '.' && u[i] != ' ')
            name11[b++] = basis_char(u[i]);
    for (uint32_t i = last_dot + 1; i < n && e < 11; i++)
        if (u[i] != ' ')
            name11[e++] = basis_char(u[i]);
    if (b == 0)
        name11[0] = '_';
}

static uint32_t basis_base_len(const uint8_t *basis)
{
    uint32_t len = 8;

    while (len > 0 && basis[len - 1] == ' ')
        len--;
    return len;
}

/** The basis with the numeric tail "~tail", shortening the base to keep it 8 characters. */
void fat32_short_tail(const uint8_t *basis, uint32_t tail, uint8_t *name11)
{
    char digits[10];
    uint32_t d = 0, keep = basis_base_len(basis);

    do {
        digits[d++] = (char)('0' + tail % 10);
        tail /= 10;
    } while (tail);
    if (keep > 7 - d)
        keep = 7 - d;
    memcpy(name11, basis, 11);
    memset(name11 + keep, ' ', 8 - keep);
    name11[keep] = '~';
    for (uint32_t i = 0; i < d; i++)
        name11[keep + 1 + i] = (uint8_t)digits[d - 1 - i];
}

/** The tail n if name11 is the basis with tail "~n" as fat32_short_tail makes it, else 0. */
uint32_t fat32_short_tail_of(const uint8_t *basis, const uint8_t *name11)
{
    uint32_t end = 8, tilde, tail = 0;

    if (memcmp(basis + 8, name11 + 8, 3) != 0)
        return 0;
    while (end > 0 && name11[end - 1] == ' ')
        end--;
    tilde = end;
    while (tilde > 0 && name11[tilde - 1] >= '0' && name11[tilde - 1] <= '9')
        tilde--;
    if (tilde == 0 || tilde == end || name11[tilde - 1] != '~' || name11[tilde] == '0')
        return 0;
    tilde--;
    for (uint32_t i = tilde + 1; i < end; i++)
        tail = tail * 10 + (uint32_t)(name11[i] - '0');
    uint32_t keep = basis_base_len(basis);
    if (keep > 7 - (end - tilde - 1))
        keep = 7 - (end - tilde - 1);
    if (keep != tilde || memcmp(basis, name11, keep) != 0)
        return 0;
    return tail;
}
