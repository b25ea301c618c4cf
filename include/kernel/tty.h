/* tty.h - the console as user programs see it on fds 0-2: a line-edited terminal. */
#ifndef KERNEL_TTY_H
#define KERNEL_TTY_H

#include <stddef.h>

/*
 * Read up to n bytes of the current input line (echoed, with backspace and ^U; Enter ends it,
 * ^D at the start of a line is end of file, ^C ends the reading process). Returns the count,
 * 0 at end of file, or -EINTR when the caller's process is ending.
 */
long tty_read(char *buf, size_t n);
void tty_write(const char *buf, size_t n);

#endif
