/* vconsole.c - per-VM console output: lines, logs and which VM owns the host terminal. */
#include "vmm/vconsole.h"

#include "kernel/spinlock.h"
#include "lib/string.h"

/* The longest print: "\n" (end a raw line) "[" name "] " line "\n". */
#define OUT_MAX (1 + 1 + VCONSOLE_NAME_MAX + 2 + VCONSOLE_LINE_MAX + 1)

/**
 * The one terminal mux. lock protects every field here and every struct vconsole but its name;
 * it is held across sink calls, so the sink's own lock (the console's) nests inside it.
 */
static struct {
    spinlock_t lock;
    vconsole_sink_fn sink;
    enum vconsole_mode mode;
    struct vconsole *focus; /* NULL: the hypervisor shell has the terminal */
    bool midline;           /* the last byte sent to the sink was not '\n' */
    char out[OUT_MAX];      /* a prefixed line being assembled */
} mux = {.lock = SPINLOCK_INIT};

static void vconsole_emit(const char *s, size_t n)
{
    if (!n || !mux.sink)
        return;
    mux.sink(s, n);
    mux.midline = s[n - 1] != '\n';
}

/* Raw output of the focused VM may have left the cursor mid-line: start a fresh one. */
static void vconsole_end_raw_line(void)
{
    if (mux.midline)
        vconsole_emit("\n", 1);
}

void vconsole_mux_init(vconsole_sink_fn sink)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);

    mux.sink = sink;
    mux.mode = VCONSOLE_MODE_ALL;
    mux.focus = NULL;
    mux.midline = false;
    spin_unlock_irqrestore(&mux.lock, flags);
}

void vconsole_set_mode(enum vconsole_mode mode)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);

    mux.mode = mode;
    spin_unlock_irqrestore(&mux.lock, flags);
}

enum vconsole_mode vconsole_mode(void)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);
    enum vconsole_mode mode = mux.mode;

    spin_unlock_irqrestore(&mux.lock, flags);
    return mode;
}

void vconsole_focus(struct vconsole *c)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);

    if (c != mux.focus) {
        vconsole_end_raw_line();
        mux.focus = c;
        if (c)
            vconsole_emit(c->line, c->len);
    }
    spin_unlock_irqrestore(&mux.lock, flags);
}

struct vconsole *vconsole_focused(void)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);
    struct vconsole *c = mux.focus;

    spin_unlock_irqrestore(&mux.lock, flags);
    return c;
}

void vconsole_init(struct vconsole *c, const char *name)
{
    size_t n = strnlen(name, VCONSOLE_NAME_MAX - 1);

    memcpy(c->name, name, n);
    c->name[n] = '\0';
    c->len = 0;
    c->logged = 0;
}

/* Log the assembled line and, in ALL mode, print it prefixed unless it already went out raw. */
static void vconsole_end_line(struct vconsole *c)
{
    char *slot = c->log[c->logged++ % VCONSOLE_LOG_LINES];
    size_t name_len = strlen(c->name), n = 0;

    memcpy(slot, c->line, c->len);
    slot[c->len] = '\0';
    if (mux.mode == VCONSOLE_MODE_ALL && mux.focus != c) {
        if (mux.midline)
            mux.out[n++] = '\n';
        mux.out[n++] = '[';
        memcpy(mux.out + n, c->name, name_len);
        n += name_len;
        mux.out[n++] = ']';
        mux.out[n++] = ' ';
        memcpy(mux.out + n, c->line, c->len);
        n += c->len;
        mux.out[n++] = '\n';
        vconsole_emit(mux.out, n);
    }
    c->len = 0;
}

/*
 * How a byte is kept in the line: a control byte other than tab as caret notation (^[ for ESC, ^G
 * for BEL, ^? for DEL), so a prefixed line or a log shows that it was there without letting a
 * guest drive the host terminal; escapes and bells reach the terminal only in the focused VM's
 * raw stream. Returns the number of characters written to out (1 or 2).
 */
static size_t vconsole_printable(uint8_t byte, char out[2])
{
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
        out[0] = '^';
        out[1] = (char)(byte ^ 0x40);
        return 2;
    }
    out[0] = (char)byte;
    return 1;
}

void vconsole_putc(struct vconsole *c, uint8_t byte)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);

    if (mux.focus == c)
        vconsole_emit((const char *)&byte, 1);
    if (byte == '\n') {
        vconsole_end_line(c);
    } else if (byte != '\r') {
        char shown[2];
        size_t n = vconsole_printable(byte, shown);
        if (c->len + n > VCONSOLE_LINE_MAX)
            vconsole_end_line(c);
        memcpy(c->line + c->len, shown, n);
        c->len += n;
    }
    spin_unlock_irqrestore(&mux.lock, flags);
}

void vconsole_flush(struct vconsole *c)
{
    unsigned long flags = spin_lock_irqsave(&mux.lock);

    if (c->len)
        vconsole_end_line(c);
    if (mux.focus == c)
        vconsole_end_raw_line();
    spin_unlock_irqrestore(&mux.lock, flags);
}

unsigned vconsole_log(struct vconsole *c, void (*fn)(void *arg, const char *line), void *arg)
{
    char line[VCONSOLE_LINE_MAX + 1];
    unsigned long flags = spin_lock_irqsave(&mux.lock);
    uint64_t end = c->logged;
    uint64_t seq = end > VCONSOLE_LOG_LINES ? end - VCONSOLE_LOG_LINES : 0;
    unsigned count = 0;

    spin_unlock_irqrestore(&mux.lock, flags);
    for (; seq < end; seq++) {
        flags = spin_lock_irqsave(&mux.lock);
        /* The ring moved on while fn ran: skip what it overwrote. */
        if (c->logged - seq > VCONSOLE_LOG_LINES)
            seq = c->logged - VCONSOLE_LOG_LINES;
        if (seq >= end) {
            spin_unlock_irqrestore(&mux.lock, flags);
            break;
        }
        memcpy(line, c->log[seq % VCONSOLE_LOG_LINES], sizeof(line));
        spin_unlock_irqrestore(&mux.lock, flags);
        fn(arg, line);
        count++;
    }
    return count;
}

enum vconsole_key vconsole_input(struct vconsole_input_state *st, uint8_t byte)
{
    const uint8_t ctrl_t = 0x14, ctrl_close_bracket = 0x1d;

    if (st->escape) {
        st->escape = false;
        if (byte == 'n')
            return VCONSOLE_KEY_NEXT;
        if (byte == 'q')
            return VCONSOLE_KEY_DETACH;
        return byte == ctrl_t ? VCONSOLE_KEY_FORWARD : VCONSOLE_KEY_SWALLOW;
    }
    if (byte == ctrl_close_bracket)
        return VCONSOLE_KEY_DETACH;
    if (byte == ctrl_t) {
        st->escape = true;
        return VCONSOLE_KEY_SWALLOW;
    }
    return VCONSOLE_KEY_FORWARD;
}
