/* test_vconsole.c - console lines, logs, the terminal mux and the escape keys, on the host. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "vmm/vconsole.h"

/* The host terminal: everything the sink was given, and how many calls it took. */
static struct {
    char buf[1 << 21];
    size_t len;
    unsigned calls;
    int busy;    /* a sink call is in progress */
    int overlap; /* two sink calls ran at once */
} term;

static void term_sink(const char *s, size_t n)
{
    CHECK(n > 0);
    if (__atomic_exchange_n(&term.busy, 1, __ATOMIC_ACQUIRE))
        term.overlap = 1;
    for (size_t i = 0; i < n; i++) {
        if (term.len < sizeof(term.buf))
            term.buf[term.len++] = s[i];
        /* A slow terminal, byte by byte: gives another CPU time to interleave if it could. */
        for (volatile int k = 0; k < 20; k++)
            continue;
    }
    term.calls++;
    __atomic_store_n(&term.busy, 0, __ATOMIC_RELEASE);
}

static void term_clear(void)
{
    term.len = 0;
    term.calls = 0;
}

/* The terminal shows exactly s (and nothing more) since the last clear. */
static int term_is(const char *s)
{
    size_t n = strlen(s);

    if (term.len == n && memcmp(term.buf, s, n) == 0)
        return 1;
    fprintf(stderr, "  terminal: \"%.*s\", expected \"%s\"\n", (int)term.len, term.buf, s);
    return 0;
}

static void put(struct vconsole *c, const char *s)
{
    while (*s)
        vconsole_putc(c, (uint8_t)*s++);
}

/* vconsoles are ~10 KiB: static, as the hypervisor keeps them in its VM structs. */
static struct vconsole vm1, vm2;

static void fresh(void)
{
    vconsole_mux_init(term_sink);
    vconsole_init(&vm1, "vm1");
    vconsole_init(&vm2, "vm2");
    term_clear();
}

static void test_prefixed_lines(void)
{
    fresh();
    CHECK_EQ(vconsole_mode(), VCONSOLE_MODE_ALL);
    CHECK(vconsole_focused() == NULL);
    put(&vm1, "hello\r\n");
    CHECK(term_is("[vm1] hello\n"));
    CHECK_EQ(term.calls, 1);

    /* An incomplete line waits; a stop prints it. */
    term_clear();
    put(&vm1, "abc");
    CHECK_EQ(term.len, 0);
    vconsole_flush(&vm1);
    CHECK(term_is("[vm1] abc\n"));
    vconsole_flush(&vm1); /* nothing pending: nothing printed */
    CHECK_EQ(term.calls, 1);

    /* Control bytes other than tab are shown as ^X: a guest cannot drive the host terminal. */
    term_clear();
    put(&vm2, "a\x1b[1mb\tc\x07\x7f\x01\n\n");
    CHECK(term_is("[vm2] a^[[1mb\tc^G^?^A\n[vm2] \n"));

    /* The longest guest names are kept whole, so two that differ only at the end stay apart. */
    char longest[VCONSOLE_NAME_MAX];
    memset(longest, 'n', sizeof(longest) - 1);
    longest[sizeof(longest) - 2] = '1';
    longest[sizeof(longest) - 1] = '\0';
    vconsole_init(&vm2, longest);
    CHECK(!strcmp(vm2.name, longest));
    term_clear();
    put(&vm2, "x\n");
    CHECK(term.len == strlen(longest) + 5 && !memcmp(term.buf + 1, longest, strlen(longest)));
    vconsole_init(&vm2, "vm2");
}

static void test_long_lines_split(void)
{
    char expect[1024];
    size_t n = 0;

    fresh();
    for (int i = 0; i < 400; i++)
        vconsole_putc(&vm1, (uint8_t)('a' + i % 26));
    vconsole_putc(&vm1, '\n');
    for (int part = 0, i = 0; part < 3; part++) {
        int len = part < 2 ? VCONSOLE_LINE_MAX : 400 - 2 * VCONSOLE_LINE_MAX;
        n += (size_t)sprintf(expect + n, "[vm1] ");
        for (int k = 0; k < len; k++)
            expect[n++] = (char)('a' + i++ % 26);
        expect[n++] = '\n';
    }
    expect[n] = '\0';
    CHECK(term_is(expect));
    CHECK_EQ(term.calls, 3);

    /* Exactly the limit and then a newline is one line, not one and an empty one. */
    term_clear();
    for (int i = 0; i < VCONSOLE_LINE_MAX; i++)
        vconsole_putc(&vm1, 'z');
    vconsole_putc(&vm1, '\n');
    CHECK_EQ(term.calls, 1);
    CHECK_EQ(term.len, 6 + VCONSOLE_LINE_MAX + 1);
}

struct collected {
    char lines[2 * VCONSOLE_LOG_LINES][VCONSOLE_LINE_MAX + 1];
    unsigned n;
};

static void collect(void *arg, const char *line)
{
    struct collected *col = arg;

    if (col->n < 2 * VCONSOLE_LOG_LINES)
        strcpy(col->lines[col->n++], line);
}

/* A log reader that makes the VM log a whole ring's worth while it prints the first line. */
static void collect_and_flood(void *arg, const char *line)
{
    struct collected *col = arg;

    collect(arg, line);
    if (col->n == 1)
        for (int i = 0; i < VCONSOLE_LOG_LINES; i++)
            put(&vm1, "flood\n");
}

static void test_log_ring(void)
{
    static struct collected col;
    char text[32];

    fresh();
    memset(&col, 0, sizeof(col));
    CHECK_EQ(vconsole_log(&vm1, collect, &col), 0);
    put(&vm1, "first\n");
    CHECK_EQ(vconsole_log(&vm1, collect, &col), 1);
    CHECK(strcmp(col.lines[0], "first") == 0);

    /* Past 64 lines the oldest go: 100 logged, lines 36..99 kept, oldest first. */
    fresh();
    vconsole_set_mode(VCONSOLE_MODE_FOCUS); /* only logged, not printed */
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "line %d\n", i);
        put(&vm1, text);
    }
    CHECK_EQ(term.len, 0);
    memset(&col, 0, sizeof(col));
    CHECK_EQ(vconsole_log(&vm1, collect, &col), VCONSOLE_LOG_LINES);
    for (int i = 0; i < VCONSOLE_LOG_LINES; i++) {
        snprintf(text, sizeof(text), "line %d", 100 - VCONSOLE_LOG_LINES + i);
        CHECK(strcmp(col.lines[i], text) == 0);
    }
    CHECK_EQ(vconsole_log(&vm2, collect, &col), 0); /* logs are per VM */

    /* A stop logs the incomplete line; split parts are logged as lines too. */
    put(&vm2, "partial");
    vconsole_flush(&vm2);
    for (int i = 0; i < VCONSOLE_LINE_MAX + 5; i++)
        vconsole_putc(&vm2, 'q');
    vconsole_putc(&vm2, '\n');
    memset(&col, 0, sizeof(col));
    CHECK_EQ(vconsole_log(&vm2, collect, &col), 3);
    CHECK(strcmp(col.lines[0], "partial") == 0);
    CHECK_EQ(strlen(col.lines[1]), VCONSOLE_LINE_MAX);
    CHECK(strcmp(col.lines[2], "qqqqq") == 0);

    /* The reader runs unlocked and may make the VM log: what is overwritten meanwhile is skipped,
     * nothing logged after the call started is given. */
    memset(&col, 0, sizeof(col));
    CHECK_EQ(vconsole_log(&vm1, collect_and_flood, &col), 1);
    CHECK(strcmp(col.lines[0], "line 36") == 0);
}

static void test_focus_and_modes(void)
{
    fresh();
    /* ALL mode, vm1 focused: its bytes pass raw, one by one; vm2's lines stay prefixed and start
     * on a fresh line. */
    vconsole_focus(&vm1);
    CHECK(vconsole_focused() == &vm1);
    CHECK_EQ(term.len, 0);
    put(&vm1, "ab\r");
    CHECK(term_is("ab\r"));
    CHECK_EQ(term.calls, 3);
    put(&vm2, "x\n");
    CHECK(term_is("ab\r\n[vm2] x\n"));
    put(&vm1, "c\n");
    CHECK(term_is("ab\r\n[vm2] x\nc\n")); /* its complete line is not printed again */

    /* Back to the shell: the raw line is ended; vm1's line is then printed prefixed, whole. */
    term_clear();
    put(&vm1, "de");
    vconsole_focus(NULL);
    CHECK(vconsole_focused() == NULL);
    put(&vm1, "f\n");
    CHECK(term_is("de\n[vm1] def\n"));

    /* Focusing shows what waits on the incomplete line, such as a login prompt. */
    term_clear();
    put(&vm2, "login: ");
    CHECK_EQ(term.len, 0);
    vconsole_focus(&vm2);
    CHECK(term_is("login: "));
    vconsole_focus(&vm2); /* already focused: nothing again */
    CHECK(term_is("login: "));
    put(&vm2, "r");
    vconsole_flush(&vm2); /* the VM stopped mid-line: end it */
    CHECK(term_is("login: r\n"));

    /* FOCUS mode: only the focused VM is shown; the others are logged. */
    fresh();
    vconsole_set_mode(VCONSOLE_MODE_FOCUS);
    CHECK_EQ(vconsole_mode(), VCONSOLE_MODE_FOCUS);
    put(&vm1, "one\n");
    put(&vm2, "two\n");
    CHECK_EQ(term.len, 0); /* the shell has the terminal */
    vconsole_focus(&vm2);
    put(&vm1, "three\n");
    put(&vm2, "four\x1b\n");
    CHECK(term_is("four\x1b\n")); /* raw: escapes reach the terminal as the guest sent them */
    vconsole_flush(&vm1);
    vconsole_focus(NULL);
    CHECK(term_is("four\x1b\n"));
    CHECK_EQ(vconsole_log(&vm1, collect, &(struct collected){0}), 2);

    /* Without a sink (before mux init) output is only logged. */
    vconsole_mux_init(NULL);
    vconsole_init(&vm1, "vm1");
    term_clear();
    put(&vm1, "quiet\n");
    CHECK_EQ(term.len, 0);
    CHECK_EQ(vconsole_log(&vm1, collect, &(struct collected){0}), 1);
}

static void test_escape_keys(void)
{
    static const struct {
        const char *typed;
        const char *keys; /* F forward, D detach, N next, S swallow */
    } cases[] = {
        {"ab", "FF"},         {"\x1d", "D"},        {"\x14n", "SN"},    {"\x14q", "SD"},
        {"\x14\x14", "SF"},   {"\x14x", "SS"},      {"\x14\x1d", "SS"}, /* after Ctrl-T, Ctrl-] is
                                                                           not a detach */
        {"\x14xn", "SSF"}, /* the escape covers one byte only */
        {"\x14\x14n", "SFF"}, {"nq\x03\r", "FFFF"},
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vconsole_input_state st = {0};
        char got[8] = {0};

        for (unsigned k = 0; cases[i].typed[k]; k++) {
            enum vconsole_key key = vconsole_input(&st, (uint8_t)cases[i].typed[k]);
            got[k] = "FDNS"[key];
        }
        if (strcmp(got, cases[i].keys) != 0) {
            fprintf(stderr, "  case %u: got %s, expected %s\n", i, got, cases[i].keys);
            CHECK(0);
        }
    }
    CHECK_EQ(VCONSOLE_KEY_FORWARD, 0);
    CHECK_EQ(VCONSOLE_KEY_SWALLOW, 3);
}

#define RACE_LINES 3000

/* Writes RACE_LINES lines of its VM's letter, of lengths 1..200 (the longer ones split). */
static void *race_writer(void *arg)
{
    struct vconsole *c = arg;
    char letter = c->name[0];

    for (int i = 0; i < RACE_LINES; i++) {
        for (int k = 0; k < 1 + i % 200; k++)
            vconsole_putc(c, (uint8_t)letter);
        vconsole_putc(c, '\n');
    }
    return NULL;
}

static void test_concurrent_lines(void)
{
    unsigned lines[2] = {0, 0}, bad = 0, expect = 0;
    pthread_t ta, tb;

    vconsole_mux_init(term_sink);
    vconsole_init(&vm1, "a");
    vconsole_init(&vm2, "b");
    term_clear();
    CHECK_EQ(pthread_create(&ta, NULL, race_writer, &vm1), 0);
    CHECK_EQ(pthread_create(&tb, NULL, race_writer, &vm2), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);

    /* Every line is "[x] " and only x's, never a mix. */
    for (size_t pos = 0; pos < term.len;) {
        char *nl = memchr(term.buf + pos, '\n', term.len - pos);
        size_t end = nl ? (size_t)(nl - term.buf) : term.len;
        char x = term.buf[pos + 1];

        if (end - pos < 5 || term.buf[pos] != '[' || (x != 'a' && x != 'b') ||
            memcmp(term.buf + pos + 2, "] ", 2) != 0) {
            bad++;
        } else {
            for (size_t k = pos + 4; k < end; k++)
                bad += term.buf[k] != x;
            lines[x - 'a']++;
        }
        pos = end + 1;
    }
    for (int i = 0; i < RACE_LINES; i++)
        expect += 1 + (1 + i % 200 > VCONSOLE_LINE_MAX);
    CHECK(!term.overlap);
    CHECK_EQ(bad, 0);
    CHECK_EQ(lines[0], expect);
    CHECK_EQ(lines[1], expect);
    CHECK_EQ(term.calls, 2 * expect); /* one sink call per line */
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vconsole/prefixed_lines", test_prefixed_lines},
        {"vconsole/long_lines_split", test_long_lines_split},
        {"vconsole/log_ring", test_log_ring},
        {"vconsole/focus_and_modes", test_focus_and_modes},
        {"vconsole/escape_keys", test_escape_keys},
        {"vconsole/concurrent_lines", test_concurrent_lines},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
