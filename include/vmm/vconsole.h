/* vconsole.h - per-VM console output: line assembly, a log of recent lines, the terminal mux. */
#ifndef VMM_VCONSOLE_H
#define VMM_VCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/manifest.h"

#define VCONSOLE_NAME_MAX  GUEST_NAME_MAX /* including the NUL: a guest name is never cut */
#define VCONSOLE_LINE_MAX  160            /* longer lines are split */
#define VCONSOLE_LOG_LINES 64             /* complete lines kept per VM */

/* Writes to the host terminal; called with the mux lock held, so it must not call vconsole_*. */
typedef void (*vconsole_sink_fn)(const char *s, size_t n);

enum vconsole_mode {
    VCONSOLE_MODE_ALL,   /* every VM's complete lines as "[name] line"; the focused VM's raw */
    VCONSOLE_MODE_FOCUS, /* only the focused VM's output, raw; the others are only logged */
};

/**
 * One VM's console. All fields but name are protected by the mux lock, a single lock in
 * vconsole.c over every VM's console, the mode and the focus: one lock is what keeps a line from
 * being interleaved with another VM's. line holds the incomplete line, '\r' dropped, other
 * control bytes but '\t' shown as ^X (ESC as ^[, DEL as ^?).
 */
struct vconsole {
    char name[VCONSOLE_NAME_MAX];
    char line[VCONSOLE_LINE_MAX];
    size_t len;
    /* A ring of NUL-terminated lines: line number i (from 0) is in log[i % VCONSOLE_LOG_LINES]. */
    char log[VCONSOLE_LOG_LINES][VCONSOLE_LINE_MAX + 1];
    uint64_t logged; /* lines ever logged */
};

/*
 * The mux: one per hypervisor, a static in vconsole.c. init sets the sink, mode ALL and no focus;
 * call it once before any VM runs (and, in tests, to start afresh). Before it nothing is printed.
 */
void vconsole_mux_init(vconsole_sink_fn sink);
void vconsole_set_mode(enum vconsole_mode mode);
enum vconsole_mode vconsole_mode(void);
/*
 * Give the terminal to c (NULL: the hypervisor shell). If the terminal is mid-line a newline ends
 * it; c's incomplete line (say "login: ") is printed so the user sees what is waiting for input.
 * A console must not be focused when it is freed.
 */
void vconsole_focus(struct vconsole *c);
struct vconsole *vconsole_focused(void);

/* A fresh console named name; not yet shared, so no lock is taken. */
void vconsole_init(struct vconsole *c, const char *name);
/* One byte the guest sent (from the vUART's tx); any CPU, concurrently with other VMs. */
void vconsole_putc(struct vconsole *c, uint8_t byte);
/* The VM stopped: end its incomplete line (logged, and printed as putc would a complete one). */
void vconsole_flush(struct vconsole *c);
/*
 * Call fn(arg, line) for each line kept when the call starts, oldest first, without the lock held
 * (fn may print or call vconsole_*); lines pushed out meanwhile are skipped. Returns how many lines
 * fn was given.
 */
unsigned vconsole_log(struct vconsole *c, void (*fn)(void *arg, const char *line), void *arg);

/*
 * The input filter of `guest console`, one byte typed at a time:
 *   Ctrl-] (0x1d)            detach: back to the hypervisor shell (as virsh/xl console)
 *   Ctrl-T (0x14) then 'n'   next VM
 *   Ctrl-T then 'q'          detach
 *   Ctrl-T then Ctrl-T       one literal Ctrl-T to the guest
 *   Ctrl-T then anything     both bytes swallowed
 * Every other byte is forwarded. A zeroed state is ready to use.
 */
enum vconsole_key {
    VCONSOLE_KEY_FORWARD, /* send the byte to the focused guest */
    VCONSOLE_KEY_DETACH,  /* vconsole_focus(NULL), back to the shell */
    VCONSOLE_KEY_NEXT,    /* focus the next VM */
    VCONSOLE_KEY_SWALLOW, /* part of an escape sequence: drop it */
};

struct vconsole_input_state {
    bool escape; /* the previous byte was a Ctrl-T */
};

enum vconsole_key vconsole_input(struct vconsole_input_state *st, uint8_t byte);

#endif
