/* vm_rtc.h - a VM's PL031 RTC: the device model (vpl031.c) on the host's clock, with its alarm. */
#ifndef VMM_VM_RTC_H
#define VMM_VM_RTC_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/wait.h"
#include "vmm/vpl031.h"

struct thread;
struct vm;

/**
 * The RTC and the thread that raises its match interrupt on time (the guest need not touch the
 * RTC for it). stop is set once (vm_rtc_stop); changed by the device when its alarm moved.
 */
struct vm_rtc {
    struct vpl031 dev;
    struct thread *alarm;
    struct wait_queue wq; /* the alarm thread sleeps here until its second, a change or the stop */
    bool changed;         /* atomic */
    bool stop;            /* atomic */
};

/* At VM start: the RTC at the host's wall clock and its alarm thread: 0, or -errno with msg set. */
int vm_rtc_open(struct vm *vm, char *msg, size_t len);
/* The VM stops: the alarm thread leaves (any context, does not wait). */
void vm_rtc_stop(struct vm *vm);
/* Teardown: wait for the alarm thread to end. */
void vm_rtc_close(struct vm *vm);

#endif
