/* page_alloc.c - buddy allocator for physical pages over the free RAM ranges reported at boot. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/list.h"
#include "lib/string.h"

_Static_assert(sizeof(struct page) == 32, "struct page grew: metadata is 1/128 of RAM");

/* One free RAM range. Its first pages [meta_base, base) hold pages[], describing [base, end). */
struct page_range {
    uint64_t meta_base;
    uint64_t base;
    uint64_t end;
    struct page *pages;
    uint64_t nr_pages;
};

/**
 * The allocator. lock protects the free lists, the counters, and state/order/refcount (and link
 * while free) of every struct page. ranges[i] is written once, before nr_ranges (stored with
 * release) publishes it, so page_lookup() can read ranges without the lock.
 */
static struct {
    spinlock_t lock;
    bool lists_ready;
    struct list_node free_lists[PAGE_ALLOC_MAX_ORDER + 1];
    struct page_range ranges[PAGE_ALLOC_MAX_RANGES];
    unsigned nr_ranges;
    struct page_stats counts; /* nr_ranges and max_order are filled in by page_alloc_stats */
} buddy = {.lock = SPINLOCK_INIT};

static uint64_t block_bytes(unsigned order)
{
    return PAGE_SIZE << order;
}

static const struct page_range *range_of_pa(uint64_t pa)
{
    unsigned n = __atomic_load_n(&buddy.nr_ranges, __ATOMIC_ACQUIRE);

    for (unsigned i = 0; i < n; i++) {
        const struct page_range *r = &buddy.ranges[i];

        if (pa >= r->base && pa < r->end)
            return r;
    }
    return NULL;
}

static const struct page_range *range_of_page(const struct page *page)
{
    unsigned n = __atomic_load_n(&buddy.nr_ranges, __ATOMIC_ACQUIRE);
    uintptr_t p = (uintptr_t)page;

    for (unsigned i = 0; i < n; i++) {
        const struct page_range *r = &buddy.ranges[i];

        if (p - (uintptr_t)r->pages < r->nr_pages * sizeof(struct page))
            return r;
    }
    return NULL;
}

static struct page *range_page(const struct page_range *r, uint64_t pa)
{
    return &r->pages[(pa - r->base) >> PAGE_SHIFT];
}

struct page *page_lookup(uint64_t pa)
{
    const struct page_range *r = range_of_pa(pa);

    return r ? range_page(r, pa) : NULL;
}

uint64_t page_to_pa(const struct page *page)
{
    const struct page_range *r = range_of_page(page);

    return r ? r->base + ((uint64_t)(page - r->pages) << PAGE_SHIFT) : 0;
}

/* Caller holds buddy.lock. */
static void free_block_push(struct page *page, unsigned order)
{
    page->state = PAGE_FREE_HEAD;
    page->order = (uint8_t)order;
    list_add(&buddy.free_lists[order], &page->link);
    buddy.counts.free_blocks[order]++;
}

/* Caller holds buddy.lock. The page stops being a block head (it is merged or handed out). */
static void free_block_remove(struct page *page)
{
    list_del(&page->link);
    buddy.counts.free_blocks[page->order]--;
    page->state = PAGE_TAIL;
}

/* Caller holds buddy.lock. Cut [base, end) into the largest naturally aligned blocks. */
static void range_add_free_blocks(const struct page_range *r)
{
    uint64_t pa = r->base;

    while (pa < r->end) {
        unsigned order = PAGE_ALLOC_MAX_ORDER;

        while (order > 0 && ((pa & (block_bytes(order) - 1)) || r->end - pa < block_bytes(order)))
            order--;
        free_block_push(range_page(r, pa), order);
        pa += block_bytes(order);
    }
}

/* Caller holds buddy.lock. */
static bool range_overlaps(uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < buddy.nr_ranges; i++) {
        const struct page_range *r = &buddy.ranges[i];

        if (start < r->end && r->meta_base < end)
            return true;
    }
    return false;
}

int page_alloc_add_range(uint64_t pa_start, uint64_t pa_end)
{
    if (pa_end <= pa_start || pa_start > UINT64_MAX - PAGE_SIZE)
        return -EINVAL;

    uint64_t base = (pa_start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t end = pa_end & ~(PAGE_SIZE - 1);
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    int ret = 0;

    if (!buddy.lists_ready) {
        for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++)
            list_init(&buddy.free_lists[o]);
        buddy.lists_ready = true;
    }
    if (range_overlaps(pa_start, pa_end)) {
        ret = -EINVAL;
    } else if (buddy.nr_ranges == PAGE_ALLOC_MAX_RANGES) {
        ret = -ENOSPC;
    } else if (end > base) {
        uint64_t n = (end - base) >> PAGE_SHIFT;
        uint64_t meta = (n * sizeof(struct page) + PAGE_SIZE - 1) >> PAGE_SHIFT;

        /* A range that cannot hold its own metadata plus one page is not worth taking. */
        if (meta < n) {
            struct page_range *r = &buddy.ranges[buddy.nr_ranges];

            /*
             * Metadata first: it also keeps PA 0 (possible on boards with RAM at 0) out of
             * the allocatable pages, so 0 can mean "no memory".
             */
            r->meta_base = base;
            r->base = base + (meta << PAGE_SHIFT);
            r->end = end;
            r->nr_pages = n - meta;
            r->pages = phys_to_virt(base);
            memset(r->pages, 0, r->nr_pages * sizeof(struct page));
            range_add_free_blocks(r);
            buddy.counts.total_pages += r->nr_pages;
            buddy.counts.free_pages += r->nr_pages;
            buddy.counts.meta_pages += meta;
            __atomic_store_n(&buddy.nr_ranges, buddy.nr_ranges + 1, __ATOMIC_RELEASE);
            ret = (int)r->nr_pages;
        }
    }
    spin_unlock_irqrestore(&buddy.lock, flags);
    return ret;
}

/* Called when an allocation fails, to give back memory held by caches (page_alloc_set_reclaim). */
static page_reclaim_fn page_reclaim; /* set once at boot */

void page_alloc_set_reclaim(page_reclaim_fn fn)
{
    __atomic_store_n(&page_reclaim, fn, __ATOMIC_RELEASE);
}

uint64_t page_alloc_free_pages(void)
{
    return __atomic_load_n(&buddy.counts.free_pages, __ATOMIC_RELAXED);
}

static uint64_t page_alloc_locked(unsigned order)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    uint64_t pa = 0;
    unsigned o = order;

    buddy.counts.alloc_calls++;
    while (o <= PAGE_ALLOC_MAX_ORDER && buddy.counts.free_blocks[o] == 0)
        o++;
    if (o > PAGE_ALLOC_MAX_ORDER) {
        buddy.counts.failed_calls++;
    } else {
        struct page *page = list_entry(list_first(&buddy.free_lists[o]), struct page, link);
        const struct page_range *r = range_of_page(page);

        pa = page_to_pa(page);
        free_block_remove(page);
        /* Split: keep the lower half, give the upper half back at each step down. */
        while (o > order) {
            o--;
            free_block_push(range_page(r, pa + block_bytes(o)), o);
        }
        page->state = PAGE_ALLOC_HEAD;
        page->order = (uint8_t)order;
        page->refcount = 1;
        buddy.counts.free_pages -= 1UL << order;
    }
    spin_unlock_irqrestore(&buddy.lock, flags);
    return pa;
}

uint64_t page_alloc(unsigned order)
{
    uint64_t pa = page_alloc_locked(order);
    page_reclaim_fn reclaim = __atomic_load_n(&page_reclaim, __ATOMIC_ACQUIRE);

    /*
     * Out of memory: let the caches give back what they hold, then try once more. More than
     * 2^order pages are asked for, since freed single pages need their buddies to merge.
     */
    if (!pa && reclaim && reclaim((4UL << order) + 64))
        pa = page_alloc_locked(order);
    return pa;
}

uint64_t page_alloc_zeroed(unsigned order)
{
    uint64_t pa = page_alloc(order);

    if (pa)
        memset(phys_to_virt(pa), 0, block_bytes(order));
    return pa;
}

/* Caller holds buddy.lock. 0 when (pa, order) is exactly a live page_alloc result we may free. */
static int page_free_check(uint64_t pa, unsigned order, const struct page_range **rp)
{
    if (order > PAGE_ALLOC_MAX_ORDER || (pa & (block_bytes(order) - 1)))
        return -EINVAL;

    const struct page_range *r = range_of_pa(pa);

    if (!r || r->end - pa < block_bytes(order))
        return -EINVAL;

    const struct page *page = range_page(r, pa);

    if (page->state != PAGE_ALLOC_HEAD || page->order != order)
        return -EINVAL; /* double free, a page inside a block, or the wrong order */
    if (page->refcount > 1 || __atomic_load_n(&page->owner, __ATOMIC_RELAXED) != PAGE_OWNER_NONE)
        return -EBUSY;
    *rp = r;
    return 0;
}

int page_free(uint64_t pa, unsigned order)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    const struct page_range *r = NULL;
    int err = page_free_check(pa, order, &r);

    buddy.counts.free_calls++;
    if (err) {
        buddy.counts.bad_frees++;
        buddy.counts.last_bad_free = pa;
        spin_unlock_irqrestore(&buddy.lock, flags);
        return err;
    }

    struct page *page = range_page(r, pa);

    page->refcount = 0;
    page->state = PAGE_TAIL;
    buddy.counts.free_pages += 1UL << order;
    /* Merge with the buddy while it is a whole free block of the same order in this range. */
    while (order < PAGE_ALLOC_MAX_ORDER) {
        uint64_t buddy_pa = pa ^ block_bytes(order);

        if (buddy_pa < r->base || buddy_pa >= r->end)
            break;

        struct page *other = range_page(r, buddy_pa);

        if (other->state != PAGE_FREE_HEAD || other->order != order)
            break;
        free_block_remove(other);
        pa &= ~block_bytes(order);
        order++;
    }
    free_block_push(range_page(r, pa), order);
    spin_unlock_irqrestore(&buddy.lock, flags);
    return 0;
}

/* Caller holds buddy.lock. The head page of an allocated block at pa, or NULL. */
static struct page *alloc_head(uint64_t pa)
{
    struct page *page = (pa & (PAGE_SIZE - 1)) ? NULL : page_lookup(pa);

    return page && page->state == PAGE_ALLOC_HEAD ? page : NULL;
}

int page_ref_inc(uint64_t pa)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    struct page *page = alloc_head(pa);
    int ret = -EINVAL;

    if (page && page->refcount < INT32_MAX)
        ret = (int)++page->refcount;
    spin_unlock_irqrestore(&buddy.lock, flags);
    return ret;
}

int page_ref_dec(uint64_t pa)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    struct page *page = alloc_head(pa);
    int ret = -EINVAL;

    if (page && page->refcount > 0)
        ret = (int)--page->refcount;
    spin_unlock_irqrestore(&buddy.lock, flags);
    return ret;
}

int page_ref_count(uint64_t pa)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);
    struct page *page = alloc_head(pa);
    int ret = page ? (int)page->refcount : -EINVAL;

    spin_unlock_irqrestore(&buddy.lock, flags);
    return ret;
}

void page_alloc_stats(struct page_stats *out)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);

    *out = buddy.counts;
    out->nr_ranges = buddy.nr_ranges;
    out->max_order = PAGE_ALLOC_MAX_ORDER;
    spin_unlock_irqrestore(&buddy.lock, flags);
}

#ifdef AVATAR_HOST
void page_alloc_reset(void)
{
    unsigned long flags = spin_lock_irqsave(&buddy.lock);

    for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++)
        list_init(&buddy.free_lists[o]);
    buddy.lists_ready = true;
    __atomic_store_n(&buddy.nr_ranges, 0, __ATOMIC_RELEASE);
    memset(&buddy.counts, 0, sizeof(buddy.counts));
    spin_unlock_irqrestore(&buddy.lock, flags);
}
#endif
