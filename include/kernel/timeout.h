/* timeout.h - per-CPU deadline queues: wake a blocked thread when the system counter reaches a
 * value. */
#ifndef KERNEL_TIMEOUT_H
#define KERNEL_TIMEOUT_H

#include <stdint.h>

struct thread;

void timeout_init(void);
/*
 * Wake t (the running thread) with sched_wake() at deadline, from this CPU's timer, which is
 * reprogrammed if this is its earliest deadline. Must be followed by timeout_cancel(t).
 */
void timeout_arm(struct thread *t, uint64_t deadline);
/* Disarm; once it returns no expiry for t is in progress on any CPU. */
void timeout_cancel(struct thread *t);
/* Timer interrupt: wake this CPU's threads whose deadline is <= now. */
void timeout_expire(uint64_t now);
/* Earliest deadline armed on this CPU, UINT64_MAX if none. IRQs masked. */
uint64_t timeout_next(void);

#endif
