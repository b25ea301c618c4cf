/* cmd_proc.c - user processes from the shell: run a program, list processes, kill one. */
#include "kernel/exec.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/shell.h"
#include "kernel/tty.h"
#include "kernel/vma.h"
#include "lib/errno.h"
#include "lib/string.h"

static int cmd_run(int argc, char **argv)
{
    bool background = argc > 2 && !strcmp(argv[argc - 1], "&");
    const char *why;
    int status;

    if (background)
        argv[--argc] = NULL;
    if (argc < 2) {
        kprintf("usage: run <program> [args] [&]\n");
        return -1;
    }
    /* A foreground program's session has the console (its ^C, its modes) until it ends. */
    int pid = exec_spawn(argv[1], argc - 1, argv + 1, !background, &why);
    if (pid < 0) {
        kprintf("run: %s: %s%s%s\n", argv[1], errno_str(pid), *why ? ": " : "", why);
        return -1;
    }
    if (background) {
        proc_detach(pid);
        kprintf("[%d] %s\n", pid, argv[1]);
        return 0;
    }
    int err = proc_wait(NULL, pid, &status, 0);
    tty_foreground_end();
    if (err < 0) {
        kprintf("run: %s: %s\n", argv[1], errno_str(err));
        return -1;
    }
    /* Silence on success; a crash has printed its own line already. */
    if ((status & 0x7f) == 0 && (status >> 8) != 0)
        kprintf("run: %s exited with status %d\n", argv[1], (status >> 8) & 0xff);
    else if ((status & 0x7f) && !(status & PROC_STATUS_REPORTED))
        kprintf("run: %s killed by signal %d\n", argv[1], status & 0x7f);
    return status ? -1 : 0;
}
SHELL_COMMAND(run, "run", "<prog> [args] [&]",
              "run a user program from /bin (disk first, then built in); & for background",
              cmd_run);

static bool parse_int(const char *s, int *out)
{
    int v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static int cmd_kill(int argc, char **argv)
{
    int pid, sig = SIGTERM;

    if (argc < 2 || argc > 3 || !parse_int(argv[1], &pid) ||
        (argc == 3 && !parse_int(argv[2], &sig))) {
        kprintf("usage: kill <pid> [signal]\n");
        return -1;
    }
    int err = proc_kill(pid, sig);
    if (err)
        kprintf("kill: %d: %s\n", pid, err == -ESRCH ? "no such process" : errno_str(err));
    return err;
}
SHELL_COMMAND(kill, "kill", "<pid> [signal]", "end a user process (default SIGTERM)", cmd_kill);

static int cmd_procs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    unsigned int n = proc_snapshot(NULL, 0) + 8;
    struct proc_info *info = kmalloc(n * sizeof(*info));
    uint64_t used, limit;

    if (!info) {
        kprintf("procs: out of memory\n");
        return -1;
    }
    unsigned int total = proc_snapshot(info, n);
    kprintf("  PID  PPID NAME             STATE   THREADS  PRI  CPU   RSS KiB\n");
    for (unsigned int k = 0; k < total && k < n; k++) {
        const struct proc_info *i = &info[k];
        kprintf("%5d %5d %-16s %-7s %7u %4d %4u %9lu\n", i->pid, i->ppid, i->name,
                i->state == PROC_ZOMBIE ? "zombie" : "live", i->nthreads, i->prio, i->cpu,
                (unsigned long)i->resident_kib);
    }
    vma_commit_stats(&used, &limit);
    kprintf("%u processes; user memory committed %lu of %lu KiB\n", total,
            (unsigned long)(used * (PAGE_SIZE / 1024)),
            (unsigned long)(limit * (PAGE_SIZE / 1024)));
    kfree(info);
    return 0;
}
SHELL_COMMAND(procs, "procs", "",
              "user processes: pid, parent, state, threads, priority, CPU, memory", cmd_procs);
