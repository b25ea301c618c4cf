/* tty_ldisc.h - the terminal line discipline (pure logic, host-tested): termios, line editing. */
#ifndef KERNEL_TTY_LDISC_H
#define KERNEL_TTY_LDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* termios bits and c_cc slots (Linux include/uapi/asm-generic/termbits.h). */
#define TTY_NCCS     19
#define TTY_VINTR    0
#define TTY_VQUIT    1
#define TTY_VERASE   2
#define TTY_VKILL    3
#define TTY_VEOF     4
#define TTY_VTIME    5
#define TTY_VMIN     6
#define TTY_VSUSP    10
#define TTY_VWERASE  14
#define TTY_ICRNL    0000400
#define TTY_IGNCR    0000200
#define TTY_INLCR    0000100
#define TTY_IXON     0002000
#define TTY_OPOST    0000001
#define TTY_ONLCR    0000004
#define TTY_CS8      0000060
#define TTY_CREAD    0000200
#define TTY_B38400   0000017
#define TTY_ISIG     0000001
#define TTY_ICANON   0000002
#define TTY_ECHO     0000010
#define TTY_ECHOE    0000020
#define TTY_ECHOK    0000040
#define TTY_ECHOCTL  0001000
#define TTY_ECHOKE   0004000
#define TTY_IEXTEN   0100000
#define TTY_LINE_MAX 4096 /* bytes held: finished lines and the one being typed */

/** The kernel's struct termios (TCGETS/TCSETS), 36 bytes. */
struct tty_termios {
    uint32_t iflag, oflag, cflag, lflag;
    uint8_t line;
    uint8_t cc[TTY_NCCS];
};

/**
 * Input state. buf[0..committed) can be read; buf[committed..len) is the line being edited
 * (canonical mode only). eof: a ^D at the start of a line, read as one 0-byte read.
 */
struct tty_ldisc {
    struct tty_termios termios;
    char buf[TTY_LINE_MAX];
    size_t len, committed;
    bool eof;
    char last; /* previous byte received: CR LF is one Enter in canonical mode */
    void (*echo)(void *ctx, const char *s, size_t n);
    void *echo_ctx;
};

/* Canonical mode with echo, ^C/^\ signals, the usual control characters. */
void tty_ldisc_init(struct tty_ldisc *l, void (*echo)(void *, const char *, size_t), void *ctx);
/* Take one received byte: returns the signal to send the foreground group (SIGINT...) or 0. */
int tty_ldisc_input(struct tty_ldisc *l, char c);
/* Is a read satisfied now (data, or end of file)? */
bool tty_ldisc_readable(const struct tty_ldisc *l);
/*
 * Take up to n readable bytes (in canonical mode, at most one line); 0 with *eof set at end of
 * file.
 */
size_t tty_ldisc_read(struct tty_ldisc *l, char *dst, size_t n, bool *eof);
/* Drop all input (TCSETSF, TCFLSH, a signal character). */
void tty_ldisc_flush(struct tty_ldisc *l);
/* New modes; leaving canonical mode makes the line typed so far readable. */
void tty_ldisc_set_termios(struct tty_ldisc *l, const struct tty_termios *t);

#endif
