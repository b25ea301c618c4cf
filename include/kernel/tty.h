/* tty.h - the console as a terminal for user programs: line discipline, modes, foreground group. */
#ifndef KERNEL_TTY_H
#define KERNEL_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/proc.h"

/*
 * The shell's `run` (through exec_spawn) hands the console to p's session (p leads it and its
 * group), before p runs, until tty_foreground_end: typed bytes go through the line discipline, ^C
 * signals the foreground group. Outside, the shell reads the console itself.
 */
void tty_foreground_begin(struct proc *p);
void tty_foreground_end(void);

#endif
