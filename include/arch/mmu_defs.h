/* mmu_defs.h - translation-table descriptor bits and MMU control values (usable from assembly). */
#ifndef ARCH_MMU_DEFS_H
#define ARCH_MMU_DEFS_H

#ifdef __ASSEMBLER__
#define UL(x) (x)
#else
#define UL(x) (x##UL)
#endif
#define BIT(n) (UL(1) << (n))

#define CPACR_FPEN (UL(3) << 20)

/* SCTLR: reserved-one bits for ARMv8.0 and the bits we turn on. */
#define SCTLR_EL1_RES1 UL(0x30d00800)
#define SCTLR_EL2_RES1 UL(0x30c50830)
#define SCTLR_M        BIT(0)
#define SCTLR_C        BIT(2)
#define SCTLR_SA       BIT(3)
#define SCTLR_SA0      BIT(4)
#define SCTLR_I        BIT(12)
#define SCTLR_EL1_MMU  (SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_SA0 | SCTLR_I)
#define SCTLR_EL2_MMU  (SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)

/* MAIR: index 0 Device-nGnRnE, 1 Device-nGnRE, 2 Normal WB RA/WA, 3 Normal non-cacheable. */
#define MT_DEVICE_NGNRNE 0
#define MT_DEVICE_NGNRE  1
#define MT_NORMAL        2
#define MT_NORMAL_NC     3
#define MAIR_VALUE       UL(0x44ff0400)

/* 39-bit VA, 4K granule: three levels (L1 1 GiB, L2 2 MiB, L3 4 KiB). */
#define TCR_T0SZ       UL(25)
#define TCR_INNER_WBWA (UL(1) << 8)
#define TCR_OUTER_WBWA (UL(1) << 10)
#define TCR_SH_INNER   (UL(3) << 12)
#define TCR_EPD0       BIT(7)
#define TCR_EL1_VALUE                                                                              \
    (TCR_T0SZ | TCR_INNER_WBWA | TCR_OUTER_WBWA | TCR_SH_INNER | (TCR_T0SZ << 16) |                \
     (UL(1) << 24) | (UL(1) << 26) | (UL(3) << 28) | (UL(2) << 30) | BIT(36))
#define TCR_EL2_VALUE                                                                              \
    (TCR_T0SZ | TCR_INNER_WBWA | TCR_OUTER_WBWA | TCR_SH_INNER | BIT(23) | BIT(31))

/* Descriptor bits (Arm ARM D8.3). */
#define PTE_VALID     BIT(0)
#define PTE_TABLE     BIT(1) /* table at L1/L2, page at L3 */
#define PTE_ATTR(idx) ((UL(idx)) << 2)
#define PTE_AP_EL0    BIT(6)
#define PTE_AP_RO     BIT(7)
#define PTE_SH_INNER  (UL(3) << 8)
#define PTE_AF        BIT(10)
#define PTE_NG        BIT(11)
#define PTE_PXN       BIT(53)
#define PTE_UXN       BIT(54)
#define PTE_ADDR_MASK UL(0x0000fffffffff000)

/*
 * In the EL2 regime there is a single privilege level and AP[1] is reserved
 * (treated as one); setting it keeps the descriptor valid under either reading.
 */
/*
 * Execute-never: the EL1&0 regime has PXN (bit 53) and UXN (bit 54); the EL2 regime
 * has a single XN at bit 54 and bit 53 is RES0.
 * PTE_NX: nobody executes. PTE_NX_USER: the kernel may execute, user space not.
 */
#ifdef AVATAR_HV
#define PTE_AP_BASE PTE_AP_EL0
#define PTE_NX      PTE_UXN
#define PTE_NX_USER UL(0)
#else
#define PTE_AP_BASE UL(0)
#define PTE_NX      (PTE_PXN | PTE_UXN)
#define PTE_NX_USER PTE_UXN
#endif

#define PTE_KERNEL_DEVICE (PTE_ATTR(MT_DEVICE_NGNRE) | PTE_AF | PTE_NX | PTE_AP_BASE)
#define PTE_KERNEL_NORMAL (PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_BASE)

#define EARLY_DEVICE_BLOCK (PTE_KERNEL_DEVICE | PTE_VALID)
#define EARLY_NORMAL_BLOCK (PTE_KERNEL_NORMAL | PTE_VALID)

#endif
