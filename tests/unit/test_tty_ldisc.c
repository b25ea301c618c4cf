/* test_tty_ldisc.c - host tests of the terminal line discipline: editing, echo, signals, modes. */
#include <string.h>

#include "kernel/tty_ldisc.h"
#include "test.h"

static char echoed[1024];
static size_t echoed_len;

static void echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    if (echoed_len + n >= sizeof(echoed))
        return; /* long inputs: only the start is looked at */
    memcpy(echoed + echoed_len, s, n);
    echoed_len += n;
    echoed[echoed_len] = '\0';
}

static void setup(struct tty_ldisc *l)
{
    echoed_len = 0;
    echoed[0] = '\0';
    tty_ldisc_init(l, echo, NULL);
}

static int type(struct tty_ldisc *l, const char *s)
{
    int sig = 0;

    for (; *s; s++)
        sig |= tty_ldisc_input(l, *s);
    return sig;
}

static size_t read_all(struct tty_ldisc *l, char *out, size_t n, bool *eof)
{
    size_t got = tty_ldisc_read(l, out, n, eof);
    out[got] = '\0';
    return got;
}

static void test_canonical_line(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    type(&l, "ab");
    CHECK(!tty_ldisc_readable(&l));
    type(&l, "c\r");
    CHECK(tty_ldisc_readable(&l));
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 4);
    CHECK(!strcmp(out, "abc\n") && !eof);
    CHECK(!strcmp(echoed, "abc\n"));
    CHECK(!tty_ldisc_readable(&l));
}

static void test_one_line_per_read(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    type(&l, "one\rtwo\r");
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 4);
    CHECK(!strcmp(out, "one\n"));
    CHECK_EQ(read_all(&l, out, 2, &eof), 2);
    CHECK(!strcmp(out, "tw"));
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 2);
    CHECK(!strcmp(out, "o\n"));
}

static void test_erase_and_kill(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    type(&l, "abx\x7f");
    CHECK(!strcmp(echoed, "abx\b \b"));
    type(&l, "\x15zz\x08y\r");
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 3);
    CHECK(!strcmp(out, "zy\n"));
    /* Erase stops at the start of the line. */
    type(&l, "\x7f\x7fq\r");
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 2);
    CHECK(!strcmp(out, "q\n"));
}

static void test_eof(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    type(&l, "\x04");
    CHECK(tty_ldisc_readable(&l));
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 0);
    CHECK(eof);
    CHECK(!tty_ldisc_readable(&l));
    /* ^D in a line ends the line without a newline; it is not end of file. */
    type(&l, "ab\x04");
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 2);
    CHECK(!strcmp(out, "ab") && !eof);
}

static void test_signals(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    CHECK_EQ(type(&l, "abc\x03"), 2);
    CHECK(!strcmp(echoed, "abc^C\n"));
    CHECK(!tty_ldisc_readable(&l)); /* the line was dropped */
    CHECK_EQ(type(&l, "\x1c"), 3);
    setup(&l);
    CHECK_EQ(type(&l, "xy\x1a"), 20); /* ^Z: SIGTSTP */
    CHECK(!strcmp(echoed, "xy^Z\n"));
    CHECK(!tty_ldisc_readable(&l));
    struct tty_termios t = l.termios;
    t.lflag &= ~(unsigned)TTY_ISIG;
    tty_ldisc_set_termios(&l, &t);
    CHECK_EQ(type(&l, "\x03\r"), 0);
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 2);
    CHECK(out[0] == 0x03 && out[1] == '\n');
}

static void test_raw_mode(void)
{
    static struct tty_ldisc l;
    char out[64];
    bool eof;

    setup(&l);
    type(&l, "pa");
    struct tty_termios t = l.termios;
    t.lflag &= ~(unsigned)(TTY_ICANON | TTY_ECHO);
    tty_ldisc_set_termios(&l, &t);
    CHECK(tty_ldisc_readable(&l)); /* the partial line became readable */
    echoed_len = 0;
    echoed[0] = '\0';
    type(&l, "x\x7f\r");
    CHECK(echoed_len == 0);
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 5);
    CHECK(!memcmp(out, "pax\x7f\n", 5)); /* ICRNL still maps CR */
    t.iflag &= ~(unsigned)TTY_ICRNL;
    tty_ldisc_set_termios(&l, &t);
    type(&l, "\r");
    CHECK_EQ(read_all(&l, out, sizeof(out), &eof), 1);
    CHECK(out[0] == '\r');
}

static void test_full_line(void)
{
    static struct tty_ldisc l;
    static char out[TTY_LINE_MAX + 8];
    bool eof;

    setup(&l);
    for (int i = 0; i < TTY_LINE_MAX + 100; i++)
        tty_ldisc_input(&l, 'a');
    tty_ldisc_input(&l, '\r');
    size_t got = read_all(&l, out, sizeof(out), &eof);
    CHECK_EQ(got, TTY_LINE_MAX);
    CHECK(out[got - 1] == '\n');
}

static const struct test_case cases[] = {
    {"kernel/tty_ldisc/canonical_line", test_canonical_line},
    {"kernel/tty_ldisc/one_line_per_read", test_one_line_per_read},
    {"kernel/tty_ldisc/erase_and_kill", test_erase_and_kill},
    {"kernel/tty_ldisc/eof", test_eof},
    {"kernel/tty_ldisc/signals", test_signals},
    {"kernel/tty_ldisc/raw_mode", test_raw_mode},
    {"kernel/tty_ldisc/full_line", test_full_line},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
