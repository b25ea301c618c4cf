/* vma.c - the regions of an address space (a sorted list) and the system-wide commit charge. */
#include "kernel/vma.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"

#define COMMIT_RESERVE_MIN 2048 /* pages (8 MiB) kept outside the limit for the kernel */

/* System-wide commit charge (atomic) and its limit, in pages. */
static uint64_t commit_used;
static uint64_t commit_limit;

void vma_commit_init(void)
{
    struct page_stats st;

    page_alloc_stats(&st);
    uint64_t reserve = st.free_pages / 16;
    if (reserve < COMMIT_RESERVE_MIN)
        reserve = COMMIT_RESERVE_MIN;
    commit_limit = st.free_pages > reserve ? st.free_pages - reserve : 0;
}

void vma_commit_stats(uint64_t *used, uint64_t *limit)
{
    *used = __atomic_load_n(&commit_used, __ATOMIC_RELAXED);
    *limit = commit_limit;
}

bool vma_commit_charge(uint64_t pages)
{
    uint64_t used = __atomic_load_n(&commit_used, __ATOMIC_RELAXED);

    do {
        if (pages > commit_limit || used > commit_limit - pages)
            return false;
    } while (!__atomic_compare_exchange_n(&commit_used, &used, used + pages, true, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    return true;
}

void vma_commit_uncharge(uint64_t pages)
{
    __atomic_sub_fetch(&commit_used, pages, __ATOMIC_ACQ_REL);
}

struct vma *vma_find(struct aspace *as, uint64_t va)
{
    for (struct list_node *n = as->vmas.next; n != &as->vmas; n = n->next) {
        struct vma *v = vma_of(n);
        if (va < v->start)
            return NULL;
        if (va < v->end)
            return v;
    }
    return NULL;
}

bool vma_range_free(struct aspace *as, uint64_t start, uint64_t end)
{
    for (struct list_node *n = as->vmas.next; n != &as->vmas; n = n->next) {
        struct vma *v = vma_of(n);
        if (v->start < end && start < v->end)
            return false;
    }
    return true;
}

static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
    return a->end == b->start && a->prot == b->prot && a->kind == b->kind;
}

/* Link v in address order, merging it into a neighbour of the same kind and permissions. */
static void vma_link(struct aspace *as, struct vma *v)
{
    struct list_node *after = &as->vmas;

    for (struct list_node *n = as->vmas.next; n != &as->vmas && vma_of(n)->start < v->start;
         n = n->next)
        after = n;
    list_add(after, &v->link);
    as->nvmas++;
    struct list_node *prev = v->link.prev, *next = v->link.next;
    if (next != &as->vmas && vma_mergeable(v, vma_of(next))) {
        v->end = vma_of(next)->end;
        list_del(next);
        kfree(vma_of(next));
        as->nvmas--;
    }
    if (prev != &as->vmas && vma_mergeable(vma_of(prev), v)) {
        vma_of(prev)->end = v->end;
        list_del(&v->link);
        kfree(v);
        as->nvmas--;
    }
}

/* Add a region over free addresses, charging it. Caller holds as->lock. */
int vma_add(struct aspace *as, uint64_t start, uint64_t end, unsigned int prot, enum vma_kind kind)
{
    uint64_t pages = (end - start) >> PAGE_SHIFT;

    if (as->nvmas >= ASPACE_MAX_VMAS)
        return -ENOMEM;
    struct vma *v = kzalloc(sizeof(*v));
    if (!v)
        return -ENOMEM;
    if (!vma_commit_charge(pages)) {
        kfree(v);
        return -ENOMEM;
    }
    as->committed += pages;
    v->start = start;
    v->end = end;
    v->prot = prot;
    v->kind = kind;
    vma_link(as, v);
    return 0;
}

/*
 * Split v at addr (strictly inside it) using spare, which becomes [addr, v->end). Caller holds
 * as->lock.
 */
void vma_split(struct aspace *as, struct vma *v, uint64_t addr, struct vma *spare)
{
    *spare = *v;
    spare->start = addr;
    v->end = addr;
    list_add(&v->link, &spare->link);
    as->nvmas++;
}

/*
 * Remove [start, end) from every region, unmapping its pages and returning the charge. At most
 * one region is cut in two; spare provides its second half (consumed: *spare set to NULL).
 */
void vma_carve(struct aspace *as, uint64_t start, uint64_t end, struct vma **spare)
{
    struct list_node *n = as->vmas.next;

    while (n != &as->vmas) {
        struct vma *v = vma_of(n);
        n = n->next;
        if (v->end <= start || v->start >= end)
            continue;
        if (v->start < start && v->end > end) {
            vma_split(as, v, end, *spare);
            *spare = NULL;
            n = v->link.next; /* the new upper half, which is outside the range */
        }
        uint64_t lo = v->start > start ? v->start : start;
        uint64_t hi = v->end < end ? v->end : end;
        as->resident -= uvm_unmap(as->uvm, lo, hi);
        vma_commit_uncharge((hi - lo) >> PAGE_SHIFT);
        as->committed -= (hi - lo) >> PAGE_SHIFT;
        if (lo == v->start && hi == v->end) {
            list_del(&v->link);
            kfree(v);
            as->nvmas--;
        } else if (lo == v->start) {
            v->start = hi;
        } else {
            v->end = lo;
        }
    }
}

uint64_t vma_find_gap(struct aspace *as, uint64_t len, uint64_t floor)
{
    uint64_t hi = ASPACE_MMAP_TOP;

    if (floor < ASPACE_MIN_ADDR)
        floor = ASPACE_MIN_ADDR;
    for (struct list_node *n = as->vmas.prev;; n = n->prev) {
        uint64_t lo = floor;
        if (n != &as->vmas) {
            struct vma *v = vma_of(n);
            if (v->start >= hi)
                continue;
            if (v->end > lo)
                lo = v->end;
        }
        if (hi >= lo && hi - lo >= len)
            return hi - len;
        if (n == &as->vmas || vma_of(n)->start <= floor)
            return 0;
        hi = vma_of(n)->start;
    }
}
