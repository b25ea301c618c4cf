/* vm_rtc.c - a VM's PL031 RTC: the host's wall clock, the vGIC line, and a thread for its alarm. */
#include "vmm/vm_rtc.h"

#include "drivers/pl031.h"
#include "kernel/runqueue.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

/* With the disks' workers, just above the vCPUs: an alarm that is due should not wait long. */
#define VM_RTC_PRIO (VCPU_PRIO + 1)

/* Every VM's RTC starts at the host's wall clock; a guest that sets it moves only its own. */
static uint64_t rtc_now(void *ctx)
{
    (void)ctx;
    return rtc_seconds();
}

static void rtc_irq(void *ctx, bool level)
{
    vgic_set_level(&((struct vm *)ctx)->vgic, 0, GUEST_RTC_INTID, level);
}

static void rtc_alarm_changed(void *ctx)
{
    struct vm_rtc *rt = &((struct vm *)ctx)->rtc;

    __atomic_store_n(&rt->changed, true, __ATOMIC_RELEASE);
    wait_wake_one(&rt->wq);
}

static const struct vpl031_ops rtc_ops = {rtc_now, rtc_irq, rtc_alarm_changed};

static bool rtc_stopping(struct vm_rtc *rt)
{
    return __atomic_load_n(&rt->stop, __ATOMIC_ACQUIRE);
}

/* Sleep until the second the line rises (if it would), then let the device see the time. */
static int rtc_alarm_main(void *arg)
{
    struct vm_rtc *rt = &((struct vm *)arg)->rtc;

    while (!rtc_stopping(rt)) {
        uint64_t seconds, deadline = SCHED_NO_DEADLINE;

        __atomic_store_n(&rt->changed, false, __ATOMIC_RELEASE);
        if (vpl031_alarm(&rt->dev, &seconds))
            deadline = rtc_counter_at(seconds);
        wait_event_until(
            &rt->wq, rtc_stopping(rt) || __atomic_load_n(&rt->changed, __ATOMIC_ACQUIRE), deadline);
        vpl031_update(&rt->dev);
    }
    return 0;
}

static int rtc_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)v;
    return vpl031_read(ctx, off, size, val);
}

static int rtc_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)v;
    return vpl031_write(ctx, off, size, val);
}

static const struct mmio_ops rtc_mmio_ops = {rtc_mmio_read, rtc_mmio_write};

int vm_rtc_open(struct vm *vm, char *msg, size_t len)
{
    struct vm_rtc *rt = &vm->rtc;
    char name[THREAD_NAME_MAX];

    rt->changed = false;
    rt->stop = false;
    wait_queue_init(&rt->wq);
    vpl031_init(&rt->dev, &rtc_ops, vm);
    snprintf(name, sizeof(name), "%.10s/rtc", vm->m.name);
    int err = mmio_bus_register(&vm->bus, GUEST_RTC_BASE, GUEST_RTC_SIZE, &rtc_mmio_ops, &rt->dev);
    if (err) {
        snprintf(msg, len, "no room for its RTC's registers");
        return err;
    }
    rt->alarm = thread_create(name, rtc_alarm_main, vm, VM_RTC_PRIO, CPUMASK_ALL);
    if (!rt->alarm) {
        snprintf(msg, len, "no thread for its RTC");
        return -ENOMEM;
    }
    return 0;
}

void vm_rtc_stop(struct vm *vm)
{
    struct vm_rtc *rt = &vm->rtc;

    __atomic_store_n(&rt->stop, true, __ATOMIC_RELEASE);
    wait_wake_all(&rt->wq);
}

void vm_rtc_close(struct vm *vm)
{
    struct vm_rtc *rt = &vm->rtc;

    if (!rt->alarm)
        return;
    vm_rtc_stop(vm);
    thread_join(rt->alarm);
    rt->alarm = NULL;
}
