/* fault.h - synchronous exceptions caused by user programs: page faults and fatal errors. */
#ifndef KERNEL_FAULT_H
#define KERNEL_FAULT_H

#include <stdbool.h>

#include "arch/trap.h"

/* An exception from EL0 other than SVC: resolve it (demand-zero, copy-on-write) or end the
 * process with one report line. */
void fault_user(struct trap_frame *tf);
/* A data abort at EL1: if it hit a user copy, resolve it or make the copy fail (true). */
bool fault_kernel(struct trap_frame *tf);

#endif
