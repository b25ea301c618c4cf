/* shell.c - console line editor and command dispatcher. */
#include <stdbool.h>

#include "drivers/pl011.h"
#include "fs/vfs.h"
#include "kernel/boot_conf.h"
#include "kernel/init.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

#define LINE_MAX 256
#define ARGS_MAX 16

uint64_t shell_first_prompt_counter;

static const struct shell_cmd *shell_find(const char *name)
{
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++) {
        if (!strcmp(c->name, name))
            return c;
    }
    return NULL;
}

/*
 * Split line in place into words as a POSIX shell does: blanks separate words; 'single quotes'
 * keep everything, "double quotes" keep all but \" \\ \$ \` (backslash escapes), and a
 * backslash outside quotes takes the next character as it is. Returns argc, or -1 (with a
 * message) for an unterminated quote or too many words.
 */
static int shell_tokenize(char *line, char **argv)
{
    int argc = 0;
    char *p = line, *out = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return argc;
        if (argc == ARGS_MAX) {
            kprintf("too many words (at most %d)\n", ARGS_MAX);
            return -1;
        }
        argv[argc++] = out;
        while (*p && *p != ' ' && *p != '\t') {
            char q = *p;
            if (q == '\'' || q == '"') {
                for (p++; *p && *p != q; p++) {
                    if (q == '"' && *p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                        p++;
                    *out++ = *p;
                }
                if (!*p) {
                    kprintf("unterminated %c quote\n", q);
                    return -1;
                }
                p++;
            } else if (q == '\\' && p[1]) {
                *out++ = p[1];
                p += 2;
            } else {
                *out++ = *p++;
            }
        }
        /* out never passes p: the terminator lands on a byte already read. */
        bool more = *p != '\0';
        *out++ = '\0';
        if (more)
            p++;
        else
            return argc;
    }
}

static void shell_execute(char *line)
{
    char *argv[ARGS_MAX + 1];
    int argc = shell_tokenize(line, argv);

    if (argc <= 0)
        return;
    argv[argc] = NULL;
    const struct shell_cmd *c = shell_find(argv[0]);
    if (!c) {
        kprintf("unknown command: %s (try 'help')\n", argv[0]);
        return;
    }
    c->fn(argc, argv);
}

/* Read one line with echo, backspace, ^U (kill line) and ^C; ANSI escape sequences are ignored. */
static void shell_readline(char *buf, int max)
{
    int len = 0;
    int esc = 0; /* 1 after ESC, 2 inside "ESC [" */
    static char last;

    for (;;) {
        char c = pl011_getc();
        char prev = last;

        last = c;
        if (esc == 1) {
            esc = (c == '[') ? 2 : 0;
            continue;
        }
        if (esc == 2) {
            if (c >= 0x40 && c <= 0x7e)
                esc = 0;
            continue;
        }
        if (c == 0x1b) {
            esc = 1;
        } else if (c == '\r' || c == '\n') {
            if (c == '\n' && prev == '\r')
                continue; /* CR LF is one Enter */
            console_write("\n", 1);
            buf[len] = '\0';
            return;
        } else if (c == 0x7f || c == 0x08) {
            if (len > 0) {
                len--;
                console_write("\b \b", 3);
            }
        } else if (c == 0x15 || c == 0x03) {
            while (len > 0) {
                len--;
                console_write("\b \b", 3);
            }
            if (c == 0x03) {
                console_write("^C\n", 3);
                buf[0] = '\0';
                return;
            }
        } else if (c >= 0x20 && c < 0x7f && len < max - 1) {
            buf[len++] = c;
            console_write(&c, 1);
        }
    }
}

#ifndef AVATAR_HV
/*
 * "shell = <command line>" in /etc/avatar.conf: run it on the console (as `run` would) before
 * the first avatar> prompt, which follows when it exits. A bad file gets a message, no shell.
 */
static void shell_boot_command(char *line, size_t max)
{
    struct boot_conf conf;
    const char *why;
    unsigned at;
    size_t size;
    void *data;
    int err = vfs_read_file(BOOT_CONF_PATH, &data, &size, BOOT_CONF_MAX_BYTES);

    if (err == -ENOENT || err == -ENODEV)
        return;
    if (err) {
        kprintf("%s: %s\n", BOOT_CONF_PATH, errno_str(err));
        return;
    }
    err = boot_conf_parse(data, size, &conf, &at, &why);
    kfree(data);
    if (err) {
        kprintf("%s: line %u: %s\n", BOOT_CONF_PATH, at, why);
        return;
    }
    if (!conf.shell[0])
        return;
    kprintf("%s: starting %s\n", BOOT_CONF_PATH, conf.shell);
    snprintf(line, max, "run %s", conf.shell);
    shell_execute(line);
    kprintf("%s: %s exited; this is the Avatar shell\n", BOOT_CONF_PATH, conf.shell);
}
#endif

static void shell_run(void)
{
    static char line[LINE_MAX];

#ifndef AVATAR_HV
    shell_boot_command(line, sizeof(line));
#endif
    for (;;) {
        if (!shell_first_prompt_counter)
            shell_first_prompt_counter = timer_counter();
        kprintf("avatar> ");
        shell_readline(line, sizeof(line));
        shell_execute(line);
    }
}

static int shell_thread(void *arg)
{
    (void)arg;
    shell_run();
    return 0;
}

/* The last step of start-up (kernel/init.h): the console belongs to the shell from now on. */
static int shell_start(void)
{
    if (!thread_create("shell", shell_thread, NULL, THREAD_PRIO_SHELL, CPUMASK_ALL))
        return -ENOMEM;
    return 0;
}
INIT_HOOK(INIT_LAST, shell_start, "the shell thread");
