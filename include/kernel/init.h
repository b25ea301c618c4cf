/* init.h - start-up hooks: each layer registers its own start-up; the core runs them in order. */
#ifndef KERNEL_INIT_H
#define KERNEL_INIT_H

/*
 * The core starts the layers above it without naming them: a layer places a hook in a linker
 * section (like the shell's commands), and the build chooses the layers (the Makefile links vmm/
 * in the EL2 build, the native user-process modules in the EL1 build). kernel_main runs the
 * stages in this order:
 */
#define INIT_SERVICES 1 /* after memory, IRQs, timers, storage; before the secondary CPUs */
#define INIT_LATE     2 /* after the secondary CPUs are online */
#define INIT_LAST     3 /* after the boot summary: the first threads of work (the shell) */

struct init_hook {
    int stage;
    const char *what; /* for the panic when fn fails */
    int (*fn)(void);  /* 0, or an error: start-up cannot go on */
};

/* Run fn at stage of the boot CPU's start-up. */
#define INIT_HOOK(stage_, fn_, what_)                                                              \
    static const struct init_hook init_hook_##fn_                                                  \
        __attribute__((used, section(".init_hooks"), aligned(8))) = {stage_, what_, fn_}

/* Run fn on every CPU as it comes up (the boot CPU after INIT_SERVICES), before it schedules. */
#define CPU_INIT_HOOK(fn_)                                                                         \
    static void (*const cpu_init_hook_##fn_)(void)                                                 \
        __attribute__((used, section(".cpu_init_hooks"), aligned(8))) = fn_

extern const struct init_hook __init_hooks_start[], __init_hooks_end[];
extern void (*const __cpu_init_hooks_start[])(void), (*const __cpu_init_hooks_end[])(void);

/* Run the hooks of stage in link order; a failing one panics. */
void init_run_stage(int stage);
/* Run the per-CPU hooks on the calling CPU. */
void init_run_cpu_hooks(void);

#endif
