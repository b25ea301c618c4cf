/* boot_conf.h - /etc/avatar.conf on the root disk: settings read at boot (native mode). */
#ifndef KERNEL_BOOT_CONF_H
#define KERNEL_BOOT_CONF_H

#include <stddef.h>

#define BOOT_CONF_PATH      "/etc/avatar.conf"
#define BOOT_CONF_MAX_BYTES 4096
#define BOOT_CONF_SHELL_MAX 200

/** What the file says; an empty string is a setting that is absent. */
struct boot_conf {
    char shell[BOOT_CONF_SHELL_MAX]; /* "shell = <command line>": run on the console at boot */
};

/*
 * Parse len bytes of "key = value" lines ('#' starts a comment line, blank lines are skipped).
 * Returns 0, or -EINVAL with *line (from 1) and *why saying what is wrong: a line without '=',
 * an unknown key, an empty or too long value, a control character or NUL byte.
 */
int boot_conf_parse(const char *text, size_t len, struct boot_conf *out, unsigned *line,
                    const char **why);

#endif
