/* stage2.h - a VM's stage-2 translation (IPA -> PA): 4K granule tables, VMIDs, VTCR/VTTBR. */
#ifndef VMM_STAGE2_H
#define VMM_STAGE2_H

#include <stdint.h>

#include "kernel/spinlock.h"

#define STAGE2_MIN_IPA_BITS 40
#define STAGE2_MAX_IPA_BITS 48 /* 52 needs FEAT_LPA descriptors; the caller clamps */
#define STAGE2_BLOCK_SIZE   (1UL << 21)
#define STAGE2_PAGE_SIZE    (1UL << 12)

/* 8-bit VMIDs (VTCR_EL2.VS = 0, all ARMv8.0 has); VMID 0 is never handed out. */
#define STAGE2_NR_VMIDS 256

/* Access a mapping grants; S2_DEVICE selects Device-nGnRE instead of Normal write-back. */
#define S2_READ   1u
#define S2_WRITE  2u
#define S2_EXEC   4u
#define S2_DEVICE 8u

/**
 * One VM's stage-2 tables. The start level has 2^(ipa_bits - 39) concatenated level-1 tables
 * (40..43 bits) or one level-0 table (44..48 bits), as KVM chooses (Arm ARM, "Concatenated
 * translation tables"). lock protects the tables and nr_tables; the rest is fixed after init.
 */
struct stage2 {
    spinlock_t lock;
    uint64_t root_pa;     /* start-level table(s), aligned to their total size */
    unsigned root_order;  /* page_alloc order of the root */
    unsigned ipa_bits;    /* also the output (PA) size: both come from PARange */
    unsigned start_level; /* 0 or 1 */
    uint16_t vmid;
    uint64_t nr_tables;   /* table pages below the root */
    uint64_t tlb_flushes; /* TLB invalidations issued for this VMID */
};

/** What a walk found for one IPA. */
struct stage2_mapping {
    uint64_t pa;
    unsigned prot;  /* S2_* */
    unsigned level; /* 2: a 2 MiB block, 3: a 4 KiB page */
};

/* IPA bits for an ID_AA64MMFR0_EL1.PARange value (capped at 48), or -ENOTSUP below 40. */
int stage2_parange_bits(unsigned parange);

/* Empty tables for an ipa_bits (40..48) IPA space and a fresh VMID: 0, -EINVAL, -ENOMEM or
 * -ENOSPC (no VMID left). */
int stage2_init(struct stage2 *s2, unsigned ipa_bits);
/* Invalidate the VMID's TLB entries, free every table and the VMID (not the mapped memory). */
void stage2_destroy(struct stage2 *s2);

/*
 * Map [ipa, ipa + size) to [pa, pa + size) with prot (S2_READ required). 4 KiB aligned; 2 MiB
 * blocks wherever both addresses are 2 MiB aligned over a whole block. -EEXIST if any part is
 * already mapped (nothing is changed then), -ERANGE beyond the IPA or PA size, -ENOMEM.
 */
int stage2_map(struct stage2 *s2, uint64_t ipa, uint64_t pa, uint64_t size, unsigned prot);
/* Remove any mappings in [ipa, ipa + size), splitting blocks it cuts; empty tables are freed.
 * 0, -EINVAL, -ERANGE, or -ENOMEM when a block could not be split (the rest is unmapped). */
int stage2_unmap(struct stage2 *s2, uint64_t ipa, uint64_t size);
/* Walk the tables for ipa: 0 and *out, or -ENOENT when nothing is mapped there. */
int stage2_translate(struct stage2 *s2, uint64_t ipa, struct stage2_mapping *out);

/* VTTBR_EL2 for this VM (root table and VMID) and VTCR_EL2 for its IPA size. */
uint64_t stage2_vttbr(const struct stage2 *s2);
uint64_t stage2_vtcr(const struct stage2 *s2);

/* The VMID allocator behind stage2_init: 1..255, or -ENOSPC. Free: 0, or -EINVAL for a VMID
 * that is not allocated. */
int stage2_vmid_alloc(void);
int stage2_vmid_free(unsigned vmid);

#endif
