/* vcpu_arch.h - loading a vCPU onto a physical CPU and taking it off again (the world switch). */
#ifndef VMM_VCPU_ARCH_H
#define VMM_VCPU_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/trap.h"
#include "hw/pstate.h"

struct vcpu;
struct vcpu_host_ctx;

/* PSTATE of a vCPU at reset: EL1h, D, A, I and F masked (Linux booting.rst, PSCI CPU_ON). */
#define VCPU_SPSR_EL1H_MASKED (PSR_DAIF_MASK | PSR_MODE_EL1H)

/* Registers as at power-on: PC entry, x0 arg, EL1 with MMU and caches off. */
void vcpu_arch_reset(struct vcpu *v, uint64_t entry, uint64_t arg);
/* The loaded vCPU whose trap is in tf wakes from a powered-down state (PSCI CPU_SUSPEND): at
 * entry with x0 = arg, EL1h with DAIF masked, MMU and caches off (PSCI 1.1, 6.4.3). */
void vcpu_arch_warm_boot(struct trap_frame *tf, uint64_t entry, uint64_t arg);
/* MDCR_EL2 while v runs: its PMU and debug traps (vpmu.c, vdebug.c). */
uint64_t vcpu_arch_mdcr(const struct vcpu *v);
/* IRQs masked: put v's EL1 state, stage 2, timer and vGIC into this CPU / save them back. */
void vcpu_arch_load(struct vcpu *v);
void vcpu_arch_put(struct vcpu *v);
/* The guest touched FP/SIMD for the first time since it was loaded: give it its registers. */
void vcpu_arch_fp_trap(struct vcpu *v);
/* The loaded vCPU's virtual timer: physical counter value it fires at (UINT64_MAX: off). */
uint64_t vcpu_arch_vtimer_deadline(const struct vcpu *v);
/* The loaded vCPU's virtual timer condition holds (enabled, not masked, expired). */
bool vcpu_arch_vtimer_fired(void);

/* vcpu_entry.S */
uint64_t vcpu_enter_guest(struct vcpu_host_ctx *host, const struct trap_frame *guest);
void vcpu_exit_to_host(const struct vcpu_host_ctx *host, uint64_t code) __attribute__((noreturn));

#endif
