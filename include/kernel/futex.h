/* futex.h - fast user-space locking: sleep on a user word, wake its sleepers (futex(2)). */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H

#include <stdint.h>

#include "kernel/aspace.h"

void futex_init(void);
/* Wake up to n threads sleeping on addr in as; returns how many. */
int futex_wake(struct aspace *as, uint64_t addr, int n);
/* The futex system call (FUTEX_WAIT, _WAKE, _REQUEUE, _CMP_REQUEUE, _WAIT_BITSET, _WAKE_BITSET). */
int64_t futex_syscall(uint64_t addr, int op, uint32_t val, uint64_t timeout, uint64_t addr2,
                      uint32_t val3);

#endif
