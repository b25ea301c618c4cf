/* tty.c - the console terminal: input from the UART interrupt through the line discipline. */
#include "kernel/tty.h"
#include "kernel/chrdev.h"
#include "kernel/console.h"
#include "kernel/poll.h"
#include "kernel/printk.h"
#include "kernel/signal.h"
#include "kernel/tty_ldisc.h"
#include "lib/errno.h"
#include "lib/string.h"

/* ioctl numbers (Linux include/uapi/asm-generic/ioctls.h). */
#define TCGETS        0x5401
#define TCSETS        0x5402
#define TCSETSW       0x5403
#define TCSETSF       0x5404
#define TCSBRK        0x5409
#define TCXONC        0x540a
#define TCFLSH        0x540b
#define TIOCSCTTY     0x540e
#define TIOCGPGRP     0x540f
#define TIOCSPGRP     0x5410
#define TIOCGWINSZ    0x5413
#define TIOCSWINSZ    0x5414
#define FIONREAD      0x541b
#define TIOCNOTTY     0x5422
#define TIOCGSID      0x5429
#define TCIFLUSH      0
#define TCIOFLUSH     2
#define DECISECOND_NS 100000000ULL

/**
 * The console terminal. lock (taken from the UART interrupt too) protects ld, sid, fg_pgrp and
 * winsize; readable mirrors tty_ldisc_readable for sleepers' wake-up conditions.
 */
static struct {
    spinlock_t lock;
    struct tty_ldisc ld;
    int sid;     /* session in the foreground; 0: the kernel shell has the console */
    int fg_pgrp; /* its foreground process group */
    uint16_t winsize[4];
    bool readable;
    struct wait_queue read_wq;
} tty = {.lock = SPINLOCK_INIT, .winsize = {24, 80, 0, 0}, .read_wq = WAIT_QUEUE_INIT(tty.read_wq)};

static void tty_echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
}

static void tty_update_readable(void)
{
    __atomic_store_n(&tty.readable, tty_ldisc_readable(&tty.ld), __ATOMIC_SEQ_CST);
}

/* The UART receive hook, in interrupt context while a session has the console. */
static void tty_input(char c)
{
    unsigned long flags = spin_lock_irqsave(&tty.lock);
    int sig = tty_ldisc_input(&tty.ld, c);
    int pgrp = tty.fg_pgrp;

    tty_update_readable();
    spin_unlock_irqrestore(&tty.lock, flags);
    wait_wake_all(&tty.read_wq);
    poll_notify();
    if (sig && pgrp)
        proc_kill_group(pgrp, sig);
}

void tty_foreground_begin(struct proc *p)
{
    unsigned long flags = spin_lock_irqsave(&tty.lock);

    tty_ldisc_init(&tty.ld, tty_echo, NULL);
    tty.sid = proc_getsid(p, 0);
    tty.fg_pgrp = proc_getpgid(p, 0);
    tty_update_readable();
    spin_unlock_irqrestore(&tty.lock, flags);
    console_set_rx_hook(tty_input);
    /* What was typed ahead, before the hook, is the program's input. */
    for (int c; (c = console_getc_nonblock()) >= 0;)
        tty_input((char)c);
}

void tty_foreground_end(void)
{
    console_set_rx_hook(NULL);
    unsigned long flags = spin_lock_irqsave(&tty.lock);
    tty.sid = tty.fg_pgrp = 0;
    tty_ldisc_flush(&tty.ld);
    tty_update_readable();
    spin_unlock_irqrestore(&tty.lock, flags);
}

/*
 * Read up to n bytes of input (a line in canonical mode). Returns the count, 0 at end of file,
 * -EAGAIN (nonblock, nothing typed), or -EINTR (a signal or kill came while it slept). Input
 * reaches the terminal only while a session is in the foreground (tty_foreground_begin).
 */
static long tty_read(char *buf, size_t n, bool nonblock)
{
    struct uthread *self = uthread_current();
    uint64_t deadline = SCHED_NO_DEADLINE;

    for (;;) {
        unsigned long flags = spin_lock_irqsave(&tty.lock);
        const struct tty_termios *t = &tty.ld.termios;
        bool raw = !(t->lflag & TTY_ICANON);
        uint8_t vmin = t->cc[TTY_VMIN], vtime = t->cc[TTY_VTIME];
        if (tty_ldisc_readable(&tty.ld)) {
            bool eof;
            long got = (long)tty_ldisc_read(&tty.ld, buf, n, &eof);
            tty_update_readable();
            spin_unlock_irqrestore(&tty.lock, flags);
            return got;
        }
        spin_unlock_irqrestore(&tty.lock, flags);
        if (nonblock)
            return -EAGAIN;
        if (raw && vmin == 0) {
            /* Non-canonical, MIN 0: return at once, or after TIME tenths of a second. */
            if (!vtime || deadline != SCHED_NO_DEADLINE)
                return 0;
            deadline = timer_counter() + timer_ns_to_ticks(vtime * DECISECOND_NS);
        }
        int err = uthread_wait_interruptible(
            self, &tty.read_wq, __atomic_load_n(&tty.readable, __ATOMIC_SEQ_CST), deadline);
        if (err == -EINTR)
            return err;
    }
}

static long tty_write(const char *buf, size_t n)
{
    console_write(buf, n);
    return (long)n;
}

/* poll events (POLLIN, POLLOUT) of the terminal now. */
static short tty_poll(void)
{
    return (__atomic_load_n(&tty.readable, __ATOMIC_SEQ_CST) ? POLLIN : 0) | POLLOUT;
}

static struct uvm_space *uvm(void)
{
    return proc_current()->as->uvm;
}

static int64_t tty_set_termios(uint64_t arg, bool flush)
{
    struct tty_termios t;

    if (uvm_copy_in(uvm(), &t, arg, sizeof(t)))
        return -EFAULT;
    unsigned long flags = spin_lock_irqsave(&tty.lock);
    if (flush)
        tty_ldisc_flush(&tty.ld);
    tty_ldisc_set_termios(&tty.ld, &t);
    tty_update_readable();
    spin_unlock_irqrestore(&tty.lock, flags);
    wait_wake_all(&tty.read_wq);
    return 0;
}

/* TIOCSPGRP: only within the console's session, to a group of that session. */
static int64_t tty_set_pgrp(uint64_t arg)
{
    struct proc *p = proc_current();
    int pgrp, sid = proc_getsid(p, 0);

    if (uvm_copy_in(uvm(), &pgrp, arg, sizeof(pgrp)))
        return -EFAULT;
    if (pgrp <= 0)
        return -EINVAL;
    if (!proc_group_in_session(pgrp, sid))
        return -EPERM;
    unsigned long flags = spin_lock_irqsave(&tty.lock);
    int64_t ret = sid == tty.sid ? 0 : -ENOTTY;
    if (!ret)
        tty.fg_pgrp = pgrp;
    spin_unlock_irqrestore(&tty.lock, flags);
    return ret;
}

/* TIOCGPGRP / TIOCGSID: the console is the controlling terminal of its session only. */
static int64_t tty_get_id(uint64_t arg, bool sid)
{
    int caller = proc_getsid(proc_current(), 0);
    unsigned long flags = spin_lock_irqsave(&tty.lock);
    int id = caller == tty.sid ? (sid ? tty.sid : tty.fg_pgrp) : -ENOTTY;

    spin_unlock_irqrestore(&tty.lock, flags);
    if (id < 0)
        return id;
    return uvm_copy_out(uvm(), arg, &id, sizeof(id)) ? -EFAULT : 0;
}

/* termios, foreground process group, window size; -ENOTTY for any other request. */
static int64_t tty_ioctl(unsigned int cmd, uint64_t arg)
{
    unsigned long flags;

    switch (cmd) {
    case TCGETS: {
        struct tty_termios t;
        flags = spin_lock_irqsave(&tty.lock);
        t = tty.ld.termios;
        spin_unlock_irqrestore(&tty.lock, flags);
        return uvm_copy_out(uvm(), arg, &t, sizeof(t)) ? -EFAULT : 0;
    }
    case TCSETS:
    case TCSETSW: return tty_set_termios(arg, false); /* output is never queued: nothing to drain */
    case TCSETSF: return tty_set_termios(arg, true);
    case TCFLSH:
        if (arg > TCIOFLUSH)
            return -EINVAL;
        flags = spin_lock_irqsave(&tty.lock);
        if (arg == TCIFLUSH || arg == TCIOFLUSH)
            tty_ldisc_flush(&tty.ld);
        tty_update_readable();
        spin_unlock_irqrestore(&tty.lock, flags);
        return 0;
    case TCSBRK:
    case TCXONC:
    case TIOCSCTTY:
    case TIOCNOTTY: return 0;
    case TIOCGPGRP: return tty_get_id(arg, false);
    case TIOCGSID: return tty_get_id(arg, true);
    case TIOCSPGRP: return tty_set_pgrp(arg);
    case TIOCGWINSZ: {
        uint16_t ws[4];
        flags = spin_lock_irqsave(&tty.lock);
        memcpy(ws, tty.winsize, sizeof(ws));
        spin_unlock_irqrestore(&tty.lock, flags);
        return uvm_copy_out(uvm(), arg, ws, sizeof(ws)) ? -EFAULT : 0;
    }
    case TIOCSWINSZ: {
        uint16_t ws[4];
        if (uvm_copy_in(uvm(), ws, arg, sizeof(ws)))
            return -EFAULT;
        flags = spin_lock_irqsave(&tty.lock);
        memcpy(tty.winsize, ws, sizeof(ws));
        spin_unlock_irqrestore(&tty.lock, flags);
        return 0;
    }
    case FIONREAD: {
        flags = spin_lock_irqsave(&tty.lock);
        int n = (int)tty.ld.committed;
        spin_unlock_irqrestore(&tty.lock, flags);
        return uvm_copy_out(uvm(), arg, &n, sizeof(n)) ? -EFAULT : 0;
    }
    default: return -ENOTTY;
    }
}

/* A read(2) of the terminal: up to 256 bytes (a line in canonical mode) into user memory. */
static int64_t tty_read_user(uint64_t ubuf, uint64_t len, bool nonblock)
{
    char buf[256];
    long r = tty_read(buf, len < sizeof(buf) ? (size_t)len : sizeof(buf), nonblock);

    if (r > 0 && uvm_copy_out(uvm(), ubuf, buf, (size_t)r))
        return -EFAULT;
    /* Nothing read because a signal came: restart, or -EINTR for a handler. */
    return r == -EINTR ? -ERESTARTSYS : r;
}

const struct chrdev_ops tty_chrdev = {
    .perm = 0620,
    .read = tty_read_user,
    .write = tty_write,
    .poll = tty_poll,
    .ioctl = tty_ioctl,
};
