/* memlayout.h - where physical memory appears in the kernel's address space. */
#ifndef ARCH_MEMLAYOUT_H
#define ARCH_MEMLAYOUT_H

/*
 * All RAM is reachable through a linear map at PA + KERNEL_VA_OFFSET.
 * At EL1 (native kernel) the kernel lives in the upper half (TTBR1_EL1, 39-bit VA)
 * so that TTBR0_EL1 is free for user address spaces. At EL2 (nVHE hypervisor)
 * there is only one translation range (TTBR0_EL2), so the map is the identity.
 * Host unit-test builds use the identity too.
 */
#if defined(AVATAR_HOST) || defined(AVATAR_HV)
#define KERNEL_VA_OFFSET 0x0
#else
#define KERNEL_VA_OFFSET 0xffffff8000000000
#endif

#define VA_BITS    39
#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(uintptr_t)(pa + KERNEL_VA_OFFSET);
}

static inline uint64_t virt_to_phys(const void *va)
{
    return (uint64_t)(uintptr_t)va - KERNEL_VA_OFFSET;
}
#endif

#endif
