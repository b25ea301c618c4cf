/* vcpu_sysreg.h - trapped MSR/MRS syndromes (ESR_EL2.EC 0x18) as keys the emulation switches on. */
#ifndef VMM_VCPU_SYSREG_H
#define VMM_VCPU_SYSREG_H

/* ISS encoding for an exception from MSR, MRS (Arm ARM D17.2.37): Op0 [21:20], Op2 [19:17],
 * Op1 [16:14], CRn [13:10], Rt [9:5], CRm [4:1], Direction [0] (1: read). */
#define VCPU_SYSREG(op0, op1, crn, crm, op2)                                                       \
    ((op0) << 20 | (op2) << 17 | (op1) << 14 | (crn) << 10 | (crm) << 1)
#define VCPU_SYSREG_MASK     0x3ffc1eu
#define VCPU_SYSREG_READ     1u
#define VCPU_SYSREG_RT(iss)  ((unsigned)((iss) >> 5) & 0x1f)
#define VCPU_SYSREG_OP0(iss) ((unsigned)((iss) >> 20) & 3)
#define VCPU_SYSREG_OP1(iss) ((unsigned)((iss) >> 14) & 7)
#define VCPU_SYSREG_CRN(iss) ((unsigned)((iss) >> 10) & 15)
#define VCPU_SYSREG_CRM(iss) ((unsigned)((iss) >> 1) & 15)
#define VCPU_SYSREG_OP2(iss) ((unsigned)((iss) >> 17) & 7)

/* An emulation's answer: done (the instruction completes), or execute it again. */
#define VCPU_SYSREG_DONE  0
#define VCPU_SYSREG_RETRY 1

#endif
