/* dev.h - the character devices under /dev, found by name before the file system is asked. */
#ifndef KERNEL_DEV_H
#define KERNEL_DEV_H

#include "kernel/proc.h"

/* The descriptor kind of device path abs (absolute, normalised), or -ENOENT if it is none. */
int dev_lookup(const char *abs);

#endif
