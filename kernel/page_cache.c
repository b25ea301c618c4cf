/* page_cache.c - the native kernel's page cache: the root disk's block cache, grown into free RAM.
 */
#include "kernel/page_cache.h"

#include "block/bcache.h"
#include "block/blockdev.h"
#include "kernel/page_alloc.h"
#include "kernel/storage.h"

/*
 * Free pages the block cache leaves alone when it grows: a quarter of RAM, so programs start
 * without first pushing the cache back. Past that, allocations that fail make it shrink.
 */
static uint64_t page_cache_reserve_pages;

static bool page_cache_room(void)
{
    return page_alloc_free_pages() > page_cache_reserve_pages;
}

void page_cache_init(void)
{
    struct blockdev *cache = blockdev_open(STORAGE_ROOT_DISK);
    struct page_stats ps;

    if (!cache)
        return;
    page_alloc_stats(&ps);
    page_cache_reserve_pages = ps.total_pages / 4;
    if (bcache_set_growth(cache, BCACHE_GROW_MAX_BLOCKS, page_cache_room) == 0)
        page_alloc_set_reclaim(bcache_reclaim);
}
