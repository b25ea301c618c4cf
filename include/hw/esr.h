/* esr.h - the exception syndrome register ESR_ELx: exception classes and the ISS fields Avatar
 * decodes (Arm ARM D17.2.37 "ESR_EL2"), shared by the kernel's and the hypervisor's trap handlers,
 * the injection of exceptions into guests and the tests. */
#ifndef HW_ESR_H
#define HW_ESR_H

#define ESR_EC_SHIFT 26
#define ESR_EC(esr)  (((esr) >> ESR_EC_SHIFT) & 0x3f)
#define ESR_IL       (1UL << 25) /* a 32-bit instruction (0: a 16-bit T32 one) */

/* Exception classes (ESR_ELx.EC). */
#define EC_UNKNOWN  0x00
#define EC_WFX      0x01
#define EC_CP15_32  0x03 /* AArch32 MCR/MRC to CP15 */
#define EC_CP15_64  0x04 /* AArch32 MCRR/MRRC to CP15 */
#define EC_CP14_32  0x05 /* AArch32 MCR/MRC to CP14 */
#define EC_CP14_LS  0x06 /* AArch32 LDC/STC to CP14 */
#define EC_FP       0x07 /* FP/SIMD access trapped by CPTR_ELx.TFP */
#define EC_CP14_64  0x0c /* AArch32 MRRC to CP14 */
#define EC_SVC64    0x15
#define EC_HVC64    0x16
#define EC_SMC64    0x17
#define EC_SYSREG   0x18 /* MSR, MRS or system instruction */
#define EC_SVE      0x19 /* SVE access trapped by CPTR_ELx.TZ */
#define EC_IABT_LOW 0x20 /* instruction abort from a lower EL */
#define EC_IABT_CUR 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOW 0x24 /* data abort from a lower EL */
#define EC_DABT_CUR 0x25
#define EC_SP_ALIGN 0x26
#define EC_SERROR   0x2f
#define EC_BRK64    0x3c

/* ISS of a trapped WFI or WFE (D17.2.37 "ISS encoding for an exception from a WFI or WFE"). */
#define ESR_ISS_WFX_TI 1UL /* 1: WFE, 0: WFI */

/* ISS of an instruction or data abort (D17.2.37 "ISS encoding for an exception from a Data Abort").
 */
#define ESR_ISS_ISV      (1UL << 24)                   /* the fields below, SAS to SF, are valid */
#define ESR_ISS_SAS(esr) ((unsigned)((esr) >> 22) & 3) /* access size: 1 << SAS bytes */
#define ESR_ISS_SSE      (1UL << 21)                   /* a load that sign-extends */
#define ESR_ISS_SRT(esr) ((unsigned)((esr) >> 16) & 0x1f) /* the register transferred */
#define ESR_ISS_SF       (1UL << 15)                      /* a 64-bit register */
#define ESR_ISS_S1PTW    (1UL << 7) /* the fault was on a stage-1 table walk (stage 2 only) */
#define ESR_ISS_WNR      (1UL << 6) /* caused by a write */
#define ESR_FSC(esr)     ((esr)&0x3f)

/* Fault status codes (ISS.DFSC/IFSC); translation and permission faults come per lookup level. */
#define FSC_TRANSLATION(fsc) (((fsc)&0x3c) == 0x04)
#define FSC_PERMISSION(fsc)  (((fsc)&0x3c) == 0x0c)
#define ESR_FSC_SEA          0x10UL /* synchronous external abort, not on a walk */
#define ESR_FSC_ALIGNMENT    0x21

#endif
