/* dev.c - /dev/null, zero, tty, console, urandom and random (FAT32 has no device nodes). */
#include "kernel/dev.h"
#include "lib/errno.h"
#include "lib/string.h"

static const struct {
    const char *path;
    enum fd_kind kind;
} dev_table[] = {
    {"/dev/null", FD_NULL},       {"/dev/zero", FD_ZERO},      {"/dev/tty", FD_CONSOLE},
    {"/dev/console", FD_CONSOLE}, {"/dev/urandom", FD_RANDOM}, {"/dev/random", FD_RANDOM},
};

int dev_lookup(const char *abs)
{
    for (size_t i = 0; i < sizeof(dev_table) / sizeof(dev_table[0]); i++) {
        if (!strcmp(abs, dev_table[i].path))
            return (int)dev_table[i].kind;
    }
    return -ENOENT;
}
