/* bcache.h - write-back LRU block cache that stacks a struct blockdev on top of another. */
#ifndef BLOCK_BCACHE_H
#define BLOCK_BCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "block/blockdev.h"

/*
 * Bytes per cache block: 8 sectors of 512 (one when sectors are 4 KiB). A page-sized block is
 * one request for what a file system usually reads next (a 4 KiB cluster, the neighbouring FAT
 * sectors) and keeps the metadata per cached byte small; sector-granular valid and dirty bits
 * mean a one-sector write neither reads nor writes back the other seven.
 */
#define BCACHE_BLOCK_BYTES 4096
_Static_assert(BLOCKDEV_MAX_SECTOR_BYTES <= BCACHE_BLOCK_BYTES, "a sector fits in a cache block");
/* Blocks per cache when the creator has no better idea: 1 MiB of data. */
#define BCACHE_DEFAULT_BLOCKS 256
/* Most blocks read or written back in one batch handed to the device. */
#define BCACHE_BATCH 16
/*
 * Transfers of at least BCACHE_DIRECT_MIN whole blocks bypass the cache (reads only where no
 * block is cached), up to BCACHE_DIRECT_MAX_BYTES at a time: a large file transfer reaches the
 * disk as large requests instead of block-sized ones, is not copied twice, and does not push
 * the file system's metadata out of the cache.
 */
#define BCACHE_DIRECT_MIN       4
#define BCACHE_DIRECT_MAX_BYTES (1024 * 1024)
/* Most blocks a growable cache reaches (bcache_set_growth): 256 MiB. */
#define BCACHE_GROW_MAX_BLOCKS 65536
/* Caches that can exist at once (for bcache_sync_all and the shell). */
#define BCACHE_MAX 8

/** Counters since the cache was created, and its current occupancy. */
struct bcache_stats {
    uint64_t hits;       /* block lookups satisfied from the cache */
    uint64_t misses;     /* lookups that had to allocate a block or read sectors in */
    uint64_t writebacks; /* blocks written back to the device (eviction or sync) */
    uint64_t evictions;  /* cached blocks dropped to make room */
    uint64_t dev_reads;  /* read transfers sent to the device */
    uint64_t dev_writes; /* write transfers sent to the device */
    uint64_t syncs;      /* bcache_sync calls (each ends with a device flush) */
    uint64_t direct;     /* transfers that bypassed the cache (BCACHE_DIRECT_MIN) */
    uint64_t shrunk;     /* grown blocks given back (bcache_reclaim) */
    unsigned nblocks;    /* blocks allocated now (more as a growable cache grows) */
    unsigned used;       /* blocks holding data */
    unsigned dirty;      /* blocks with sectors not yet on the device */
    uint32_t block_bytes;
};

/*
 * A cache of nblocks blocks over lower, registered under name (copied, up to 15 characters).
 * submit, if not NULL, is lower's batch interface; without it transfers go one at a time.
 * The cache is read-only (write NULL) when lower is. Returns the cache's blockdev, or NULL
 * when memory runs out, nblocks is 0, lower's sector size does not divide BCACHE_BLOCK_BYTES,
 * or BCACHE_MAX caches exist.
 */
struct blockdev *bcache_create(const char *name, struct blockdev *lower, unsigned nblocks,
                               blockdev_submit_fn submit);
/* Whether memory is plentiful enough for a growable cache to take one more block. */
typedef bool (*bcache_room_fn)(void);
/*
 * Let the cache grow past its first nblocks, up to max_blocks, while room() says yes: instead
 * of evicting, it allocates another block. A growable cache also stops bypassing itself for
 * large reads, so a file read twice comes from memory the second time. Grown blocks that are
 * clean go back to the heap through bcache_reclaim.
 */
int bcache_set_growth(struct blockdev *cache, unsigned max_blocks, bcache_room_fn room);
/*
 * Free up to want clean, unused grown blocks (one page each), least recently used first, from
 * the caches whose lock is free right now; never sleeps. Returns the number freed. The memory
 * allocator calls it when it runs short.
 */
unsigned long bcache_reclaim(unsigned long want);
/* Drop a cache without writing anything back (sync first); no I/O may be running on it. */
void bcache_destroy(struct blockdev *cache);
/*
 * Write back every dirty block (in batches, several in flight), then flush the device.
 * Returns the first error; blocks that failed to write stay dirty.
 */
int bcache_sync(struct blockdev *cache);
/* bcache_sync on every cache (before power-off); returns the first error. */
int bcache_sync_all(void);
/* -EINVAL if cache is not a block cache. */
int bcache_get_stats(struct blockdev *cache, struct bcache_stats *out);
/* The index-th registered cache and its name, in creation order; NULL past the end. */
struct blockdev *bcache_get(int index);
const char *bcache_name(struct blockdev *cache);

#endif
