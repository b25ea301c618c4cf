/* arch.h - TestOS's AArch64 helpers: system registers, barriers, interrupt masking, MMIO. */
#ifndef TESTOS_ARCH_H
#define TESTOS_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define read_sysreg(reg)                                                                           \
    ({                                                                                             \
        uint64_t val_;                                                                             \
        __asm__ volatile("mrs %0, " #reg : "=r"(val_));                                            \
        val_;                                                                                      \
    })
#define write_sysreg(reg, val) __asm__ volatile("msr " #reg ", %0" ::"r"((uint64_t)(val)))

/* GIC CPU interface system registers by encoding, so any assembler accepts them. */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_BPR1_EL1    S3_0_C12_C12_3
#define ICC_CTLR_EL1    S3_0_C12_C12_4
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1   S3_0_C12_C11_5

static inline void isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

static inline void dsb_sy(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

static inline void wfi(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

static inline void wfe(void)
{
    __asm__ volatile("wfe" ::: "memory");
}

static inline void sev(void)
{
    __asm__ volatile("dsb ish\n\tsev" ::: "memory");
}

static inline void irq_disable(void)
{
    __asm__ volatile("msr daifset, #2" ::: "memory");
}

/* Unmask IRQs; the ISB makes a pending interrupt be taken here, not some instructions later. */
static inline void irq_enable(void)
{
    __asm__ volatile("msr daifclr, #2\n\tisb" ::: "memory");
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t val)
{
    *(volatile uint32_t *)addr = val;
}

static inline uint64_t mmio_read64(uintptr_t addr)
{
    return *(volatile uint64_t *)addr;
}

static inline void mmio_write64(uintptr_t addr, uint64_t val)
{
    *(volatile uint64_t *)addr = val;
}

/* Affinity fields of an MPIDR (Aff3, Aff2, Aff1, Aff0), without the flag bits. */
#define MPIDR_AFF_MASK 0xff00ffffffULL

#endif
