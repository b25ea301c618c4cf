/* tty.h - the console as a terminal for user programs: line discipline, modes, foreground group. */
#ifndef KERNEL_TTY_H
#define KERNEL_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/proc.h"

/*
 * Read up to n bytes of input (a line in canonical mode). Returns the count, 0 at end of file,
 * -EAGAIN (nonblock, nothing typed), or -EINTR (a signal or kill came while it slept). Input
 * reaches the terminal only while a session is in the foreground (tty_foreground_begin).
 */
long tty_read(char *buf, size_t n, bool nonblock);
void tty_write(const char *buf, size_t n);
/* ioctl on the console: termios, foreground process group, window size. -ENOTTY if unknown. */
int64_t tty_ioctl(unsigned int cmd, uint64_t arg);
/* poll events (POLLIN, POLLOUT) of the console now. */
short tty_poll(void);
/*
 * The shell's `run` (through exec_spawn) hands the console to p's session (p leads it and its
 * group), before p runs, until tty_foreground_end: typed bytes go through the line discipline, ^C
 * signals the foreground group. Outside, the shell reads the console itself.
 */
void tty_foreground_begin(struct proc *p);
void tty_foreground_end(void);

#endif
