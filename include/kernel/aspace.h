/* aspace.h - a process's address space: regions, brk, anonymous mmap, page faults, fork copies. */
#ifndef KERNEL_ASPACE_H
#define KERNEL_ASPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/uvm.h"
#include "kernel/spinlock.h"
#include "lib/list.h"

/* Layout: program image from 0x400000 up, then the brk heap; mmap regions below the stack. */
#define ASPACE_STACK_TOP  0x7fffff0000UL
#define ASPACE_STACK_SIZE (1UL << 20)
#define ASPACE_MMAP_TOP   (ASPACE_STACK_TOP - ASPACE_STACK_SIZE - (16UL << 20))
#define ASPACE_MIN_ADDR   0x10000UL /* nothing is mapped below: NULL pointers fault */
/* One read-only page above the mmap area: the signal return trampoline (Linux has it in the vDSO).
 */
#define ASPACE_SIGPAGE  ASPACE_MMAP_TOP
#define ASPACE_MAX_VMAS 512

enum vma_kind { VMA_IMAGE, VMA_HEAP, VMA_STACK, VMA_MMAP };

/** A region of the address space: [start, end), page aligned, with its permissions. */
struct vma {
    struct list_node link;
    uint64_t start, end;
    unsigned int prot; /* UVM_READ | UVM_WRITE | UVM_EXEC */
    enum vma_kind kind;
};

/**
 * An address space. lock protects the regions, brk, the counters and the tables in uvm; it is a
 * spinlock because page faults on user copies take it with preemption off. Never copy to or from
 * user memory while holding it (the fault would take it again). users is atomic.
 *
 * Memory is committed, not overcommitted: every region is charged in full against a system-wide
 * limit when it is made, so brk and mmap say ENOMEM up front and a later page fault finds its
 * page. (Page tables and kernel stacks come from a reserve kept outside the limit.)
 */
struct aspace {
    struct uvm_space *uvm;
    spinlock_t lock;
    struct list_node vmas; /* sorted, not overlapping */
    unsigned int nvmas;
    uint64_t brk_base;  /* heap start (page aligned), just above the image */
    uint64_t brk;       /* current break; the heap region ends at brk rounded up */
    uint64_t committed; /* pages charged */
    uint64_t resident;  /* pages mapped */
    int users;          /* processes sharing it (CLONE_VM) */
};

struct aspace *aspace_create(void); /* NULL: out of memory or ASIDs */
/* Copy-on-write copy for fork: -ENOMEM (commit limit or memory) or 0 with *out set. */
int aspace_fork(struct aspace *parent, struct aspace **out);
void aspace_get(struct aspace *as);
void aspace_put(struct aspace *as); /* the last user frees it */

/* Make this CPU use as for EL0 and user copies (IRQs masked or preemption off). */
void aspace_activate(struct aspace *as);

/* A region at exactly [start, start + len): -EINVAL (bad range), -EEXIST (overlap), -ENOMEM. */
int aspace_map_fixed(struct aspace *as, uint64_t start, uint64_t len, unsigned int prot,
                     enum vma_kind kind);
/*
 * Anonymous mmap: at addr if fixed (replacing what was there), else near the hint or wherever
 * it fits. Returns the address or a negative errno.
 */
int64_t aspace_mmap(struct aspace *as, uint64_t addr, uint64_t len, unsigned int prot, bool fixed,
                    bool noreplace);
int aspace_munmap(struct aspace *as, uint64_t addr, uint64_t len);
/* MADV_DONTNEED: drop the pages of [addr, addr + len); they read as zero when touched again. */
int aspace_discard(struct aspace *as, uint64_t addr, uint64_t len);
int aspace_mprotect(struct aspace *as, uint64_t addr, uint64_t len, unsigned int prot);
/* Set the heap start (exec, once the image is loaded). */
void aspace_set_brk_base(struct aspace *as, uint64_t base);
/* brk(2): move the break to newbrk if possible; returns the break in force afterwards. */
uint64_t aspace_brk(struct aspace *as, uint64_t newbrk);

/*
 * Resolve a fault at va for access (UVM_READ, UVM_WRITE or UVM_EXEC): demand-zero or copy-on-
 * write. 0 when the access can be retried, -EFAULT when no region allows it, -ENOMEM.
 */
int aspace_fault(struct aspace *as, uint64_t va, unsigned int access);

/* Loader: write len bytes at va regardless of the region's permissions (pages made as needed). */
int aspace_write(struct aspace *as, uint64_t va, const void *data, size_t len);

#endif
