/* pstate.h - PSTATE as saved in SPSR_ELx (Arm ARM C5.2.18 "SPSR_EL1", D1.10): the mode field and
 * the flag bits Avatar reads or builds, for trap handlers, exception injection and the tests. */
#ifndef HW_PSTATE_H
#define HW_PSTATE_H

/* M[4:0]: M[4] says AArch32; for AArch64, M[3:2] is the EL and M[0] the stack pointer. */
#define PSR_MODE_MASK    0x1fUL
#define PSR_MODE_EL0T    0x0UL
#define PSR_MODE_EL1T    0x4UL
#define PSR_MODE_EL1H    0x5UL
#define PSR_MODE_32      0x10UL     /* M[4]: taken from AArch32 */
#define PSR_MODE_32_USR  0x10UL     /* AArch32 User mode: EL0 */
#define PSR_MODE_EL_MASK (3UL << 2) /* the exception level (0: EL0) */
#define PSR_MODE_SP      1UL        /* ELxh (SP_ELx) rather than ELxt (SP_EL0) */

#define PSR_DAIF_MASK (0xfUL << 6) /* D, A, I and F masked */
#define PSR_SSBS      (1UL << 12)
#define PSR_PAN       (1UL << 22)
#define PSR_NZCV_MASK (0xfUL << 28)

#endif
