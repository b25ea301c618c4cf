/* vcpu_run.h - the pieces of the vCPU run loop that the trap handlers and devices share. */
#ifndef VMM_VCPU_RUN_H
#define VMM_VCPU_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/sysreg.h"
#include "arch/trap.h"
#include "hw/esr.h"

struct vcpu;

/* Why vcpu_enter_guest() returned. */
#define VCPU_EXIT_STOP 1 /* the VM stops: the thread ends */
#define VCPU_EXIT_OFF  2 /* PSCI CPU_OFF: the thread sleeps until CPU_ON */

/* Leave the guest from a trap handler: the frame becomes v->regs, the run loop gets code. */
void vcpu_leave(struct vcpu *v, struct trap_frame *tf, uint64_t code) __attribute__((noreturn));
/* Last step of every trap before the guest resumes (may leave instead). */
void vcpu_prepare_resume(struct vcpu *v, struct trap_frame *tf);

/* Stage-2 aborts (Arm ARM D17.2.37 ISS of instruction and data aborts; D17.2.x HPFAR_EL2). */
#define VCPU_HPFAR_FIPA_MASK  0xffffffffff0UL /* FIPA [43:4] = IPA[51:12] */
#define VCPU_HPFAR_FIPA_SHIFT 4

/* A stage-2 fault's IPA page; the offset in the page is FAR's, unless S1PTW. Inline: the MMIO
 * path takes it on every exit. */
static inline uint64_t vcpu_fault_ipa_page(void)
{
    return ((read_sysreg(hpfar_el2) & VCPU_HPFAR_FIPA_MASK) >> VCPU_HPFAR_FIPA_SHIFT) << 12;
}

/* A stage-2 abort with ISS.S1PTW: stop the VM with a report naming the walk, the VA it was for
 * and the table entry's IPA page. */
void vcpu_fault_s1ptw(struct vcpu *v, struct trap_frame *tf, const char *access);

/* Sleep as a WFI does, until the vCPU has an interrupt to take (vcpu_trap.c; PSCI CPU_SUSPEND). */
void vcpu_wait_interrupt(struct vcpu *v);

/* vtimer.c: the emulated EL1 physical timer and the virtual timer's interrupt. */
void vtimer_ptimer_update(struct vcpu *v);
/* A trapped CNTP_CTL/CVAL/TVAL_EL0 access (reg: 0 TVAL, 1 CTL, 2 CVAL): 0 or -EINVAL. */
int vtimer_ptimer_access(struct vcpu *v, unsigned reg, bool read, uint64_t *val);
/* Physical counter value at which one of the vCPU's timers fires (UINT64_MAX: none). */
uint64_t vtimer_next_deadline(struct vcpu *v);
/* The loaded vCPU's virtual timer has fired: give the guest its interrupt (no exit needed). */
void vtimer_inject_if_fired(struct vcpu *v);
/* Before the loaded vCPU looks at its vGIC: a timer interrupt it has not taken yet is withdrawn
 * if the timer no longer asserts it. */
void vtimer_resample(struct vcpu *v);
/* A new vCPU: its virtual timer PPI is forwarded (hardware-mapped). */
void vtimer_vcpu_init(struct vcpu *v);
int vtimer_init(void);
void vtimer_cpu_init(void);

/* vpsci.c: a PSCI / SMCCC call (HVC or SMC) with its arguments in the frame. */
void vpsci_call(struct vcpu *v, struct trap_frame *tf);

/* vmmio.c: a stage-2 data abort: emulate the device access or stop the VM. */
void vmmio_data_abort(struct vcpu *v, struct trap_frame *tf, uint64_t esr);

/* vm.c, for the run loop. */
void vm_vcpu_set_off(struct vcpu *v);
void vm_vcpu_exited(struct vcpu *v);
/* Stop the VM because of what this vCPU did: a report with the trap's ESR, IPA and PC. */
void vcpu_fatal(struct vcpu *v, struct trap_frame *tf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
