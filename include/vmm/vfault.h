/* vfault.h - a guest access that reaches nothing: the VM's on_fault policy decides what happens. */
#ifndef VMM_VFAULT_H
#define VMM_VFAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/trap.h"

struct vcpu;

/*
 * The guest's instruction fetch or data access in tf (stage-2 abort) found neither RAM nor a
 * device. on_fault = inject: a synchronous external abort into the guest, reported once per VM
 * start; on_fault = stop: the VM stops with what (e.g. "4-byte read at IPA 0x...") as the reason.
 */
void vfault_outside(struct vcpu *v, struct trap_frame *tf, bool instruction, const char *what);

#endif
