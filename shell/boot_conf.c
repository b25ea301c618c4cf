/* boot_conf.c - the parser of /etc/avatar.conf (the file is disk content: nothing is trusted). */
#include "kernel/boot_conf.h"

#include <stdbool.h>

#include "lib/errno.h"
#include "lib/string.h"

static bool boot_conf_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Copy [start, end) with blanks trimmed off both ends into out (size max). */
static bool boot_conf_trim_copy(const char *start, const char *end, char *out, size_t max)
{
    while (start < end && boot_conf_blank(*start))
        start++;
    while (end > start && boot_conf_blank(end[-1]))
        end--;
    if ((size_t)(end - start) >= max)
        return false;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return true;
}

/* One line [s, e): 0, or -EINVAL with *why. */
static int boot_conf_line(const char *s, const char *e, struct boot_conf *out, const char **why)
{
    char key[16], value[BOOT_CONF_SHELL_MAX];
    const char *eq = NULL;

    for (const char *p = s; p < e; p++) {
        if (*p == '\0' || ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r')) {
            *why = "a control character";
            return -EINVAL;
        }
        if (*p == '=' && !eq)
            eq = p;
    }
    while (s < e && boot_conf_blank(*s))
        s++;
    if (s == e || *s == '#')
        return 0;
    if (!eq) {
        *why = "no '=' (lines are key = value)";
        return -EINVAL;
    }
    if (!boot_conf_trim_copy(s, eq, key, sizeof(key)) || strcmp(key, "shell") != 0) {
        *why = "unknown key (known: shell)";
        return -EINVAL;
    }
    if (!boot_conf_trim_copy(eq + 1, e, value, sizeof(value))) {
        *why = "value too long";
        return -EINVAL;
    }
    if (!value[0]) {
        *why = "empty value";
        return -EINVAL;
    }
    memcpy(out->shell, value, sizeof(out->shell));
    return 0;
}

int boot_conf_parse(const char *text, size_t len, struct boot_conf *out, unsigned *line,
                    const char **why)
{
    const char *s = text, *end = text + len;

    memset(out, 0, sizeof(*out));
    *line = 0;
    *why = "";
    while (s < end) {
        const char *e = s;
        while (e < end && *e != '\n')
            e++;
        ++*line;
        int err = boot_conf_line(s, e, out, why);
        if (err)
            return err;
        s = e < end ? e + 1 : e;
    }
    return 0;
}
