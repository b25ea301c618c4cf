/* test_printf.c - lib/printf.c against the host libc snprintf over a large table of formats. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "lib/printf.h"
#include "test.h"

#define OUT 512

static char ref[OUT], got[OUT];
static int compared;

/* Both outputs may hold NUL bytes (from %c), so compare by the returned length. */
static void cmp_result(const char *fmt, int rref, int rgot)
{
    size_t n = rref < 0 ? 0 : (size_t)rref >= OUT ? OUT - 1 : (size_t)rref;

    compared++;
    if (rref != rgot || memcmp(ref, got, n + 1) != 0) {
        test_failed_checks++;
        fprintf(stderr, "  %s: format \"%s\": libc %d \"%s\", ours %d \"%s\"\n", test_current, fmt,
                rref, ref, rgot, got);
    }
}

/* Calls libc and ours alike, passing the '*' width and precision when the format has them. */
#define CMP_CALL(fmt, hw, hp, w, p, v)                                                             \
    do {                                                                                           \
        int r1_, r2_;                                                                              \
        memset(ref, 0x55, sizeof(ref));                                                            \
        memset(got, 0x55, sizeof(got));                                                            \
        if ((hw) && (hp)) {                                                                        \
            r1_ = snprintf(ref, OUT, fmt, w, p, v);                                                \
            r2_ = fmt_snprintf(got, OUT, fmt, w, p, v);                                            \
        } else if (hw) {                                                                           \
            r1_ = snprintf(ref, OUT, fmt, w, v);                                                   \
            r2_ = fmt_snprintf(got, OUT, fmt, w, v);                                               \
        } else if (hp) {                                                                           \
            r1_ = snprintf(ref, OUT, fmt, p, v);                                                   \
            r2_ = fmt_snprintf(got, OUT, fmt, p, v);                                               \
        } else {                                                                                   \
            r1_ = snprintf(ref, OUT, fmt, v);                                                      \
            r2_ = fmt_snprintf(got, OUT, fmt, v);                                                  \
        }                                                                                          \
        cmp_result(fmt, r1_, r2_);                                                                 \
    } while (0)

/* Literal formats, checked by -Wformat on both calls. */
#define CMP(...)                                                                                   \
    cmp_result(#__VA_ARGS__, snprintf(ref, OUT, __VA_ARGS__), fmt_snprintf(got, OUT, __VA_ARGS__))

static const long long values[] = {
    0,
    1,
    -1,
    7,
    -7,
    42,
    -42,
    99,
    100,
    127,
    -128,
    128,
    255,
    256,
    1000,
    -1000,
    32767,
    -32768,
    65535,
    65536,
    123456789,
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    0x7fffffffffLL,
    0x123456789abcdefLL,
    LLONG_MAX,
    LLONG_MIN,
    -0x123456789LL,
};

static const char *const widths[] = {"", "1", "3", "8", "20", "*"};
static const char *const precs[] = {"", ".", ".0", ".1", ".4", ".12", ".25", ".*"};
static const int star_widths[] = {0, 5, -6, 17};
static const int star_precs[] = {-1, 0, 3, 21};

/* Builds "%" flags width prec length conv into f. */
static void build_fmt(char *f, size_t n, const char *flags, const char *w, const char *p,
                      const char *len, char conv)
{
    snprintf(f, n, "%%%s%s%s%s%c", flags, w, p, len, conv);
}

/* Runs one format over every value, cast to the type its length modifier asks for. */
static void cmp_integer_format(const char *fmt, const char *len, bool is_signed, bool hw, bool hp)
{
    for (size_t vi = 0; vi < sizeof(values) / sizeof(values[0]); vi++) {
        long long v = values[vi];
        for (size_t si = 0; si < (hw || hp ? 4 : 1); si++) {
            int w = star_widths[si], p = star_precs[(si + vi) % 4];
            if (!strcmp(len, "l")) {
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, (long)v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (unsigned long)v);
            } else if (!strcmp(len, "ll")) {
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (unsigned long long)v);
            } else if (!strcmp(len, "z")) {
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, (ptrdiff_t)v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (size_t)v);
            } else if (!strcmp(len, "t")) {
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, (ptrdiff_t)v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (size_t)v);
            } else if (!strcmp(len, "j")) {
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, (intmax_t)v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (uintmax_t)v);
            } else {
                /* "", "h", "hh": the argument is an int; printf narrows it itself. */
                if (is_signed)
                    CMP_CALL(fmt, hw, hp, w, p, (int)v);
                else
                    CMP_CALL(fmt, hw, hp, w, p, (unsigned int)v);
            }
        }
    }
}

/* Flag sets per conversion avoid combinations C leaves undefined ('#' with d, '0' with s...). */
static void cmp_integers(const char *convs, const char *const *flagsets, size_t nflags,
                         bool is_signed)
{
    static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
    char fmt[64];

    for (const char *c = convs; *c; c++)
        for (size_t fi = 0; fi < nflags; fi++)
            for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++)
                for (size_t pi = 0; pi < sizeof(precs) / sizeof(precs[0]); pi++)
                    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
                        build_fmt(fmt, sizeof(fmt), flagsets[fi], widths[wi], precs[pi], lens[li],
                                  *c);
                        cmp_integer_format(fmt, lens[li], is_signed,
                                           strchr(widths[wi], '*') != NULL,
                                           strchr(precs[pi], '*') != NULL);
                    }
}

static void test_signed(void)
{
    static const char *const flags[] = {"", "-", "0", " ", "+", "-+", "0+", "0 ", "- ", "+ ", "-0"};

    compared = 0;
    cmp_integers("di", flags, sizeof(flags) / sizeof(flags[0]), true);
    CHECK(compared > 10000);
}

static void test_unsigned(void)
{
    static const char *const flags[] = {"", "-", "0", "#", "-#", "0#", "-0"};

    compared = 0;
    cmp_integers("uoxX", flags, sizeof(flags) / sizeof(flags[0]), false);
    CHECK(compared > 10000);
}

static void test_chars_strings(void)
{
    static const char *const strs[] = {"", "a", "hello", "a somewhat longer string, 32 ch"};
    static const char *const flags[] = {"", "-"};
    static const int chars[] = {'A', 'z', ' ', '%', 0, 0xe9};
    char fmt[64];

    for (size_t fi = 0; fi < 2; fi++)
        for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
            bool hw = strchr(widths[wi], '*') != NULL;
            for (size_t pi = 0; pi < sizeof(precs) / sizeof(precs[0]); pi++) {
                bool hp = strchr(precs[pi], '*') != NULL;
                build_fmt(fmt, sizeof(fmt), flags[fi], widths[wi], precs[pi], "", 's');
                for (size_t si = 0; si < sizeof(strs) / sizeof(strs[0]); si++)
                    for (size_t k = 0; k < 4; k++)
                        CMP_CALL(fmt, hw, hp, star_widths[k], star_precs[(k + si) % 4], strs[si]);
            }
            build_fmt(fmt, sizeof(fmt), flags[fi], widths[wi], "", "", 'c');
            for (size_t ci = 0; ci < sizeof(chars) / sizeof(chars[0]); ci++)
                for (size_t k = 0; k < 4; k++)
                    CMP_CALL(fmt, hw, false, star_widths[k], 0, chars[ci]);
        }

    /* A precision bounds the read: the array below has no terminator. */
    char unterminated[4] = {'a', 'b', 'c', 'd'};
    CMP("[%.4s]", unterminated);
    CMP("[%.2s]", unterminated);
    CMP("%s|%5s|%-5s|%c%c", "x", "ab", "cd", 'q', 'r');
}

static void test_null_string(void)
{
    const char *volatile null = NULL;
    char buf[32];

    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", null), 6);
    CHECK(strcmp(buf, "(null)") == 0);
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "[%8s]", null), 10);
    CHECK(strcmp(buf, "[  (null)]") == 0);
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "[%-7s]", null), 9);
    CHECK(strcmp(buf, "[(null) ]") == 0);
}

static void test_pointers(void)
{
    int x;
    void *ptrs[] = {&x, (void *)0x1, (void *)0xdeadbeef, (void *)(uintptr_t)0xffff800000001000ULL};
    char buf[64];

    for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
        CMP("%p", ptrs[i]);
        CMP("[%20p]", ptrs[i]);
        CMP("[%-20p]", ptrs[i]);
        CMP("%p %p", ptrs[i], ptrs[(i + 1) % 4]);
    }
    /* glibc prints "(nil)"; ours keeps the 0x + hex form for every value. */
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%p", (void *)0), 3);
    CHECK(strcmp(buf, "0x0") == 0);
}

static void test_mixed(void)
{
    CMP("%%");
    CMP("100%% sure");
    CMP("no conversions at all");
    CMP("%s", "");
    CMP("%d%s%c%x%%%u", -5, "mid", '!', 0xabcu, 7u);
    CMP("%5d|%-5d|%05d|%+d|% d|%.3d|%#o|%#x|%#X", 42, 42, 42, 42, 42, 42, 8u, 255u, 255u);
    CMP("%*d|%-*d|%.*d|%*.*d", 6, 1, 6, 2, 4, 3, 8, 3, 4);
    /* int arguments printf itself must narrow; a run-time format, as clang's -Wformat
       rejects int for %hh and %h even though C promotes them to int anyway. */
    const char *volatile narrow = "%hhu %hhd %hu %hd";
    cmp_result(narrow, snprintf(ref, OUT, narrow, 0x1ff, 0x80, 0x1ffff, 0x8000),
               fmt_snprintf(got, OUT, narrow, 0x1ff, 0x80, 0x1ffff, 0x8000));
    CMP("%zu %zx %td %jd %ju", (size_t)12345, (size_t)0xfeed, (ptrdiff_t)-77, (intmax_t)INT64_MIN,
        (uintmax_t)UINT64_MAX);
    CMP("%lld %llu %llx %lo", LLONG_MIN, ULLONG_MAX, 0x8000000000000000ULL, 0777ul);
    CMP("%i|%3i|%-3i|", 0, -1, 1);
    CMP("%.0d|%.0x|%#.0o|%#.0x|%5.0d|", 0, 0u, 0u, 0u, 0);
    CMP("%#.3o %#5o %#-5o %#05o", 8u, 8u, 8u, 8u);
    CMP("%-+8d|%+08d|% 08d", 3, 3, 3);
}

/* Conversions we do not know come out verbatim and never crash; built at run time so the
   compiler does not reject them. */
static void test_unknown(void)
{
    static const struct {
        const char *fmt;
        const char *want;
    } cases[] = {
        {"%y", "%y"},
        {"a%kb", "a%kb"},
        {"%-5y|", "%-5y|"},
        {"%", "%"},
        {"x%", "x%"},
        {"%08.3", "%08.3"},
        {"%l", "%l"},
        {"%lc", "%lc"},
        {"%ls", "%ls"},
        {"%Lf", "%Lf"},
        {"%n", "%n"},
        {"%hn", "%hn"},
        {"%f %e %g", "%f %e %g"},
        {"%lp", "%lp"},
        {"%q%d", "%q7"},
    };
    char buf[64];
    const char *volatile fmt;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fmt = cases[i].fmt;
        int n = fmt_snprintf(buf, sizeof(buf), fmt, 7);
        CHECK_EQ(n, (int)strlen(cases[i].want));
        if (strcmp(buf, cases[i].want) != 0) {
            test_failed_checks++;
            fprintf(stderr, "  %s: \"%s\" gave \"%s\", want \"%s\"\n", test_current, cases[i].fmt,
                    buf, cases[i].want);
        }
    }
}

/* C11 7.21.6.5: returns the untruncated length and always terminates when size > 0. */
static void test_truncation(void)
{
    char buf[16];

    CHECK_EQ(fmt_snprintf(NULL, 0, "hello %d", 12345), 11);
    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(fmt_snprintf(buf, 0, "hello"), 5);
    CHECK_EQ(buf[0], 'x');
    CHECK_EQ(fmt_snprintf(buf, 1, "hello"), 5);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(buf[1], 'x');
    CHECK_EQ(fmt_snprintf(buf, 6, "hello world"), 11);
    CHECK(strcmp(buf, "hello") == 0);
    CHECK_EQ(buf[6], 'x');
    for (size_t size = 0; size <= 12; size++) {
        char r[16], g[16];
        memset(r, 'x', sizeof(r));
        memset(g, 'x', sizeof(g));
        CHECK_EQ(fmt_snprintf(g, size, "%05d-%s", -42, "tail"),
                 snprintf(r, size, "%05d-%s", -42, "tail"));
        CHECK(memcmp(r, g, sizeof(r)) == 0);
    }
}

struct collect {
    char buf[256];
    size_t len;
    int calls;
};

static void collect_sink(void *ctx, const char *s, size_t n)
{
    struct collect *c = ctx;

    c->calls++;
    if (c->len + n < sizeof(c->buf)) {
        memcpy(c->buf + c->len, s, n);
        c->len += n;
    }
    c->buf[c->len] = '\0';
}

static int call_vcbprintf(printf_sink sink, void *ctx, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vcbprintf(sink, ctx, fmt, ap);
    va_end(ap);
    return n;
}

static void count_sink(void *ctx, const char *s, size_t n)
{
    (void)s;
    *(size_t *)ctx += n;
}

static void test_sink(void)
{
    struct collect c = {.len = 0};
    size_t total = 0;

    CHECK_EQ(call_vcbprintf(collect_sink, &c, "a=%d b=%-4s| pad=%40x", 1, "xy", 0x2au), 56);
    CHECK_EQ(c.len, 56);
    CHECK(strcmp(c.buf, "a=1 b=xy  | pad=                                      2a") == 0);
    CHECK(c.calls >= 2);
    /* Past INT_MAX characters the count cannot be returned, so it is an error. */
    CHECK_EQ(call_vcbprintf(count_sink, &total, "%*d%*d", INT_MAX - 8, 1, 16, 2), -EOVERFLOW);
    CHECK_EQ(total, (size_t)INT_MAX + 8);
}

static const struct test_case cases[] = {
    {"boot/printf/signed", test_signed},
    {"boot/printf/unsigned", test_unsigned},
    {"boot/printf/chars-strings", test_chars_strings},
    {"boot/printf/null-string", test_null_string},
    {"boot/printf/pointers", test_pointers},
    {"boot/printf/mixed", test_mixed},
    {"boot/printf/unknown", test_unknown},
    {"boot/printf/truncation", test_truncation},
    {"boot/printf/sink", test_sink},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
