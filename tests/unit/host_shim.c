/* host_shim.c - host stand-ins for kernel services that host-tested modules call. */
#include <stdlib.h>
#include <string.h>

#include "kernel/kmalloc.h"

void *kmalloc(size_t size)
{
    return malloc(size ? size : 1);
}

void *kzalloc(size_t size)
{
    return calloc(1, size ? size : 1);
}

void kfree(void *ptr)
{
    free(ptr);
}
