/* kmalloc.h - kernel heap: small objects by size class, large ones by whole pages. */
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H

#include <stddef.h>
#include <stdint.h>

void *kmalloc(size_t size); /* NULL when out of memory; contents undefined */
void *kzalloc(size_t size); /* zero-filled */
void kfree(void *ptr);      /* NULL is ignored */

/* Size classes 16, 32, ..., 2048 bytes; an object is aligned to its class size. */
#define KMALLOC_NR_CLASSES 8
#define KMALLOC_MIN_SIZE   16
#define KMALLOC_MAX_SMALL  (KMALLOC_MIN_SIZE << (KMALLOC_NR_CLASSES - 1))

struct kmalloc_class_stats {
    uint64_t size;   /* object size of the class */
    uint64_t slabs;  /* pages the class holds */
    uint64_t in_use; /* live objects */
    uint64_t free;   /* free objects in those pages */
};

struct kmalloc_stats {
    struct kmalloc_class_stats classes[KMALLOC_NR_CLASSES];
    uint64_t large_in_use;  /* live allocations above KMALLOC_MAX_SMALL (whole pages) */
    uint64_t large_pages;   /* pages they hold */
    uint64_t alloc_calls;   /* kmalloc and kzalloc calls */
    uint64_t free_calls;    /* kfree calls with a non-NULL pointer */
    uint64_t failed_calls;  /* allocations that returned NULL */
    uint64_t bad_frees;     /* kfree calls refused: not from kmalloc, inside an object, double */
    uint64_t last_bad_free; /* address of the latest refused kfree, for the report */
};

void kmalloc_stats(struct kmalloc_stats *out);

/* Give the empty slab pages kept for reuse back to the page allocator; returns how many. */
unsigned long kmalloc_shrink(void);

#endif
