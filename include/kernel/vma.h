/* vma.h - the regions of an address space and the commit charge they hold (used by aspace.c). */
#ifndef KERNEL_VMA_H
#define KERNEL_VMA_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/aspace.h"

/* Boot: the limit is the free memory then, less a reserve for the kernel itself. */
void vma_commit_init(void);
/* Pages charged system-wide, and the limit. */
void vma_commit_stats(uint64_t *used, uint64_t *limit);
/* Charge pages if they fit under the limit. */
bool vma_commit_charge(uint64_t pages);
void vma_commit_uncharge(uint64_t pages);

static inline struct vma *vma_of(struct list_node *n)
{
    return list_entry(n, struct vma, link);
}

/* All below: the caller holds as->lock. */

/* The region holding va, or NULL. */
struct vma *vma_find(struct aspace *as, uint64_t va);
/* No region overlaps [start, end). */
bool vma_range_free(struct aspace *as, uint64_t start, uint64_t end);
/* A region over free addresses [start, end), charged: 0 or -ENOMEM (memory, limit, count). */
int vma_add(struct aspace *as, uint64_t start, uint64_t end, unsigned int prot, enum vma_kind kind);
/* Split v at addr (strictly inside it); spare becomes [addr, v->end). */
void vma_split(struct aspace *as, struct vma *v, uint64_t addr, struct vma *spare);
/*
 * Remove [start, end) from every region, unmapping its pages and returning the charge. At most
 * one region is cut in two; *spare provides its second half (then set to NULL).
 */
void vma_carve(struct aspace *as, uint64_t start, uint64_t end, struct vma **spare);
/* The highest free gap of len bytes between floor and ASPACE_MMAP_TOP: its start, or 0. */
uint64_t vma_find_gap(struct aspace *as, uint64_t len, uint64_t floor);

#endif
