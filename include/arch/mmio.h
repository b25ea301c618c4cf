/* mmio.h - device register access (single-copy atomic, never merged or reordered by the compiler).
 */
#ifndef ARCH_MMIO_H
#define ARCH_MMIO_H

#include <stdint.h>

static inline uint32_t mmio_read32(uintptr_t addr)
{
    uint32_t v;

    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
    __asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(addr) : "memory");
}

static inline uint64_t mmio_read64(uintptr_t addr)
{
    uint64_t v;

    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
    __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(addr) : "memory");
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
    __asm__ volatile("strb %w0, [%1]" ::"r"(v), "r"(addr) : "memory");
}

#endif
