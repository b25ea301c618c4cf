/* host_shim.c - host stand-ins for kernel services that host-tested modules call. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kmalloc.h"

/* Weak, so a test that links the real kernel/kmalloc.c gets that one instead. */
__attribute__((weak)) void *kmalloc(size_t size)
{
    return malloc(size ? size : 1);
}

__attribute__((weak)) void *kzalloc(size_t size)
{
    return calloc(1, size ? size : 1);
}

__attribute__((weak)) void kfree(void *ptr)
{
    free(ptr);
}

/* Host threads outnumber CPUs: let a lock holder run instead of spinning. */
void host_cpu_relax(void)
{
    sched_yield();
}
