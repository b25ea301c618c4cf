/* fake_sched.h - host unit tests: the scheduler's blocking interface on pthreads (fake_sched.c). */
#ifndef TESTS_UNIT_FAKE_SCHED_H
#define TESTS_UNIT_FAKE_SCHED_H

#include "kernel/thread.h"

/*
 * Every host thread that uses a sleeping primitive gets a struct thread on first use (through
 * thread_current()), freed when the thread ends.
 */
/* The calling thread's base and effective priority (priority inheritance tests). */
void fake_sched_set_prio(int prio);

#endif
