/* stage2.c - stage-2 translation tables for one VM (4K granule) and the VMID allocator. */
#include "vmm/stage2.h"

#include <stdbool.h>

#include "arch/memlayout.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"
#include "lib/string.h"
#ifndef AVATAR_HOST
#include "arch/sysreg.h"
#endif

/* Stage-2 descriptor fields (Arm ARM, "VMSAv8-64 translation table format descriptors"). */
#define DESC_VALID        (1UL << 0)
#define DESC_TABLE        (1UL << 1) /* a table at levels 0-2, a page at level 3 */
#define DESC_ADDR_MASK    0x0000fffffffff000UL
#define S2_MEMATTR_MASK   (0xfUL << 2)
#define S2_MEMATTR_NORMAL (0xfUL << 2) /* MemAttr 0b1111: Normal, outer and inner write-back */
#define S2_MEMATTR_DEVICE (0x1UL << 2) /* MemAttr 0b0001: Device-nGnRE */
#define S2AP_READ         (1UL << 6)
#define S2AP_WRITE        (1UL << 7)
#define S2_SH_INNER       (3UL << 8)
#define S2_AF             (1UL << 10)
#define S2_XN             (1UL << 54)

#define ENTRIES    512
#define LAST_LEVEL 3

/* VTCR_EL2 fields (Arm ARM, VTCR_EL2: T0SZ, SL0, IRGN0, ORGN0, SH0, TG0 = 4K, PS). */
#define VTCR_RES1        (1UL << 31)
#define VTCR_SL0_SHIFT   6
#define VTCR_IRGN0_WB    (1UL << 8)
#define VTCR_ORGN0_WB    (1UL << 10)
#define VTCR_SH0_INNER   (3UL << 12)
#define VTCR_PS_SHIFT    16
#define VTTBR_VMID_SHIFT 48

static spinlock_t vmid_lock = SPINLOCK_INIT;
static uint64_t vmid_used[STAGE2_NR_VMIDS / 64]; /* vmid_lock */

int stage2_vmid_alloc(void)
{
    int vmid = -ENOSPC;

    spin_lock(&vmid_lock);
    for (unsigned v = 1; v < STAGE2_NR_VMIDS; v++) {
        if (!(vmid_used[v / 64] & (1UL << (v % 64)))) {
            vmid_used[v / 64] |= 1UL << (v % 64);
            vmid = (int)v;
            break;
        }
    }
    spin_unlock(&vmid_lock);
    return vmid;
}

int stage2_vmid_free(unsigned vmid)
{
    int err = -EINVAL;

    spin_lock(&vmid_lock);
    if (vmid > 0 && vmid < STAGE2_NR_VMIDS && (vmid_used[vmid / 64] & (1UL << (vmid % 64)))) {
        vmid_used[vmid / 64] &= ~(1UL << (vmid % 64));
        err = 0;
    }
    spin_unlock(&vmid_lock);
    return err;
}

int stage2_parange_bits(unsigned parange)
{
    static const unsigned bits[] = {32, 36, 40, 42, 44, 48};

    if (parange >= sizeof(bits) / sizeof(bits[0]))
        return STAGE2_MAX_IPA_BITS; /* 52 bits and beyond: we use 48 */
    return bits[parange] < STAGE2_MIN_IPA_BITS ? -ENOTSUP : (int)bits[parange];
}

static unsigned level_shift(unsigned level)
{
    return 39 - 9 * level;
}

static uint64_t level_size(unsigned level)
{
    return 1UL << level_shift(level);
}

/* The start level indexes across all its concatenated tables; the others within one table. */
static unsigned entry_index(const struct stage2 *s2, unsigned level, uint64_t ipa)
{
    uint64_t index = ipa >> level_shift(level);

    return (unsigned)(level == s2->start_level ? index : index % ENTRIES);
}

static uint64_t *table_of(uint64_t desc)
{
    return phys_to_virt(desc & DESC_ADDR_MASK);
}

/* A single 64-bit store, so a table walker on another CPU never sees half a descriptor. */
static void write_desc(uint64_t *entry, uint64_t desc)
{
    __atomic_store_n(entry, desc, __ATOMIC_RELAXED);
}

/* Make descriptor writes visible to the table walkers of every CPU before they are relied on. */
static void publish(void)
{
#ifndef AVATAR_HOST
    __asm__ volatile("dsb ishst" ::: "memory");
#endif
}

/*
 * Invalidate every TLB entry of this VMID on all CPUs. TLBI VMALLS12E1IS acts on the VMID in
 * VTTBR_EL2, so borrow the register with IRQs masked (no world switch can come in between).
 */
static void tlb_flush(struct stage2 *s2)
{
    s2->tlb_flushes++;
#ifndef AVATAR_HOST
    unsigned long flags = arch_irq_save();
    uint64_t old = read_sysreg(vttbr_el2);

    write_sysreg(vttbr_el2, stage2_vttbr(s2));
    isb();
    __asm__ volatile("dsb ishst\n tlbi vmalls12e1is\n dsb ish\n isb" ::: "memory");
    write_sysreg(vttbr_el2, old);
    isb();
    arch_irq_restore(flags);
#endif
}

static uint64_t prot_to_attrs(unsigned prot)
{
    uint64_t a = S2_AF;

    if (prot & S2_DEVICE)
        a |= S2_MEMATTR_DEVICE | S2_XN; /* never execute from device memory */
    else
        a |= S2_MEMATTR_NORMAL | S2_SH_INNER | ((prot & S2_EXEC) ? 0 : S2_XN);
    a |= (prot & S2_READ) ? S2AP_READ : 0;
    a |= (prot & S2_WRITE) ? S2AP_WRITE : 0;
    return a;
}

static unsigned attrs_to_prot(uint64_t d)
{
    unsigned prot = 0;

    prot |= (d & S2AP_READ) ? S2_READ : 0;
    prot |= (d & S2AP_WRITE) ? S2_WRITE : 0;
    prot |= (d & S2_XN) ? 0 : S2_EXEC;
    prot |= (d & S2_MEMATTR_MASK) == S2_MEMATTR_DEVICE ? S2_DEVICE : 0;
    return prot;
}

static bool is_leaf(uint64_t d, unsigned level)
{
    return level == LAST_LEVEL || !(d & DESC_TABLE);
}

/* The end of the level-sized entry holding ipa, clipped to end. */
static uint64_t entry_end(uint64_t ipa, uint64_t end, unsigned level)
{
    uint64_t next = (ipa & ~(level_size(level) - 1)) + level_size(level);

    return next < end ? next : end;
}

static bool table_empty(const uint64_t *table)
{
    for (unsigned i = 0; i < ENTRIES; i++) {
        if (table[i] & DESC_VALID)
            return false;
    }
    return true;
}

/* True if nothing in [ipa, end) is mapped below table. */
static bool range_empty(const struct stage2 *s2, const uint64_t *table, unsigned level,
                        uint64_t ipa, uint64_t end)
{
    for (; ipa < end; ipa = entry_end(ipa, end, level)) {
        uint64_t d = table[entry_index(s2, level, ipa)];
        if (!(d & DESC_VALID))
            continue;
        if (is_leaf(d, level) ||
            !range_empty(s2, table_of(d), level + 1, ipa, entry_end(ipa, end, level)))
            return false;
    }
    return true;
}

/* The table an entry points to, made (zeroed) if the entry is empty. */
static uint64_t *child_table(struct stage2 *s2, uint64_t *entry)
{
    uint64_t d = *entry, pa;

    if (d & DESC_VALID)
        return table_of(d);
    pa = page_alloc_zeroed(0);
    if (!pa)
        return NULL;
    s2->nr_tables++;
    write_desc(entry, pa | DESC_TABLE | DESC_VALID);
    return phys_to_virt(pa);
}

/* Map an empty range: 2 MiB blocks where a whole aligned block fits, pages elsewhere. */
static int map_range(struct stage2 *s2, uint64_t *table, unsigned level, uint64_t ipa, uint64_t end,
                     uint64_t pa, uint64_t attrs)
{
    while (ipa < end) {
        uint64_t next = entry_end(ipa, end, level);
        uint64_t *entry = &table[entry_index(s2, level, ipa)];
        bool whole = next - ipa == level_size(level) && !(pa & (level_size(level) - 1));

        if (level == LAST_LEVEL) {
            write_desc(entry, pa | attrs | DESC_TABLE | DESC_VALID);
        } else if (level == 2 && whole) {
            write_desc(entry, pa | attrs | DESC_VALID);
        } else {
            uint64_t *child = child_table(s2, entry);
            if (!child)
                return -ENOMEM;
            int err = map_range(s2, child, level + 1, ipa, next, pa, attrs);
            if (err)
                return err;
        }
        pa += next - ipa;
        ipa = next;
    }
    return 0;
}

/*
 * Replace a block by a table of the next level with the same mappings. Break-before-make
 * (Arm ARM, "Using break-before-make when updating translation table entries"): the block is
 * invalidated and flushed from the TLBs before the table goes in, so no CPU ever holds both
 * translations.
 */
static int split_block(struct stage2 *s2, uint64_t *entry, unsigned level)
{
    uint64_t d = *entry, pa = page_alloc_zeroed(0);
    uint64_t attrs = d & ~DESC_ADDR_MASK & ~DESC_TABLE;
    uint64_t step = level_size(level + 1);
    uint64_t kind = level + 1 == LAST_LEVEL ? DESC_TABLE : 0;
    uint64_t *t;

    if (!pa)
        return -ENOMEM;
    t = phys_to_virt(pa);
    for (unsigned i = 0; i < ENTRIES; i++)
        t[i] = ((d & DESC_ADDR_MASK) + i * step) | attrs | kind;
    write_desc(entry, 0);
    tlb_flush(s2);
    publish();
    write_desc(entry, pa | DESC_TABLE | DESC_VALID);
    s2->nr_tables++;
    return 0;
}

static int unmap_range(struct stage2 *s2, uint64_t *table, unsigned level, uint64_t ipa,
                       uint64_t end, bool *dirty)
{
    int err = 0;

    while (ipa < end) {
        uint64_t next = entry_end(ipa, end, level);
        uint64_t *entry = &table[entry_index(s2, level, ipa)];
        uint64_t d = *entry;

        if (d & DESC_VALID && is_leaf(d, level) && next - ipa != level_size(level)) {
            int e = split_block(s2, entry, level);
            if (e) {
                err = e; /* the block stays whole and mapped */
                ipa = next;
                continue;
            }
            d = *entry;
        }
        if (!(d & DESC_VALID)) {
            /* nothing here */
        } else if (is_leaf(d, level)) {
            write_desc(entry, 0);
            *dirty = true;
        } else {
            uint64_t *child = table_of(d);
            int e = unmap_range(s2, child, level + 1, ipa, next, dirty);
            if (e)
                err = e;
            if (table_empty(child)) {
                /* Walks may have cached the table: flush before the page is reused. */
                write_desc(entry, 0);
                tlb_flush(s2);
                *dirty = false;
                page_free(virt_to_phys(child), 0);
                s2->nr_tables--;
            }
        }
        ipa = next;
    }
    return err;
}

static int check_range(const struct stage2 *s2, uint64_t addr, uint64_t size)
{
    uint64_t limit = 1UL << s2->ipa_bits;

    if (size == 0 || (addr | size) & (STAGE2_PAGE_SIZE - 1))
        return -EINVAL;
    if (addr >= limit || size > limit - addr)
        return -ERANGE;
    return 0;
}

int stage2_map(struct stage2 *s2, uint64_t ipa, uint64_t pa, uint64_t size, unsigned prot)
{
    int err = check_range(s2, ipa, size);

    if (!err)
        err = check_range(s2, pa, size);
    if (!err && (!(prot & S2_READ) || (prot & ~(S2_READ | S2_WRITE | S2_EXEC | S2_DEVICE))))
        err = -EINVAL;
    if (err)
        return err;
    spin_lock(&s2->lock);
    uint64_t *root = phys_to_virt(s2->root_pa);
    if (!range_empty(s2, root, s2->start_level, ipa, ipa + size)) {
        err = -EEXIST;
    } else {
        err = map_range(s2, root, s2->start_level, ipa, ipa + size, pa, prot_to_attrs(prot));
        if (err) {
            /* The range was empty before: take back what was mapped of it. */
            bool dirty = false;
            unmap_range(s2, root, s2->start_level, ipa, ipa + size, &dirty);
        }
    }
    publish();
    spin_unlock(&s2->lock);
    return err;
}

int stage2_unmap(struct stage2 *s2, uint64_t ipa, uint64_t size)
{
    bool dirty = false;
    int err = check_range(s2, ipa, size);

    if (err)
        return err;
    spin_lock(&s2->lock);
    err = unmap_range(s2, phys_to_virt(s2->root_pa), s2->start_level, ipa, ipa + size, &dirty);
    if (dirty)
        tlb_flush(s2);
    spin_unlock(&s2->lock);
    return err;
}

int stage2_translate(struct stage2 *s2, uint64_t ipa, struct stage2_mapping *out)
{
    int err = -ENOENT;

    if (ipa >> s2->ipa_bits)
        return -ERANGE;
    spin_lock(&s2->lock);
    const uint64_t *table = phys_to_virt(s2->root_pa);
    for (unsigned level = s2->start_level; level <= LAST_LEVEL; level++) {
        uint64_t d = table[entry_index(s2, level, ipa)];
        if (!(d & DESC_VALID) || (level == LAST_LEVEL && !(d & DESC_TABLE)))
            break;
        if (!is_leaf(d, level)) {
            table = table_of(d);
            continue;
        }
        out->pa = (d & DESC_ADDR_MASK & ~(level_size(level) - 1)) | (ipa & (level_size(level) - 1));
        out->prot = attrs_to_prot(d);
        out->level = level;
        err = 0;
        break;
    }
    spin_unlock(&s2->lock);
    return err;
}

int stage2_init(struct stage2 *s2, unsigned ipa_bits)
{
    int vmid;

    memset(s2, 0, sizeof(*s2));
    if (ipa_bits < STAGE2_MIN_IPA_BITS || ipa_bits > STAGE2_MAX_IPA_BITS)
        return -EINVAL;
    spin_init(&s2->lock);
    s2->ipa_bits = ipa_bits;
    /* Up to 16 concatenated level-1 tables save a level below 44 bits (as KVM does). */
    s2->start_level = ipa_bits <= 43 ? 1 : 0;
    s2->root_order = s2->start_level == 1 ? ipa_bits - 39 : 0;
    vmid = stage2_vmid_alloc();
    if (vmid < 0)
        return vmid;
    s2->root_pa = page_alloc_zeroed(s2->root_order);
    if (!s2->root_pa) {
        stage2_vmid_free((unsigned)vmid);
        return -ENOMEM;
    }
    s2->vmid = (uint16_t)vmid;
    return 0;
}

static void free_tables(struct stage2 *s2, uint64_t *table, unsigned level, unsigned nentries)
{
    for (unsigned i = 0; i < nentries; i++) {
        uint64_t d = table[i];
        if (!(d & DESC_VALID) || is_leaf(d, level))
            continue;
        free_tables(s2, table_of(d), level + 1, ENTRIES);
        page_free(d & DESC_ADDR_MASK, 0);
        s2->nr_tables--;
    }
}

void stage2_destroy(struct stage2 *s2)
{
    if (!s2->root_pa)
        return;
    spin_lock(&s2->lock);
    tlb_flush(s2);
    free_tables(s2, phys_to_virt(s2->root_pa), s2->start_level, ENTRIES << s2->root_order);
    page_free(s2->root_pa, s2->root_order);
    s2->root_pa = 0;
    stage2_vmid_free(s2->vmid);
    s2->vmid = 0;
    spin_unlock(&s2->lock);
}

uint64_t stage2_vttbr(const struct stage2 *s2)
{
    return s2->root_pa | (uint64_t)s2->vmid << VTTBR_VMID_SHIFT;
}

uint64_t stage2_vtcr(const struct stage2 *s2)
{
    /* PS: the PARange encoding of the output size (32, 36, 40, 42, 44, 48 bits). */
    static const unsigned ps_bits[] = {32, 36, 40, 42, 44, 48};
    uint64_t ps = 0;

    while (ps < 5 && ps_bits[ps] < s2->ipa_bits)
        ps++;
    return VTCR_RES1 | (64 - s2->ipa_bits) | (uint64_t)(2 - s2->start_level) << VTCR_SL0_SHIFT |
           VTCR_IRGN0_WB | VTCR_ORGN0_WB | VTCR_SH0_INNER | ps << VTCR_PS_SHIFT;
}
