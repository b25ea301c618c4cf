/* vcpu.c - a vCPU is a kernel thread: its run loop, its sleeps (PSCI off), kicks, switch hooks. */
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "drivers/gic.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm.h"

/* Switch hooks (struct thread_ops): a guest's EL1 state is on the CPU only while its thread is. */
static void vcpu_sched_out(struct thread *t)
{
    struct vcpu *v = t->ops_ctx;

    if (v->in_run && v->loaded)
        vcpu_arch_put(v);
}

static void vcpu_sched_in(struct thread *t)
{
    struct vcpu *v = t->ops_ctx;

    if (v->in_run && !v->loaded)
        vcpu_arch_load(v);
}

static const struct thread_ops vcpu_thread_ops = {
    .sched_in = vcpu_sched_in,
    .sched_out = vcpu_sched_out,
};

void vcpu_kick(struct vcpu *v)
{
    __atomic_store_n(&v->kick, true, __ATOMIC_RELEASE);
    /*
     * Its own thread, outside a WFI (even from an interrupt on top of it): not asleep and not
     * about to be, and it looks at the vGIC before it enters the guest again. In the WFI window
     * an interrupt's kick must wake it: it may be between its last look and its sleep.
     */
    if (thread_current() == v->thread && v->state != VCPU_WFI)
        return;
    wait_wake_all(&v->wq);
    /* Running guest code on another CPU: any interrupt makes it leave and look. */
    int cpu = __atomic_load_n(&v->pcpu, __ATOMIC_ACQUIRE);
    if (v->loaded && cpu >= 0 && (unsigned)cpu != cpu_id())
        irq_send_ipi((unsigned)cpu, SGI_VCPU_KICK);
}

void vcpu_leave(struct vcpu *v, struct trap_frame *tf, uint64_t code)
{
    v->regs = *tf;
    v->tf = NULL;
    vcpu_exit_to_host(&v->host, code);
}

/*
 * On the way back into the guest from any trap (IRQs masked): leave instead if the VM stops or
 * this vCPU turned itself off; bring the timers and the list registers up to date.
 */
void vcpu_prepare_resume(struct vcpu *v, struct trap_frame *tf)
{
    struct vm *vm = v->vm;

    if (__builtin_expect(vm->state != VM_RUNNING, 0))
        vcpu_leave(v, tf, VCPU_EXIT_STOP);
    if (__builtin_expect(v->off_requested, 0))
        vcpu_leave(v, tf, VCPU_EXIT_OFF);
    if (v->ptimer.ctl)
        vtimer_ptimer_update(v);
    if (vgic_needs_flush(&vm->vgic, v->id))
        vgic_hw_refresh(v);
    v->tf = NULL;
}

/* Sleep while PSCI has this vCPU off; false once the VM stops. */
static bool wait_until_on(struct vcpu *v)
{
    struct vm *vm = v->vm;

    wait_event_until(&v->wq, v->state != VCPU_OFF || vm_stopping(vm), SCHED_NO_DEADLINE);
    return !vm_stopping(vm);
}

int vcpu_thread_main(void *arg)
{
    struct vcpu *v = arg;

    thread_set_ops(&vcpu_thread_ops, v);
    while (wait_until_on(v)) {
        arch_irq_disable();
        v->in_run = true;
        vcpu_arch_load(v);
        if (vgic_needs_flush(&v->vm->vgic, v->id))
            vgic_hw_refresh(v);
        uint64_t code = vcpu_enter_guest(&v->host, &v->regs);
        vcpu_arch_put(v);
        v->in_run = false;
        arch_irq_enable();
        if (code == VCPU_EXIT_STOP)
            break;
        /* VCPU_EXIT_OFF: off only now that its state is saved, so CPU_ON cannot race the save. */
        vm_vcpu_set_off(v);
    }
    vm_vcpu_exited(v);
    return 0;
}
