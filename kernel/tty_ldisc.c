/* tty_ldisc.c - the line discipline: canonical editing, echo, signal characters, raw mode. */
#include "kernel/tty_ldisc.h"
#include "lib/string.h"

#define SIGINT  2
#define SIGQUIT 3
#define SIGTSTP 20

void tty_ldisc_init(struct tty_ldisc *l, void (*echo)(void *, const char *, size_t), void *ctx)
{
    memset(l, 0, sizeof(*l));
    l->termios.iflag = TTY_ICRNL | TTY_IXON;
    l->termios.oflag = TTY_OPOST | TTY_ONLCR;
    l->termios.cflag = TTY_B38400 | TTY_CS8 | TTY_CREAD;
    l->termios.lflag = TTY_ISIG | TTY_ICANON | TTY_ECHO | TTY_ECHOE | TTY_ECHOK | TTY_ECHOCTL |
                       TTY_ECHOKE | TTY_IEXTEN;
    l->termios.cc[TTY_VINTR] = 0x03;
    l->termios.cc[TTY_VQUIT] = 0x1c;
    l->termios.cc[TTY_VERASE] = 0x7f;
    l->termios.cc[TTY_VKILL] = 0x15;
    l->termios.cc[TTY_VEOF] = 0x04;
    l->termios.cc[TTY_VMIN] = 1;
    l->termios.cc[TTY_VSUSP] = 0x1a;
    l->termios.cc[TTY_VWERASE] = 0x17;
    l->echo = echo;
    l->echo_ctx = ctx;
}

static void tty_echo(struct tty_ldisc *l, const char *s, size_t n)
{
    if (l->termios.lflag & TTY_ECHO)
        l->echo(l->echo_ctx, s, n);
}

/* Remove the last byte of the line being edited, from the screen too. */
static bool tty_erase(struct tty_ldisc *l)
{
    if (l->len == l->committed)
        return false;
    l->len--;
    tty_echo(l, "\b \b", 3);
    return true;
}

static void tty_append(struct tty_ldisc *l, char c)
{
    if (l->len < TTY_LINE_MAX)
        l->buf[l->len++] = c;
}

/* Canonical mode: edit the current line; Enter or EOF makes it readable. */
static void tty_canonical(struct tty_ldisc *l, char c)
{
    const uint8_t *cc = l->termios.cc;

    if (c == '\n' || (c == '\r' && !(l->termios.iflag & TTY_ICRNL))) {
        if (l->len < TTY_LINE_MAX) {
            l->buf[l->len++] = '\n';
        } else {
            l->buf[TTY_LINE_MAX - 1] = '\n'; /* a full buffer still ends its line */
        }
        tty_echo(l, "\n", 1);
        l->committed = l->len;
    } else if ((uint8_t)c == cc[TTY_VEOF]) {
        if (l->len == l->committed)
            l->eof = true;
        l->committed = l->len;
    } else if ((uint8_t)c == cc[TTY_VERASE] || c == 0x08) {
        tty_erase(l);
    } else if ((uint8_t)c == cc[TTY_VKILL]) {
        while (tty_erase(l))
            ;
    } else if ((uint8_t)c == cc[TTY_VWERASE] && (l->termios.lflag & TTY_IEXTEN)) {
        while (l->len > l->committed && l->buf[l->len - 1] == ' ')
            tty_erase(l);
        while (l->len > l->committed && l->buf[l->len - 1] != ' ')
            tty_erase(l);
    } else if (l->len < TTY_LINE_MAX - 1) { /* room for the newline that ends it */
        tty_append(l, c);
        if ((uint8_t)c < 0x20 && c != '\t' && (l->termios.lflag & TTY_ECHOCTL)) {
            char ctl[2] = {'^', (char)(c + '@')};
            tty_echo(l, ctl, 2);
        } else {
            tty_echo(l, &c, 1);
        }
    }
}

int tty_ldisc_input(struct tty_ldisc *l, char c)
{
    const struct tty_termios *t = &l->termios;
    char prev = l->last;

    l->last = c;
    if (t->lflag & TTY_ISIG) {
        int sig = (uint8_t)c == t->cc[TTY_VINTR]   ? SIGINT
                  : (uint8_t)c == t->cc[TTY_VQUIT] ? SIGQUIT
                  : (uint8_t)c == t->cc[TTY_VSUSP] ? SIGTSTP
                                                   : 0;
        if (sig) {
            tty_ldisc_flush(l);
            /* A newline after ^C, so what the shell prints next starts a line. */
            if (t->lflag & TTY_ECHO)
                l->echo(l->echo_ctx, sig == SIGINT ? "^C\n" : sig == SIGQUIT ? "^\\\n" : "^Z\n", 3);
            return sig;
        }
    }
    if (c == '\r') {
        if (t->iflag & TTY_IGNCR)
            return 0;
        if (t->iflag & TTY_ICRNL)
            c = '\n';
    } else if (c == '\n') {
        if ((t->lflag & TTY_ICANON) && prev == '\r' && (t->iflag & TTY_ICRNL))
            return 0; /* CR LF from a terminal that sends both: one Enter */
        if (t->iflag & TTY_INLCR)
            c = '\r';
    }
    if (t->lflag & TTY_ICANON) {
        tty_canonical(l, c);
    } else {
        tty_append(l, c);
        l->committed = l->len;
        tty_echo(l, &c, 1);
    }
    return 0;
}

bool tty_ldisc_readable(const struct tty_ldisc *l)
{
    return l->committed > 0 || l->eof;
}

size_t tty_ldisc_read(struct tty_ldisc *l, char *dst, size_t n, bool *eof)
{
    size_t take = n < l->committed ? n : l->committed;

    *eof = false;
    if (l->termios.lflag & TTY_ICANON) {
        for (size_t i = 0; i < take; i++) {
            if (l->buf[i] == '\n') {
                take = i + 1; /* one line per read */
                break;
            }
        }
    }
    if (!take && l->eof) {
        l->eof = false;
        *eof = true;
        return 0;
    }
    memcpy(dst, l->buf, take);
    memmove(l->buf, l->buf + take, l->len - take);
    l->len -= take;
    l->committed -= take;
    return take;
}

void tty_ldisc_flush(struct tty_ldisc *l)
{
    l->len = l->committed = 0;
    l->eof = false;
}

void tty_ldisc_set_termios(struct tty_ldisc *l, const struct tty_termios *t)
{
    l->termios = *t;
    if (!(t->lflag & TTY_ICANON))
        l->committed = l->len;
}
