/* kmalloc.h - kernel heap: small objects by size class, large ones by whole pages. */
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H

#include <stddef.h>

void *kmalloc(size_t size);  /* NULL when out of memory; contents undefined */
void *kzalloc(size_t size);  /* zero-filled */
void kfree(void *ptr);       /* NULL is ignored */

#endif
