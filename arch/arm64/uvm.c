/* uvm.c - user translation tables in TTBR0_EL1: ASIDs, descriptors, TLB maintenance, uaccess. */
#include "arch/uvm.h"
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "arch/mmu_defs.h"
#include "arch/sysreg.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"

#define PT_ENTRIES       512
#define L1_SHIFT         30
#define L2_SHIFT         21
#define PTE_TABLE_DESC   (PTE_TABLE | PTE_VALID)
#define UNMAP_BATCH      32 /* pages cleared before one TLB invalidation covers them */
#define CNTKCTL_EL0VCTEN BIT(1)
#define ASID_MAX         65536

/* asid_lock protects asid_map and asid_next. ASID 0 is never given out: TTBR0 starts with it. */
static spinlock_t asid_lock = SPINLOCK_INIT;
static uint64_t asid_map[ASID_MAX / 64];
static unsigned int asid_count = 256;
static unsigned int asid_next = 1;
static unsigned int dcache_line = 64;

/** Per CPU, touched by that CPU only with IRQs masked: the space in its TTBR0_EL1. */
struct uvm_cpu {
    struct uvm_space *active;
    bool ttbr0_on; /* TCR_EL1.EPD0 cleared (walks through TTBR0 allowed) */
};
static struct uvm_cpu uvm_cpus[MAX_CPUS];

void uvm_init(void)
{
    /* ID_AA64MMFR0_EL1.ASIDBits: 0b0010 means 16 bits (TCR_EL1.AS is set at boot), else 8. */
    if (((read_sysreg(id_aa64mmfr0_el1) >> 4) & 0xf) == 2)
        asid_count = ASID_MAX;
    /* CTR_EL0.DminLine: log2 of the smallest data cache line in words. */
    dcache_line = 4u << ((read_sysreg(ctr_el0) >> 16) & 0xf);
}

static int asid_alloc(void)
{
    unsigned long flags = spin_lock_irqsave(&asid_lock);
    int asid = -1;

    for (unsigned int n = 0; n < asid_count; n++) {
        unsigned int a = (asid_next + n) % asid_count;
        if (a && !(asid_map[a / 64] & (1UL << (a % 64)))) {
            asid_map[a / 64] |= 1UL << (a % 64);
            asid_next = a + 1;
            asid = (int)a;
            break;
        }
    }
    spin_unlock_irqrestore(&asid_lock, flags);
    return asid;
}

static void asid_free(unsigned int asid)
{
    unsigned long flags = spin_lock_irqsave(&asid_lock);

    asid_map[asid / 64] &= ~(1UL << (asid % 64));
    spin_unlock_irqrestore(&asid_lock, flags);
}

static void tlb_flush_asid(uint16_t asid)
{
    dsb_ish();
    __asm__ volatile("tlbi aside1is, %0" ::"r"((uint64_t)asid << 48) : "memory");
    dsb_ish();
    isb();
}

static void tlb_flush_page(uint16_t asid, uint64_t va)
{
    dsb_ish();
    __asm__ volatile("tlbi vale1is, %0" ::"r"(((uint64_t)asid << 48) | (va >> PAGE_SHIFT))
                     : "memory");
    dsb_ish();
    isb();
}

void uvm_flush_all(struct uvm_space *s)
{
    tlb_flush_asid(s->asid);
}

void uvm_page_unref(uint64_t pa)
{
    if (page_ref_dec(pa) == 0)
        page_free(pa, 0);
}

struct uvm_space *uvm_create(void)
{
    struct uvm_space *s = kzalloc(sizeof(*s));
    int asid = asid_alloc();
    uint64_t root = page_alloc_zeroed(0);

    if (!s || asid < 0 || !root) {
        kfree(s);
        if (asid >= 0)
            asid_free((unsigned int)asid);
        if (root)
            page_free(root, 0);
        return NULL;
    }
    /* A new ASID may still have TLB entries from its previous owner's last moments. */
    tlb_flush_asid((uint16_t)asid);
    s->root = root;
    s->asid = (uint16_t)asid;
    s->refs = 1;
    return s;
}

static void uvm_put(struct uvm_space *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
        return;
    /* No CPU has it in TTBR0 any more: the root and ASID can go. */
    tlb_flush_asid(s->asid);
    page_free(s->root, 0);
    asid_free(s->asid);
    kfree(s);
}

static uint64_t *pt_table(uint64_t desc)
{
    return phys_to_virt(desc & PTE_ADDR_MASK);
}

static void uvm_free_l2(uint64_t desc)
{
    uint64_t *l2 = pt_table(desc);

    for (unsigned int j = 0; j < PT_ENTRIES; j++) {
        if (!(l2[j] & PTE_VALID))
            continue;
        uint64_t *l3 = pt_table(l2[j]);
        for (unsigned int k = 0; k < PT_ENTRIES; k++) {
            if (l3[k] & PTE_VALID)
                uvm_page_unref(l3[k] & PTE_ADDR_MASK);
        }
        page_free(l2[j] & PTE_ADDR_MASK, 0);
    }
    page_free(desc & PTE_ADDR_MASK, 0);
}

void uvm_release(struct uvm_space *s)
{
    uint64_t *l1 = phys_to_virt(s->root);

    /*
     * Unlink each level-2 table and invalidate before freeing below it: a CPU that still has
     * the root in TTBR0 (it lets go at its next uvm_activate) then walks nothing that is freed.
     * Programs use a few 1 GiB slots (image, mmap area, stack), so this is a few invalidations.
     */
    for (unsigned int i = 0; i < PT_ENTRIES; i++) {
        uint64_t desc = l1[i];
        if (!(desc & PTE_VALID))
            continue;
        l1[i] = 0;
        tlb_flush_asid(s->asid);
        uvm_free_l2(desc);
    }
    uvm_put(s);
}

void uvm_activate(struct uvm_space *s)
{
    unsigned long flags = arch_irq_save();
    struct uvm_cpu *c = &uvm_cpus[cpu_id()];
    struct uvm_space *old = c->active;

    if (old != s) {
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
        write_sysreg(ttbr0_el1, s->root | ((uint64_t)s->asid << 48));
        if (!c->ttbr0_on) {
            /* First user space on this CPU: enable TTBR0 walks, let EL0 read CNTVCT_EL0. */
            write_sysreg(tcr_el1, read_sysreg(tcr_el1) & ~TCR_EPD0);
            write_sysreg(cntkctl_el1, read_sysreg(cntkctl_el1) | CNTKCTL_EL0VCTEN);
            c->ttbr0_on = true;
        }
        isb();
        c->active = s;
        if (old)
            uvm_put(old);
    }
    arch_irq_restore(flags);
}

uint64_t *uvm_walk(struct uvm_space *s, uint64_t va, bool alloc)
{
    uint64_t *table = phys_to_virt(s->root);

    if (va >= UVM_USER_END)
        return NULL;
    for (unsigned int shift = L1_SHIFT; shift > PAGE_SHIFT; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & (PT_ENTRIES - 1)];
        if (!(*e & PTE_VALID)) {
            uint64_t pa = alloc ? page_alloc_zeroed(0) : 0;
            if (!pa)
                return NULL;
            /* The zeroed table must be visible to the walker before the entry that links it. */
            dsb_ish();
            *e = pa | PTE_TABLE_DESC;
        }
        table = pt_table(*e);
    }
    return &table[(va >> PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

uint64_t uvm_pte_make(uint64_t pa, unsigned int prot)
{
    /* AP[2:1] (Arm ARM D8.4.3): 01 read/write at EL0 and EL1, 11 read-only at both. */
    uint64_t pte = pa | PTE_VALID | PTE_TABLE | PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF |
                   PTE_NG | PTE_PXN | PTE_AP_EL0;

    if (!(prot & UVM_WRITE))
        pte |= PTE_AP_RO;
    if (!(prot & UVM_EXEC))
        pte |= PTE_UXN;
    return pte;
}

uint64_t uvm_pte_pa(uint64_t pte)
{
    return pte & PTE_ADDR_MASK;
}

unsigned int uvm_pte_prot(uint64_t pte)
{
    return UVM_READ | ((pte & PTE_AP_RO) ? 0 : UVM_WRITE) | ((pte & PTE_UXN) ? 0 : UVM_EXEC);
}

void uvm_set_pte(struct uvm_space *s, uint64_t va, uint64_t *ptep, uint64_t pte)
{
    if (*ptep & PTE_VALID) {
        *ptep = 0;
        tlb_flush_page(s->asid, va);
    }
    *ptep = pte;
    dsb_ish(); /* visible to the table walkers of every CPU before anyone retries the access */
    isb();
}

/* Clear up to UNMAP_BATCH pages from va on; returns where it stopped. Counts pages in *count. */
static uint64_t uvm_unmap_batch(struct uvm_space *s, uint64_t va, uint64_t end, uint64_t *count)
{
    uint64_t pages[UNMAP_BATCH];
    uint64_t first = 0, last = 0;
    unsigned int n = 0;

    while (va < end && n < UNMAP_BATCH) {
        uint64_t *pte = uvm_walk(s, va, false);
        if (!pte) {
            /* No level-3 table here: skip to the next 2 MiB boundary. */
            va = (va | ((1UL << L2_SHIFT) - 1)) + 1;
            continue;
        }
        if (*pte & PTE_VALID) {
            if (!n)
                first = va;
            last = va;
            pages[n++] = *pte & PTE_ADDR_MASK;
            *pte = 0;
        }
        va += PAGE_SIZE;
    }
    if (n) {
        /* Only once no CPU can reach them through its TLB may the pages be reused. */
        if (n == 1 || last - first < UNMAP_BATCH * PAGE_SIZE) {
            for (uint64_t a = first; a <= last; a += PAGE_SIZE)
                __asm__ volatile("dsb ishst\n tlbi vale1is, %0" ::"r"(((uint64_t)s->asid << 48) |
                                                                      (a >> PAGE_SHIFT))
                                 : "memory");
            dsb_ish();
            isb();
        } else {
            tlb_flush_asid(s->asid);
        }
        for (unsigned int i = 0; i < n; i++)
            uvm_page_unref(pages[i]);
    }
    *count += n;
    return va;
}

uint64_t uvm_unmap(struct uvm_space *s, uint64_t start, uint64_t end)
{
    uint64_t count = 0;

    while (start < end)
        start = uvm_unmap_batch(s, start, end, &count);
    return count;
}

void uvm_protect(struct uvm_space *s, uint64_t start, uint64_t end, unsigned int prot)
{
    bool changed = false;

    for (uint64_t va = start; va < end;) {
        uint64_t *pte = uvm_walk(s, va, false);
        if (!pte) {
            va = (va | ((1UL << L2_SHIFT) - 1)) + 1;
            continue;
        }
        if (*pte & PTE_VALID) {
            uint64_t pa = *pte & PTE_ADDR_MASK;
            unsigned int p = prot;
            if (page_ref_count(pa) > 1)
                p &= ~UVM_WRITE;
            /* Only permissions change (same output address): no break-before-make needed. */
            *pte = uvm_pte_make(pa, p);
            changed = true;
        }
        va += PAGE_SIZE;
    }
    if (changed)
        tlb_flush_asid(s->asid);
}

int uvm_share_range(struct uvm_space *dst, struct uvm_space *src, uint64_t start, uint64_t end,
                    bool cow)
{
    for (uint64_t va = start; va < end;) {
        uint64_t *spte = uvm_walk(src, va, false);
        if (!spte) {
            va = (va | ((1UL << L2_SHIFT) - 1)) + 1;
            continue;
        }
        if (*spte & PTE_VALID) {
            uint64_t *dpte = uvm_walk(dst, va, true);
            if (!dpte)
                return -ENOMEM;
            uint64_t pa = *spte & PTE_ADDR_MASK;
            if (cow)
                *spte |= PTE_AP_RO; /* the caller flushes src's TLB once at the end */
            page_ref_inc(pa);
            *dpte = *spte;
        }
        va += PAGE_SIZE;
    }
    dsb_ish();
    return 0;
}

void uvm_sync_icache(uint64_t pa)
{
    uintptr_t va = (uintptr_t)phys_to_virt(pa);

    /* Clean to the point of unification, then invalidate instruction caches (Arm ARM D7.5.9). */
    for (uintptr_t p = va; p < va + PAGE_SIZE; p += dcache_line)
        __asm__ volatile("dc cvau, %0" ::"r"(p) : "memory");
    dsb_ish();
    __asm__ volatile("ic ialluis" ::: "memory");
    dsb_ish();
    isb();
}

struct uvm_space *uvm_active(void)
{
    unsigned long flags = arch_irq_save();
    struct uvm_space *s = uvm_cpus[cpu_id()].active;

    arch_irq_restore(flags);
    return s;
}
