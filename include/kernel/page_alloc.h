/* page_alloc.h - physical page allocator: a buddy system over the free RAM ranges found at boot. */
#ifndef KERNEL_PAGE_ALLOC_H
#define KERNEL_PAGE_ALLOC_H

#include <stdint.h>

#include "lib/list.h"

/* Largest block: 2^10 pages = 4 MiB, so 2 MiB (order 9) blocks come out naturally aligned. */
#define PAGE_ALLOC_MAX_ORDER 10
/* Free RAM ranges the allocator can take (each keeps its own struct page array). */
#define PAGE_ALLOC_MAX_RANGES 8

/* page->state: only the first page of a block says what the block is; others are PAGE_TAIL. */
#define PAGE_TAIL       0 /* inside a block (or a head that was merged away) */
#define PAGE_FREE_HEAD  1 /* first page of a free block, on free_lists[order] */
#define PAGE_ALLOC_HEAD 2 /* first page of an allocated block */

/* page->owner: which allocator above this one holds the block (0: a plain page_alloc user). */
#define PAGE_OWNER_NONE          0
#define PAGE_OWNER_KMALLOC_LARGE 0xff /* 1..KMALLOC_NR_CLASSES: a kmalloc slab of that class */

/**
 * Metadata for one managed 4 KiB page (32 bytes: 0.8% of RAM).
 * state, order, refcount: page_alloc's lock. link: page_alloc's lock while the block is free; the
 * owner's lock while it is allocated (kmalloc: its class lock). owner: written only by the
 * allocation's holder (atomically, so a bogus kfree can peek at it). slab_*: kmalloc class lock.
 */
struct page {
    struct list_node link;
    uint32_t refcount; /* of an allocated block head: 1 after page_alloc, for copy-on-write */
    uint8_t state;     /* PAGE_TAIL / PAGE_FREE_HEAD / PAGE_ALLOC_HEAD */
    uint8_t order;     /* of the block this page heads */
    uint8_t owner;     /* PAGE_OWNER_* or a kmalloc class number */
    uint8_t reserved;
    uint16_t slab_in_use; /* kmalloc: live objects in this slab page */
    uint16_t slab_free;   /* kmalloc: offset of the first free object in the slab */
};

struct page_stats {
    uint64_t total_pages; /* managed pages (metadata excluded) */
    uint64_t free_pages;
    uint64_t meta_pages;    /* pages holding the struct page arrays */
    uint64_t alloc_calls;   /* page_alloc calls, successful or not */
    uint64_t free_calls;    /* page_free calls, accepted or not */
    uint64_t failed_calls;  /* page_alloc calls that returned 0 */
    uint64_t bad_frees;     /* page_free calls refused (bad address, order, double free, ...) */
    uint64_t last_bad_free; /* address of the latest refused page_free, for the report */
    unsigned nr_ranges;
    unsigned max_order;
    uint64_t free_blocks[PAGE_ALLOC_MAX_ORDER + 1]; /* free blocks per order */
};

/*
 * Give the allocator a free RAM range [pa_start, pa_end) (any alignment; the part that is not whole
 * pages is ignored). The range must already be reachable through phys_to_virt(): its first pages
 * become this range's struct page array. Returns the number of pages made allocatable (0 for a
 * range too small to be worth its metadata), -EINVAL for an empty or overlapping range, -ENOSPC
 * when PAGE_ALLOC_MAX_RANGES ranges are already taken.
 */
int page_alloc_add_range(uint64_t pa_start, uint64_t pa_end);

/* 2^order contiguous pages, aligned to their size, refcount 1; 0 when none are free. */
uint64_t page_alloc(unsigned order);
uint64_t page_alloc_zeroed(unsigned order);
/* Free pages now (a snapshot without the lock: for policies, not for accounting). */
uint64_t page_alloc_free_pages(void);

/*
 * A function that gives memory back (freeing pages it holds, never sleeping) and returns how
 * many pages it freed, want being how many would help. page_alloc calls it once when it finds
 * no free block, then retries.
 */
typedef unsigned long (*page_reclaim_fn)(unsigned long want);
void page_alloc_set_reclaim(page_reclaim_fn fn);

/*
 * Return a block. A free that does not match a live page_alloc result (unmanaged or unaligned
 * address, wrong order, a page inside a block, double free) is refused with -EINVAL; a block still
 * shared (refcount > 1) or held by kmalloc with -EBUSY. Refusals are counted in page_stats and the
 * allocator stays intact. 0 on success.
 */
int page_free(uint64_t pa, unsigned order);

/*
 * Reference count of an allocated block, given its first page. Each returns the count after the
 * call, or -EINVAL when pa does not start an allocated block (or, for dec, the count is already 0).
 * Pattern for a shared page: if (page_ref_dec(pa) == 0) page_free(pa, order).
 */
int page_ref_inc(uint64_t pa);
int page_ref_dec(uint64_t pa);
int page_ref_count(uint64_t pa);

/* struct page of a managed page, NULL for any other address. No lock: ranges are never removed. */
struct page *page_lookup(uint64_t pa);
/* Physical address of the page a struct page describes (page_lookup's inverse). */
uint64_t page_to_pa(const struct page *page);

void page_alloc_stats(struct page_stats *out);

#ifdef AVATAR_HOST
/* Host unit tests only: forget every range so the next case starts from nothing. */
void page_alloc_reset(void);
#endif

#endif
