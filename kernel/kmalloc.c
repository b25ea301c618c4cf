/* kmalloc.c - kernel heap: one-page slabs per power-of-two size class, whole pages above that. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/list.h"
#include "lib/string.h"

/*
 * A slab is one page cut into equal objects; struct page says which class it belongs to (owner)
 * and heads its free list, so kfree needs no header before the object. A free object holds the
 * offset of the next free one and a magic word: the magic makes a double free cheap to suspect,
 * and a walk of the slab's free list confirms it.
 */
#define SLAB_NONE  0xffffu
#define FREE_MAGIC 0x6b667265656f626aULL
/* Empty slabs a class keeps for reuse so alloc/free of one object does not churn pages. */
#define EMPTY_SLABS_KEPT 1

_Static_assert(KMALLOC_MAX_SMALL <= PAGE_SIZE / 2, "a slab holds at least two objects");
_Static_assert(KMALLOC_NR_CLASSES < PAGE_OWNER_KMALLOC_LARGE, "class numbers fit page->owner");

struct free_obj {
    uint64_t next; /* offset in the page of the next free object, or SLAB_NONE */
    uint64_t magic;
};

/**
 * One size class. lock protects partial, the counts, and the link and slab_* fields of the class's
 * slab pages. Full slabs are on no list; kfree finds them through struct page.
 */
struct kmalloc_class {
    spinlock_t lock;
    struct list_node partial; /* slabs with a free object: part-used first, empty at the tail */
    uint64_t slabs;
    uint64_t in_use;
    uint64_t free;
    uint64_t empty_slabs;
};

/* Each list head starts out pointing at itself: an empty list. */
static struct kmalloc_class classes[KMALLOC_NR_CLASSES] = {
    {.lock = SPINLOCK_INIT, .partial = {&classes[0].partial, &classes[0].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[1].partial, &classes[1].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[2].partial, &classes[2].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[3].partial, &classes[3].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[4].partial, &classes[4].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[5].partial, &classes[5].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[6].partial, &classes[6].partial}},
    {.lock = SPINLOCK_INIT, .partial = {&classes[7].partial, &classes[7].partial}},
};
_Static_assert(KMALLOC_NR_CLASSES == 8, "one initialiser per class");

/* Counters outside any class; updated atomically. */
static struct {
    uint64_t large_in_use, large_pages;
    uint64_t alloc_calls, free_calls, failed_calls, bad_frees, last_bad_free;
} totals;

static void count(uint64_t *counter, int64_t delta)
{
    __atomic_fetch_add(counter, (uint64_t)delta, __ATOMIC_RELAXED);
}

static size_t class_size(unsigned cls)
{
    return (size_t)KMALLOC_MIN_SIZE << cls;
}

static unsigned class_objects(unsigned cls)
{
    return (unsigned)(PAGE_SIZE / class_size(cls));
}

/* Smallest class holding size bytes (size <= KMALLOC_MAX_SMALL). */
static unsigned class_of(size_t size)
{
    if (size <= KMALLOC_MIN_SIZE)
        return 0;
    return (unsigned)(64 - __builtin_clzll((unsigned long long)size - 1)) - 4;
}

static struct free_obj *slab_obj(uint64_t slab_pa, uint64_t off)
{
    return (struct free_obj *)((char *)phys_to_virt(slab_pa) + off);
}

static uint64_t pages_or_shrink(unsigned order)
{
    uint64_t pa = page_alloc(order);

    if (!pa && kmalloc_shrink())
        pa = page_alloc(order);
    return pa;
}

/* Thread every object of a fresh slab page onto its free list. The page is still private. */
static void slab_init(struct page *page, uint64_t pa, unsigned cls)
{
    size_t size = class_size(cls);
    unsigned n = class_objects(cls);

    for (unsigned i = 0; i < n; i++) {
        struct free_obj *obj = slab_obj(pa, i * size);

        obj->next = i + 1 < n ? (i + 1) * size : SLAB_NONE;
        obj->magic = FREE_MAGIC;
    }
    page->slab_free = 0;
    page->slab_in_use = 0;
    __atomic_store_n(&page->owner, (uint8_t)(cls + 1), __ATOMIC_RELAXED);
}

static void *kmalloc_small(unsigned cls)
{
    struct kmalloc_class *c = &classes[cls];
    unsigned long flags = spin_lock_irqsave(&c->lock);

    if (list_empty(&c->partial)) {
        /* Unlocked: pages_or_shrink may take the other classes' locks. */
        spin_unlock_irqrestore(&c->lock, flags);
        uint64_t pa = pages_or_shrink(0);
        if (!pa)
            return NULL;
        struct page *fresh = page_lookup(pa);
        slab_init(fresh, pa, cls);
        flags = spin_lock_irqsave(&c->lock);
        list_add_tail(&c->partial, &fresh->link);
        c->slabs++;
        c->free += class_objects(cls);
        c->empty_slabs++;
    }

    struct page *page = list_entry(list_first(&c->partial), struct page, link);
    uint64_t pa = page_to_pa(page);
    struct free_obj *obj = slab_obj(pa, page->slab_free);

    page->slab_free = (uint16_t)obj->next;
    obj->magic = 0;
    if (page->slab_in_use++ == 0)
        c->empty_slabs--;
    if (page->slab_free == SLAB_NONE)
        list_del(&page->link);
    c->in_use++;
    c->free--;
    spin_unlock_irqrestore(&c->lock, flags);
    return obj;
}

static void *kmalloc_large(size_t size)
{
    unsigned order = 0;

    while (order <= PAGE_ALLOC_MAX_ORDER && (PAGE_SIZE << order) < size)
        order++;
    if (order > PAGE_ALLOC_MAX_ORDER)
        return NULL;

    uint64_t pa = pages_or_shrink(order);

    if (!pa)
        return NULL;
    __atomic_store_n(&page_lookup(pa)->owner, PAGE_OWNER_KMALLOC_LARGE, __ATOMIC_RELAXED);
    count(&totals.large_in_use, 1);
    count(&totals.large_pages, 1L << order);
    return phys_to_virt(pa);
}

void *kmalloc(size_t size)
{
    void *ptr = size <= KMALLOC_MAX_SMALL ? kmalloc_small(class_of(size)) : kmalloc_large(size);

    count(&totals.alloc_calls, 1);
    if (!ptr)
        count(&totals.failed_calls, 1);
    return ptr;
}

void *kzalloc(size_t size)
{
    void *ptr = kmalloc(size);

    if (ptr)
        memset(ptr, 0, size);
    return ptr;
}

static int kfree_large(struct page *page, uint64_t pa)
{
    uint8_t expect = PAGE_OWNER_KMALLOC_LARGE;

    if (pa & (PAGE_SIZE - 1))
        return -EINVAL;
    /* Claim the block atomically so two racing kfrees of one pointer cannot both release it. */
    if (!__atomic_compare_exchange_n(&page->owner, &expect, PAGE_OWNER_NONE, false,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return -EINVAL;

    unsigned order = page->order;
    int err = page_free(pa, order);

    if (err) {
        __atomic_store_n(&page->owner, PAGE_OWNER_KMALLOC_LARGE, __ATOMIC_RELAXED);
        return err;
    }
    count(&totals.large_in_use, -1);
    count(&totals.large_pages, -(1L << order));
    return 0;
}

/* Caller holds the class lock. Is the object at off already on the slab's free list? */
static bool slab_holds_free(const struct page *page, uint64_t slab_pa, uint64_t off, unsigned cls)
{
    uint64_t at = page->slab_free;

    for (unsigned steps = 0; at != SLAB_NONE && steps < class_objects(cls); steps++) {
        if (at == off)
            return true;
        at = slab_obj(slab_pa, at)->next;
    }
    return false;
}

static int kfree_small(unsigned cls, struct page *page, uint64_t pa)
{
    struct kmalloc_class *c = &classes[cls];
    uint64_t slab_pa = pa & ~(PAGE_SIZE - 1);
    uint64_t off = pa & (PAGE_SIZE - 1);
    struct free_obj *obj = slab_obj(slab_pa, off);
    uint64_t release = 0;
    unsigned long flags = spin_lock_irqsave(&c->lock);

    /* The owner is re-read under the lock: the slab may have been released meanwhile. */
    if (__atomic_load_n(&page->owner, __ATOMIC_RELAXED) != cls + 1 || off % class_size(cls) ||
        (obj->magic == FREE_MAGIC && slab_holds_free(page, slab_pa, off, cls))) {
        spin_unlock_irqrestore(&c->lock, flags);
        return -EINVAL;
    }
    obj->next = page->slab_free;
    obj->magic = FREE_MAGIC;
    page->slab_free = (uint16_t)off;
    if (page->slab_in_use-- == class_objects(cls))
        list_add(&c->partial, &page->link); /* was full */
    c->in_use--;
    c->free++;
    if (page->slab_in_use == 0) {
        list_del(&page->link);
        if (c->empty_slabs < EMPTY_SLABS_KEPT) {
            list_add_tail(&c->partial, &page->link);
            c->empty_slabs++;
        } else {
            c->slabs--;
            c->free -= class_objects(cls);
            __atomic_store_n(&page->owner, PAGE_OWNER_NONE, __ATOMIC_RELAXED);
            release = slab_pa;
        }
    }
    spin_unlock_irqrestore(&c->lock, flags);
    /* Cannot be refused: the page is an order-0 block we hold, with its owner cleared. */
    if (release)
        page_free(release, 0);
    return 0;
}

void kfree(void *ptr)
{
    if (!ptr)
        return;

    uint64_t pa = virt_to_phys(ptr);
    struct page *page = page_lookup(pa & ~(PAGE_SIZE - 1));
    uint8_t owner = page ? __atomic_load_n(&page->owner, __ATOMIC_RELAXED) : PAGE_OWNER_NONE;
    int err = -EINVAL;

    count(&totals.free_calls, 1);
    if (owner == PAGE_OWNER_KMALLOC_LARGE)
        err = kfree_large(page, pa);
    else if (owner >= 1 && owner <= KMALLOC_NR_CLASSES)
        err = kfree_small(owner - 1u, page, pa);
    if (err) {
        count(&totals.bad_frees, 1);
        __atomic_store_n(&totals.last_bad_free, (uint64_t)(uintptr_t)ptr, __ATOMIC_RELAXED);
    }
}

unsigned long kmalloc_shrink(void)
{
    unsigned long released = 0;

    for (unsigned cls = 0; cls < KMALLOC_NR_CLASSES; cls++) {
        struct kmalloc_class *c = &classes[cls];
        struct list_node empty;
        unsigned long flags = spin_lock_irqsave(&c->lock);

        /* Empty slabs sit at the tail of partial; move them to a private list. */
        list_init(&empty);
        while (!list_empty(&c->partial)) {
            struct page *page = list_entry(c->partial.prev, struct page, link);

            if (page->slab_in_use)
                break;
            list_del(&page->link);
            list_add(&empty, &page->link);
            c->slabs--;
            c->empty_slabs--;
            c->free -= class_objects(cls);
            __atomic_store_n(&page->owner, PAGE_OWNER_NONE, __ATOMIC_RELAXED);
        }
        spin_unlock_irqrestore(&c->lock, flags);
        while (!list_empty(&empty)) {
            struct list_node *node = list_first(&empty);

            list_del(node);
            page_free(page_to_pa(list_entry(node, struct page, link)), 0);
            released++;
        }
    }
    return released;
}

void kmalloc_stats(struct kmalloc_stats *out)
{
    for (unsigned cls = 0; cls < KMALLOC_NR_CLASSES; cls++) {
        struct kmalloc_class *c = &classes[cls];
        unsigned long flags = spin_lock_irqsave(&c->lock);

        out->classes[cls].size = class_size(cls);
        out->classes[cls].slabs = c->slabs;
        out->classes[cls].in_use = c->in_use;
        out->classes[cls].free = c->free;
        spin_unlock_irqrestore(&c->lock, flags);
    }
    out->large_in_use = __atomic_load_n(&totals.large_in_use, __ATOMIC_RELAXED);
    out->large_pages = __atomic_load_n(&totals.large_pages, __ATOMIC_RELAXED);
    out->alloc_calls = __atomic_load_n(&totals.alloc_calls, __ATOMIC_RELAXED);
    out->free_calls = __atomic_load_n(&totals.free_calls, __ATOMIC_RELAXED);
    out->failed_calls = __atomic_load_n(&totals.failed_calls, __ATOMIC_RELAXED);
    out->bad_frees = __atomic_load_n(&totals.bad_frees, __ATOMIC_RELAXED);
    out->last_bad_free = __atomic_load_n(&totals.last_bad_free, __ATOMIC_RELAXED);
}
