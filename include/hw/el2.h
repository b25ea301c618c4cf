/* el2.h - bits of the EL2 control registers Avatar programs: HCR_EL2, MDCR_EL2, CPTR_EL2 and
 * CNTHCTL_EL2 (Arm ARM D13.2), for the boot code (head.S, usable from assembly) and the vCPU
 * switch (vmm/vcpu_arch.c, vpmu.c, vdebug.c). */
#ifndef HW_EL2_H
#define HW_EL2_H

#ifdef __ASSEMBLER__
#define EL2_BIT(n) (1 << (n))
#else
#define EL2_BIT(n) (1UL << (n))
#endif

/* HCR_EL2 (D13.2.48). */
#define HCR_VM     EL2_BIT(0)  /* stage 2 translation on */
#define HCR_SWIO   EL2_BIT(1)  /* set/way invalidation becomes clean and invalidate */
#define HCR_FMO    EL2_BIT(3)  /* physical FIQs to EL2, virtual ones to the guest */
#define HCR_IMO    EL2_BIT(4)  /* physical IRQs to EL2, virtual ones to the guest */
#define HCR_AMO    EL2_BIT(5)  /* physical SErrors to EL2 */
#define HCR_FB     EL2_BIT(9)  /* TLB and cache maintenance broadcast inner shareable */
#define HCR_BSU_IS EL2_BIT(10) /* barriers at least inner shareable */
#define HCR_TWI    EL2_BIT(13) /* trap WFI */
#define HCR_TWE    EL2_BIT(14) /* trap WFE */
#define HCR_TSC    EL2_BIT(19) /* trap SMC */
#define HCR_TIDCP  EL2_BIT(20) /* trap IMPLEMENTATION DEFINED system registers */
#define HCR_TACR   EL2_BIT(21) /* trap ACTLR_EL1 */
#define HCR_RW     EL2_BIT(31) /* EL1 is AArch64 */

/* MDCR_EL2 (D13.2.x): PMU and debug traps. HPMN (bits 4:0) is the number of counters EL1 owns. */
#define MDCR_TPMCR EL2_BIT(5)  /* trap PMCR_EL0 */
#define MDCR_TPM   EL2_BIT(6)  /* trap every PMU register */
#define MDCR_TDA   EL2_BIT(9)  /* trap debug registers */
#define MDCR_TDOSA EL2_BIT(10) /* trap the OS lock and power-down registers */
#define MDCR_TDRA  EL2_BIT(11) /* trap the debug ROM address register */

/* CPTR_EL2 without VHE (D13.2.31). */
#define CPTR_EL2_RES1 0x33ff
#define CPTR_TZ       EL2_BIT(8)  /* trap SVE */
#define CPTR_TFP      EL2_BIT(10) /* trap FP/SIMD */

/* CNTHCTL_EL2 without VHE (D13.8.x): what EL1 and EL0 may use of the physical counter and timer. */
#define CNTHCTL_EL1PCTEN EL2_BIT(0) /* the physical counter */
#define CNTHCTL_EL1PCEN  EL2_BIT(1) /* the physical timer */

#endif
