/* exec.h - starting programs: ELF images from /bin on the disk or embedded in the kernel. */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#define EXEC_MAX_ARGS  256        /* argv and envp entries, each */
#define EXEC_ARG_BYTES 65536      /* their strings together */
#define EXEC_MAX_FILE  (4u << 20) /* largest program file */

/** A program linked into the kernel image (app/, see the Makefile). The table ends with NULL. */
struct program {
    const char *name;
    const unsigned char *data;
    uint64_t size;
};
extern const struct program programs_embedded[];

/*
 * Start path with argv (argc entries) as a new process, child of the kernel: its pid, or a
 * negative errno with *why saying more for -ENOEXEC. A name without '/' is looked up in /bin.
 * A file in /bin on the disk comes first; an embedded program of that name is the fallback.
 * foreground: the console is the process's terminal from its start (tty_foreground_begin); the
 * caller ends that with tty_foreground_end once it has waited for it.
 */
int exec_spawn(const char *path, int argc, char *const argv[], bool foreground, const char **why);
/* execve(2) for the running user thread. */
int64_t exec_syscall(uint64_t upath, uint64_t uargv, uint64_t uenvp);

#endif
