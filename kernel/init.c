/* init.c - runs the start-up hooks the layers placed in the .init_hooks/.cpu_init_hooks sections.
 */
#include "kernel/init.h"
#include "kernel/panic.h"

void init_run_stage(int stage)
{
    for (const struct init_hook *h = __init_hooks_start; h < __init_hooks_end; h++) {
        if (h->stage != stage)
            continue;
        int err = h->fn();
        if (err)
            panic("%s failed: error %d", h->what, err);
    }
}

void init_run_cpu_hooks(void)
{
    for (void (*const *fn)(void) = __cpu_init_hooks_start; fn < __cpu_init_hooks_end; fn++)
        (*fn)();
}
