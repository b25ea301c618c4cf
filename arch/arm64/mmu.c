/* mmu.c - the kernel's final stage-1 map: RAM (linear map), kernel image with W^X, devices. */
#include <stdbool.h>

#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/mmu_defs.h"
#include "arch/sysreg.h"
#include "kernel/panic.h"
#include "lib/string.h"

#define PT_ENTRIES    512
#define PT_POOL_PAGES 64
#define L2_BLOCK      (1UL << 21)

/* Tables come from a static pool: the page allocator is not up yet when they are built. */
static uint64_t pt_pool[PT_POOL_PAGES][PT_ENTRIES] __attribute__((aligned(4096)));
static unsigned int pt_used;
static uint64_t *kernel_root;
uint64_t mmu_kernel_ttbr;

static uint64_t *pt_alloc(void)
{
    if (pt_used >= PT_POOL_PAGES)
        panic("mmu: page-table pool exhausted (%d pages)", PT_POOL_PAGES);
    uint64_t *t = pt_pool[pt_used++];
    memset(t, 0, PAGE_SIZE);
    return t;
}

static uint64_t *pt_next(uint64_t *entry)
{
    if (!(*entry & PTE_VALID)) {
        uint64_t *t = pt_alloc();
        *entry = virt_to_phys(t) | PTE_TABLE | PTE_VALID;
    } else if (!(*entry & PTE_TABLE)) {
        panic("mmu: mapping splits an existing block (entry 0x%lx)", *entry);
    }
    return phys_to_virt(*entry & PTE_ADDR_MASK);
}

/* Map [va, va+size) to pa with attrs, using 2 MiB blocks where both ends allow it. */
static void map_range(uint64_t va, uint64_t pa, uint64_t size, uint64_t attrs)
{
    uint64_t end = va + size;

    while (va < end) {
        uint64_t *l2 = pt_next(&kernel_root[(va >> 30) & (PT_ENTRIES - 1)]);
        uint64_t *l2e = &l2[(va >> 21) & (PT_ENTRIES - 1)];

        if (((va | pa) & (L2_BLOCK - 1)) == 0 && end - va >= L2_BLOCK && !(*l2e & PTE_VALID)) {
            *l2e = pa | attrs | PTE_VALID;
            va += L2_BLOCK;
            pa += L2_BLOCK;
            continue;
        }
        uint64_t *l3 = pt_next(l2e);
        l3[(va >> 12) & (PT_ENTRIES - 1)] = pa | attrs | PTE_TABLE | PTE_VALID;
        va += PAGE_SIZE;
        pa += PAGE_SIZE;
    }
}

static void map_phys(uint64_t pa, uint64_t size, uint64_t attrs)
{
    uint64_t start = pa & ~(PAGE_SIZE - 1);
    uint64_t end = (pa + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

    if (size)
        map_range(start + KERNEL_VA_OFFSET, start, end - start, attrs);
}

static void map_device(const struct fdt_region *r)
{
    map_phys(r->base, r->size, PTE_KERNEL_DEVICE);
}

/* RAM outside the kernel image: read/write, never executable. */
static void map_ram_excluding_kernel(const struct fdt_region *r, uint64_t kstart, uint64_t kend)
{
    uint64_t start = r->base, end = r->base + r->size;
    uint64_t data = PTE_KERNEL_NORMAL | PTE_NX;

    if (kend <= start || kstart >= end) {
        map_phys(start, end - start, data);
        return;
    }
    if (kstart > start)
        map_phys(start, kstart - start, data);
    if (kend < end)
        map_phys(kend, end - kend, data);
}

static void tlb_flush_all(void)
{
    dsb_ish();
    __asm__ volatile(TLBI_KERNEL_ALL ::: "memory");
    dsb_ish();
    isb();
}

void mmu_cpu_init(void)
{
    /* EL2 has one translation table base, the kernel's (nVHE): nothing to drop. */
    if (CUR_EL != 1)
        return;
    /* The boot identity map in TTBR0 is no longer needed; the lower half waits for user space. */
    write_sysreg(tcr_el1, read_sysreg(tcr_el1) | TCR_EPD0);
    write_sysreg(ttbr0_el1, 0);
    isb();
    tlb_flush_all();
}

void mmu_init(const struct fdt_platform *plat)
{
    uint64_t kstart = virt_to_phys(_kernel_start), kend = virt_to_phys(_kernel_end);

    kernel_root = pt_alloc();
    for (int i = 0; i < plat->nmem; i++)
        map_ram_excluding_kernel(&plat->mem[i], kstart, kend);

    /* W^X for the image: text read-only executable, rodata read-only, data/bss read-write. */
    map_phys(kstart, virt_to_phys(_text_end) - kstart, PTE_KERNEL_NORMAL | PTE_AP_RO | PTE_NX_USER);
    map_phys(virt_to_phys(_rodata_start), (uint64_t)(_rodata_end - _rodata_start),
             PTE_KERNEL_NORMAL | PTE_AP_RO | PTE_NX);
    map_phys(virt_to_phys(_data_start), (uint64_t)(_kernel_end - _data_start),
             PTE_KERNEL_NORMAL | PTE_NX);

    map_device(&plat->uart);
    map_device(&plat->rtc);
    map_device(&plat->gicd);
    map_device(&plat->gicc);
    map_device(&plat->gich);
    map_device(&plat->gicv);
    map_device(&plat->gicr);
    for (int i = 0; i < plat->nvirtio; i++)
        map_device(&plat->virtio[i].reg);

    mmu_kernel_ttbr = virt_to_phys(kernel_root);
    /* Secondary CPUs read this with their MMU (and caches) off: push it to memory. */
    __asm__ volatile("dc cvac, %0" ::"r"(&mmu_kernel_ttbr) : "memory");
    dsb_sy();

    /*
     * Only permissions and granularity change for live mappings (output addresses
     * stay the same), so switching the root and invalidating is safe here.
     */
    write_sysreg(SYSREG_KERNEL_TTBR, mmu_kernel_ttbr);
    isb();
    tlb_flush_all();
    mmu_cpu_init();
}
