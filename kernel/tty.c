/* tty.c - console input for user programs: a cooked line discipline over the PL011 receiver. */
#include "kernel/tty.h"
#include "drivers/pl011.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sync.h"
#include "lib/errno.h"
#include "lib/string.h"

#define TTY_LINE_MAX 256
#define TTY_POLL_NS  10000000ULL /* how often a reader looks again (and notices kill) */

/** The line being typed. mutex protects all of it: one reader edits at a time. */
static struct {
    struct mutex mutex;
    char line[TTY_LINE_MAX];
    size_t len; /* bytes in line */
    size_t pos; /* bytes of a finished line already read */
    bool ready; /* line finished (Enter or ^D) */
    char last;  /* previous byte received: CR LF is one Enter */
} tty = {.mutex = MUTEX_INIT(tty.mutex)};

/*
 * Readers poll the receive ring between short sleeps: the driver's own wait queue is not one a
 * kill can wake, and a killed reader must not wait for a key press.
 */
static struct wait_queue tty_poll_wq = WAIT_QUEUE_INIT(tty_poll_wq);

static int tty_getc(struct uthread *self)
{
    for (;;) {
        int c = pl011_getc_nonblock();
        if (c >= 0)
            return c;
        int err = uthread_wait_until(self, &tty_poll_wq, false,
                                     timer_counter() + timer_ns_to_ticks(TTY_POLL_NS));
        if (err == -EINTR)
            return err;
    }
}

/* Take one input byte into the line; returns -EINTR for ^C. */
static int tty_edit(struct uthread *self, char c)
{
    char prev = tty.last;

    tty.last = c;
    if (c == '\r' || c == '\n') {
        if (c == '\n' && prev == '\r')
            return 0;
        console_write("\n", 1);
        tty.line[tty.len++] = '\n';
        tty.ready = true;
    } else if (c == 0x04) {
        tty.ready = true; /* with an empty line: end of file */
    } else if (c == 0x7f || c == 0x08) {
        if (tty.len > 0) {
            tty.len--;
            console_write("\b \b", 3);
        }
    } else if (c == 0x15) {
        for (; tty.len > 0; tty.len--)
            console_write("\b \b", 3);
    } else if (c == 0x03) {
        console_write("^C\n", 3);
        tty.len = 0;
        proc_terminate(self->proc, PROC_STATUS_SIGNALED(SIGINT));
        return -EINTR;
    } else if (((c >= 0x20 && c < 0x7f) || c == '\t') && tty.len < TTY_LINE_MAX - 1) {
        tty.line[tty.len++] = c;
        console_write(&c, 1);
    }
    return 0;
}

long tty_read(char *buf, size_t n)
{
    struct uthread *self = uthread_current();
    long ret = 0;

    mutex_lock(&tty.mutex);
    while (!tty.ready) {
        int c = tty_getc(self);
        if (c < 0 || (c = tty_edit(self, (char)c)) < 0) {
            ret = c;
            goto out;
        }
    }
    size_t avail = tty.len - tty.pos;
    ret = (long)(n < avail ? n : avail);
    memcpy(buf, tty.line + tty.pos, (size_t)ret);
    tty.pos += (size_t)ret;
    if (tty.pos == tty.len) {
        tty.len = tty.pos = 0;
        tty.ready = false;
    }
out:
    mutex_unlock(&tty.mutex);
    return ret;
}

void tty_write(const char *buf, size_t n)
{
    console_write(buf, n);
}
