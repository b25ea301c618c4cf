/* printf.c - freestanding printf core: integers, chars, strings, pointers; no floating point. */
#include <stdbool.h>
#include <stdint.h>

#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

/* %zd and %tu reinterpret between size_t and ptrdiff_t, which needs them to be one width. */
_Static_assert(sizeof(size_t) == sizeof(ptrdiff_t), "size_t and ptrdiff_t differ in width");

#define INT_LIMIT 0x7fffffff

enum {
    FLAG_LEFT = 1,
    FLAG_ZERO = 2,
    FLAG_SPACE = 4,
    FLAG_PLUS = 8,
    FLAG_ALT = 16,
};

enum len_mod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

/** One parsed conversion specification. */
struct spec {
    unsigned flags;
    int width;
    int prec; /* -1 when no precision was given */
    enum len_mod len;
    char conv;
};

/** Where output goes, and how much has gone there. */
struct out {
    printf_sink sink;
    void *ctx;
    size_t count;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    if (n) {
        o->sink(o->ctx, s, n);
        o->count += n;
    }
}

/* Padding goes out in small chunks so a large width needs no large buffer. */
static void out_repeat(struct out *o, char c, size_t n)
{
    char chunk[32];

    memset(chunk, c, sizeof(chunk));
    while (n) {
        size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
        out_put(o, chunk, k);
        n -= k;
    }
}

/* Reads a decimal field, saturating rather than overflowing on absurd widths. */
static int parse_decimal(const char **p)
{
    int v = 0;

    while (**p >= '0' && **p <= '9') {
        int d = **p - '0';
        v = v > (INT_LIMIT - d) / 10 ? INT_LIMIT : v * 10 + d;
        (*p)++;
    }
    return v;
}

static enum len_mod parse_length(const char **p)
{
    switch (**p) {
    case 'h':
        (*p)++;
        if (**p == 'h') {
            (*p)++;
            return LEN_HH;
        }
        return LEN_H;
    case 'l':
        (*p)++;
        if (**p == 'l') {
            (*p)++;
            return LEN_LL;
        }
        return LEN_L;
    case 'z': (*p)++; return LEN_Z;
    case 't': (*p)++; return LEN_T;
    case 'j': (*p)++; return LEN_J;
    default: return LEN_NONE;
    }
}

/* Parses flags, width, precision and length after the '%'; '*' fields consume arguments. */
static void parse_spec(const char **p, va_list *ap, struct spec *sp)
{
    sp->flags = 0;
    for (;; (*p)++) {
        if (**p == '-')
            sp->flags |= FLAG_LEFT;
        else if (**p == '0')
            sp->flags |= FLAG_ZERO;
        else if (**p == ' ')
            sp->flags |= FLAG_SPACE;
        else if (**p == '+')
            sp->flags |= FLAG_PLUS;
        else if (**p == '#')
            sp->flags |= FLAG_ALT;
        else
            break;
    }
    if (**p == '*') {
        int w = va_arg(*ap, int);
        (*p)++;
        /* A negative '*' width means left adjustment (C11 7.21.6.1p5). */
        if (w < 0) {
            sp->flags |= FLAG_LEFT;
            w = w < -INT_LIMIT ? INT_LIMIT : -w;
        }
        sp->width = w;
    } else {
        sp->width = parse_decimal(p);
    }
    sp->prec = -1;
    if (**p == '.') {
        (*p)++;
        if (**p == '*') {
            int pr = va_arg(*ap, int);
            (*p)++;
            /* A negative '*' precision is taken as if it were omitted. */
            sp->prec = pr < 0 ? -1 : pr;
        } else {
            sp->prec = parse_decimal(p);
        }
    }
    sp->len = parse_length(p);
    sp->conv = **p;
}

static uintmax_t arg_unsigned(va_list *ap, enum len_mod len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    case LEN_T: return (size_t)va_arg(*ap, ptrdiff_t);
    case LEN_J: return va_arg(*ap, uintmax_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static intmax_t arg_signed(va_list *ap, enum len_mod len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z: return (ptrdiff_t)va_arg(*ap, size_t);
    case LEN_T: return va_arg(*ap, ptrdiff_t);
    case LEN_J: return va_arg(*ap, intmax_t);
    default: return va_arg(*ap, int);
    }
}

static unsigned conv_base(char conv)
{
    switch (conv) {
    case 'o': return 8;
    case 'x':
    case 'X':
    case 'p': return 16;
    default: return 10;
    }
}

/* Lays out [pad][sign/prefix][zeros][digits][pad] following C11 7.21.6.1 for d i u o x X p. */
static void put_integer(struct out *o, const struct spec *sp, uintmax_t mag, char sign)
{
    const char *xdigits = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned base = conv_base(sp->conv);
    char digits[24];
    size_t nd = 0;
    char prefix[3]; /* sign, or "0x" */
    size_t np = 0;
    size_t zeros, body, pad;
    bool nonzero = mag != 0;

    /* Precision 0 with value 0 prints no digits at all. */
    if (nonzero || sp->prec != 0) {
        do {
            digits[sizeof(digits) - 1 - nd++] = xdigits[mag % base];
            mag /= base;
        } while (mag);
    }
    if (sign)
        prefix[np++] = sign;
    if (sp->conv == 'p' ||
        ((sp->flags & FLAG_ALT) && nonzero && (sp->conv == 'x' || sp->conv == 'X'))) {
        prefix[np++] = '0';
        prefix[np++] = sp->conv == 'X' ? 'X' : 'x';
    }
    zeros = sp->prec > 0 && (size_t)sp->prec > nd ? (size_t)sp->prec - nd : 0;
    /* '#' with 'o' raises the precision just enough for the first digit to be 0. */
    if (sp->conv == 'o' && (sp->flags & FLAG_ALT) && zeros == 0 &&
        (nd == 0 || digits[sizeof(digits) - nd] != '0'))
        zeros = 1;
    body = np + zeros + nd;
    pad = (size_t)sp->width > body ? (size_t)sp->width - body : 0;
    /* The '0' flag is ignored with '-' or with an explicit precision. */
    if ((sp->flags & FLAG_ZERO) && !(sp->flags & FLAG_LEFT) && sp->prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!(sp->flags & FLAG_LEFT))
        out_repeat(o, ' ', pad);
    out_put(o, prefix, np);
    out_repeat(o, '0', zeros);
    out_put(o, digits + sizeof(digits) - nd, nd);
    if (sp->flags & FLAG_LEFT)
        out_repeat(o, ' ', pad);
}

static void put_padded(struct out *o, const struct spec *sp, const char *s, size_t n)
{
    size_t pad = (size_t)sp->width > n ? (size_t)sp->width - n : 0;

    if (!(sp->flags & FLAG_LEFT))
        out_repeat(o, ' ', pad);
    out_put(o, s, n);
    if (sp->flags & FLAG_LEFT)
        out_repeat(o, ' ', pad);
}

/* Emits one conversion; returns false for a conversion it does not know. */
static bool put_conversion(struct out *o, const struct spec *sp, va_list *ap)
{
    switch (sp->conv) {
    case 'd':
    case 'i': {
        intmax_t v = arg_signed(ap, sp->len);
        uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
        char sign = 0;
        if (v < 0)
            sign = '-';
        else if (sp->flags & FLAG_PLUS)
            sign = '+'; /* '+' wins over ' ' (C11 7.21.6.1p6) */
        else if (sp->flags & FLAG_SPACE)
            sign = ' ';
        put_integer(o, sp, mag, sign);
        return true;
    }
    case 'u':
    case 'o':
    case 'x':
    case 'X': put_integer(o, sp, arg_unsigned(ap, sp->len), 0); return true;
    case 'p':
        if (sp->len != LEN_NONE)
            return false;
        put_integer(o, sp, (uintptr_t)va_arg(*ap, void *), 0);
        return true;
    case 'c': {
        /* Wide characters (%lc) are not supported; they fall through to verbatim output. */
        if (sp->len != LEN_NONE)
            return false;
        char c = (char)va_arg(*ap, int);
        put_padded(o, sp, &c, 1);
        return true;
    }
    case 's': {
        if (sp->len != LEN_NONE)
            return false;
        const char *s = va_arg(*ap, const char *);
        if (!s)
            s = "(null)";
        /* With a precision the string need not be terminated, so never read past it. */
        put_padded(o, sp, s, sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s));
        return true;
    }
    case '%': out_put(o, "%", 1); return true;
    default: return false;
    }
}

int vcbprintf(printf_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = {sink, ctx, 0};
    const char *p = fmt;
    va_list args;

    /* A va_list parameter may be an array type; a local copy makes &args a real va_list *. */
    va_copy(args, ap);
    while (*p) {
        const char *lit = p;
        while (*p && *p != '%')
            p++;
        out_put(&o, lit, (size_t)(p - lit));
        if (!*p)
            break;

        const char *start = p++;
        struct spec sp;
        parse_spec(&p, &args, &sp);
        if (sp.conv == '\0') {
            /* The format ends inside a specification: show what there was. */
            out_put(&o, start, (size_t)(p - start));
            break;
        }
        p++;
        if (!put_conversion(&o, &sp, &args))
            out_put(&o, start, (size_t)(p - start));
    }
    va_end(args);
    return o.count > INT_LIMIT ? -EOVERFLOW : (int)o.count;
}

/** Bounded buffer state for fmt_vsnprintf; pos never passes size - 1. */
struct buf_ctx {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
    struct buf_ctx *b = ctx;
    size_t room;

    if (!b->size)
        return;
    room = b->size - 1 - b->pos;
    if (n > room)
        n = room;
    memcpy(b->buf + b->pos, s, n);
    b->pos += n;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = {buf, size, 0};
    int n = vcbprintf(buf_sink, &b, fmt, ap);

    if (size)
        buf[b.pos] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#ifndef AVATAR_HOST
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    return fmt_vsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
#endif
