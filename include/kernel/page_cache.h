/* page_cache.h - the native kernel's page cache: the root disk's block cache, grown into free RAM.
 */
#ifndef KERNEL_PAGE_CACHE_H
#define KERNEL_PAGE_CACHE_H

/*
 * Let the root disk's block cache grow while more than a quarter of RAM is free and give clean
 * blocks back when the page allocator runs short (bcache_reclaim). Only the native kernel has
 * it: the hypervisor keeps a fixed cache, since guests' RAM wants large contiguous blocks that a
 * cache scattered over the heap would break up.
 */
void page_cache_init(void);

#endif
