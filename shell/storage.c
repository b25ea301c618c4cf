/* storage.c - boot-time storage: the wall clock for time stamps and the FAT32 root on vda. */
#include "block/bcache.h"
#include "block/blockdev.h"
#include "drivers/pl031.h"
#include "fs/vfs.h"
#include "fs/vfs_fat32.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/storage.h"
#include "lib/errno.h"

/* The disk mounted on "/": the first virtio disk, as the block layer names it. */
#define STORAGE_ROOT_DISK "vda"

static void storage_clock(struct vfs_time *out)
{
    struct rtc_time t;

    rtc_to_date(rtc_seconds(), &t);
    *out = (struct vfs_time){t.year, t.month, t.day, t.hour, t.minute, t.second};
}

#ifndef AVATAR_HV
/*
 * Free pages the block cache leaves alone when it grows: a quarter of RAM, so programs start
 * without first pushing the cache back. Past that, allocations that fail make it shrink.
 */
static uint64_t storage_reserve_pages;

static bool storage_cache_room(void)
{
    return page_alloc_free_pages() > storage_reserve_pages;
}
#endif

/*
 * Native mode: the root disk's cache grows into free RAM and acts as the page cache. The
 * hypervisor keeps its fixed cache, since guests' RAM wants large contiguous blocks that a cache
 * scattered over the heap would break up.
 */
static void storage_grow_cache(struct blockdev *cache)
{
#ifndef AVATAR_HV
    struct page_stats ps;

    page_alloc_stats(&ps);
    storage_reserve_pages = ps.total_pages / 4;
    if (bcache_set_growth(cache, BCACHE_GROW_MAX_BLOCKS, storage_cache_room) == 0)
        page_alloc_set_reclaim(bcache_reclaim);
#else
    (void)cache;
#endif
}

void storage_init(void)
{
    const char *why = "";
    struct vfs_statfs sf;

    if (platform.rtc.size) {
        pl031_init(platform.rtc.base);
        vfs_set_clock(storage_clock);
    }
    struct blockdev *root = blockdev_open(STORAGE_ROOT_DISK);
    if (!root) {
        kprintf("fs: no disk attached (make run attaches host.img)\n");
        return;
    }
    storage_grow_cache(root);
    int err = vfs_fat32_mount("/", root, STORAGE_ROOT_DISK, &why);
    if (err) {
        kprintf("fs: vda is not a usable FAT32 volume: %s%s%s\n", errno_str(err), *why ? ": " : "",
                why ? why : "");
        return;
    }
    if (vfs_statfs("/", &sf, NULL) == 0)
        kprintf("fs: / is FAT32 on vda, %lu MiB, %lu MiB free\n",
                (unsigned long)(sf.total_blocks * sf.block_size >> 20),
                (unsigned long)(sf.free_blocks * sf.block_size >> 20));
}
