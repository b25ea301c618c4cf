/* shell.h - the interactive console shell; command groups register themselves with SHELL_COMMAND.
 */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include <stdint.h>

struct shell_cmd {
    const char *name;
    const char *args; /* usage after the name, "" if none */
    const char *help;
    int (*fn)(int argc, char **argv); /* 0 on success; the shell prints nothing extra */
};

/* Place a command in the .shell_cmds section; the linker script collects them. */
#define SHELL_COMMAND(ident, name, args, help, fn)                                                 \
    static const struct shell_cmd shell_cmd_##ident                                                \
        __attribute__((used, section(".shell_cmds"), aligned(8))) = {name, args, help, fn}

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];

/* Counter value when the first prompt was printed (boot-time benchmark). */
extern uint64_t shell_first_prompt_counter;

#endif
