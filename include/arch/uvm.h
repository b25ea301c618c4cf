/* uvm.h - user address spaces in hardware: TTBR0_EL1 tables, ASIDs, TLB upkeep, user access. */
#ifndef ARCH_UVM_H
#define ARCH_UVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "arch/trap.h"

/* User virtual addresses are [0, UVM_USER_END): the TTBR0 half of the 39-bit space. */
#define UVM_USER_END (1UL << VA_BITS)

/* Page permissions, with the Linux PROT_* values. */
#define UVM_READ  1u
#define UVM_WRITE 2u
#define UVM_EXEC  4u

/**
 * The translation tables of one user address space. root and asid are fixed for its life. refs
 * (atomic) counts the owner (kernel/aspace.c, until uvm_release) and every CPU that has the
 * space in TTBR0_EL1: the root table and the ASID live until the last of them lets go, so no
 * CPU ever walks a freed table or keeps TLB entries for an ASID given to someone else.
 * The caller serialises changes to the tables (the owner's lock).
 */
struct uvm_space {
    uint64_t root; /* PA of the level-1 table */
    uint16_t asid;
    int refs;
    void *owner; /* the kernel's view of this space (struct aspace), for fault handling */
};

/* Boot CPU: how many ASIDs the CPUs have (ID_AA64MMFR0_EL1.ASIDBits). */
void uvm_init(void);

/* An empty space with its own ASID; NULL when out of memory or ASIDs. */
struct uvm_space *uvm_create(void);
/* The owner is done: drop every page, free the tables, then let go (see refs). */
void uvm_release(struct uvm_space *s);

/*
 * Install s in TTBR0_EL1 of this CPU (IRQs masked or preemption disabled). The space this CPU
 * had before is let go of.
 */
void uvm_activate(struct uvm_space *s);

/* The space in this CPU's TTBR0_EL1 (a user access in progress uses it), or NULL. */
struct uvm_space *uvm_active(void);

/* The level-3 descriptor for va, or NULL; with alloc, missing tables are made (NULL: no memory). */
uint64_t *uvm_walk(struct uvm_space *s, uint64_t va, bool alloc);

/* A descriptor mapping page pa for EL0 with prot (nG, PXN, inner shareable, normal memory). */
uint64_t uvm_pte_make(uint64_t pa, unsigned int prot);
static inline bool uvm_pte_present(uint64_t pte)
{
    return pte & 1;
}
uint64_t uvm_pte_pa(uint64_t pte);
unsigned int uvm_pte_prot(uint64_t pte);

/*
 * Write descriptor pte at *ptep (from uvm_walk) for va. Replacing a valid descriptor follows
 * break-before-make (Arm ARM D8.14.1): invalid, TLB invalidate on all CPUs, then the new one.
 */
void uvm_set_pte(struct uvm_space *s, uint64_t va, uint64_t *ptep, uint64_t pte);

/* Drop one mapping's reference to page pa (freed when it was the last). */
void uvm_page_unref(uint64_t pa);

/* Unmap [start, end): every page mapped there loses this mapping's reference. Returns pages. */
uint64_t uvm_unmap(struct uvm_space *s, uint64_t start, uint64_t end);
/*
 * Change the permissions of the pages mapped in [start, end) to prot; a page still shared
 * copy-on-write (more than one reference) stays read-only until its write fault.
 */
void uvm_protect(struct uvm_space *s, uint64_t start, uint64_t end, unsigned int prot);
/*
 * fork: map every page of src in [start, end) into dst too (one more reference each). With cow,
 * both copies become read-only, so the first write of either side copies the page. -ENOMEM if a
 * table of dst cannot be allocated (dst keeps what it has so far).
 */
int uvm_share_range(struct uvm_space *dst, struct uvm_space *src, uint64_t start, uint64_t end,
                    bool cow);
/* All TLB entries of s, on every CPU. */
void uvm_flush_all(struct uvm_space *s);

/* The kernel wrote instructions into page pa: make instruction fetches see them. */
void uvm_sync_icache(uint64_t pa);

/* True if [addr, addr + len) is a user range (no wrap). */
static inline bool uvm_range_ok(uint64_t addr, uint64_t len)
{
    return addr <= UVM_USER_END && len <= UVM_USER_END - addr;
}

/*
 * Access to user memory of s from the kernel, with EL0's permissions (LDTR/STTR). A fault that
 * kernel/fault.c cannot resolve makes the access fail with -EFAULT instead of crashing.
 */
int uvm_copy_in(struct uvm_space *s, void *dst, uint64_t src, size_t n);
int uvm_copy_out(struct uvm_space *s, uint64_t dst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max - 1 characters: its length, -EFAULT, or
 * -ENAMETOOLONG when no NUL comes within max bytes. */
long uvm_strncpy_in(struct uvm_space *s, char *dst, uint64_t src, size_t max);
/* One aligned 32-bit word in a single access (futex words): 0 or -EFAULT. */
int uvm_read_u32(struct uvm_space *s, uint64_t addr, uint32_t *out);

/* Is pc inside the user-access routines, and if so make the faulting access return -EFAULT. */
bool uvm_uaccess_pc(uint64_t pc);
void uvm_uaccess_fixup(struct trap_frame *tf);

#endif
