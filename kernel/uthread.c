/* uthread.c - user threads: first entry to EL0, every exception from EL0 and the way back, exit. */
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "arch/trap.h"
#include "arch/uentry.h"
#include "drivers/gic.h"
#include "kernel/fault.h"
#include "kernel/futex.h"
#include "kernel/kmalloc.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

#define KSTACK_SIZE (PAGE_SIZE << THREAD_STACK_ORDER)

/*
 * Per CPU: the serial of the user thread whose FP/SIMD registers were last loaded there. Only
 * that CPU writes its slot, with IRQs masked. A thread reloads its registers on the way out
 * unless they are still the ones on this CPU (nobody else loaded since, and it did not move).
 */
static uint64_t fp_owner[MAX_CPUS];
static uint64_t next_serial = 1;

static int uthread_main(void *arg);

/* A user thread marks itself with these (no switch work: its registers are saved on entry). */
static const struct thread_ops uthread_ops = {.sched_in = NULL, .sched_out = NULL};

struct uthread *uthread_current(void)
{
    return thread_ctx_of(thread_current(), &uthread_ops);
}

int uthread_create(struct proc *p, int tid, const struct trap_frame *start, uint64_t tls,
                   const struct fpsimd_state *fp, int prio, cpumask_t affinity,
                   uint64_t clear_child_tid, uint64_t sig_mask, const struct sig_altstack *altstack)
{
    struct uthread *ut = kzalloc(sizeof(*ut));

    if (!ut)
        return -ENOMEM;
    ut->tid = tid;
    ut->proc = p;
    ut->start = *start;
    ut->tls = tls;
    if (fp)
        ut->fp = *fp;
    ut->fp_cpu = -1;
    ut->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
    ut->clear_child_tid = clear_child_tid;
    ut->sig_mask = sig_mask;
    if (altstack)
        ut->altstack = *altstack;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    if (p->nthreads >= PROC_MAX_THREADS || __atomic_load_n(&p->killed, __ATOMIC_ACQUIRE)) {
        spin_unlock_irqrestore(&p->lock, flags);
        kfree(ut);
        return -EAGAIN;
    }
    list_add_tail(&p->threads, &ut->link);
    p->nthreads++;
    spin_unlock_irqrestore(&p->lock, flags);
    proc_get(p);
    /* From here on ut belongs to the new thread, which may already be running (or gone). */
    struct thread *t = thread_create(p->name, uthread_main, ut, prio, affinity);
    if (!t) {
        flags = spin_lock_irqsave(&p->lock);
        list_del(&ut->link);
        p->nthreads--;
        spin_unlock_irqrestore(&p->lock, flags);
        proc_put(p);
        kfree(ut);
        return -EAGAIN;
    }
    thread_detach(t);
    return 0;
}

/*
 * The last steps towards EL0, IRQs masked: leave if the process is ending, take a pending
 * preemption, then install this thread's address space, FP/SIMD registers and TLS pointer.
 */
static void uthread_leave(struct uthread *ut)
{
    for (;;) {
        if (uthread_should_leave(ut)) {
            arch_irq_enable();
            uthread_exit();
        }
        if (!this_cpu()->need_resched)
            break;
        sched_preempt();
    }
    unsigned int cpu = cpu_id();
    aspace_activate(ut->proc->as);
    if (fp_owner[cpu] != ut->serial || ut->fp_cpu != (int)cpu) {
        fpsimd_load(&ut->fp);
        fp_owner[cpu] = ut->serial;
        ut->fp_cpu = (int)cpu;
    }
    uentry_tls_set(ut->tls);
}

static int uthread_main(void *arg)
{
    struct uthread *ut = arg;
    struct thread *self = thread_current();

    thread_set_ops(&uthread_ops, ut);
    __atomic_store_n(&ut->kt, self, __ATOMIC_RELEASE);
    ut->tf = (struct trap_frame *)(self->stack + KSTACK_SIZE - sizeof(struct trap_frame));
    arch_irq_disable();
    uthread_leave(ut);
    uentry_return(&ut->start, ut->tf);
}

static void uthread_trap(struct trap_frame *tf, unsigned int vector)
{
    struct uthread *ut = uthread_current();

    if (!ut)
        panic_trap(tf, vector, "exception from EL0 in a kernel thread");
    /* Save what the kernel does not: this thread may resume on another CPU, after others. */
    ut->tls = uentry_tls_get();
    fpsimd_save(&ut->fp);
    if (vector == VEC_LOW64_IRQ) {
        irq_handle();
        sched_irq_exit();
    } else if (ESR_EC(tf->esr) == EC_SVC64) {
        arch_irq_enable();
        syscall_dispatch(tf);
        arch_irq_disable();
    } else {
        arch_irq_enable();
        fault_user(tf);
        arch_irq_disable();
    }
    if (signal_work(ut)) {
        arch_irq_enable();
        signal_deliver(ut);
        arch_irq_disable();
    }
    uthread_leave(ut);
}

static void uthread_trap_sync(struct trap_frame *tf)
{
    uthread_trap(tf, VEC_LOW64_SYNC);
}

static void uthread_trap_irq(struct trap_frame *tf)
{
    uthread_trap(tf, VEC_LOW64_IRQ);
}

void uthread_init(void)
{
    static const struct lower_el_ops ops = {
        .sync = uthread_trap_sync,
        .irq = uthread_trap_irq,
        .kernel_fault = fault_kernel,
    };

    exception_set_lower_el_ops(&ops);
}

void uthread_exit(void)
{
    struct uthread *ut = uthread_current();
    struct proc *p = ut->proc;

    arch_irq_enable();
    if (ut->clear_child_tid) {
        /* CLONE_CHILD_CLEARTID: tell a joiner (pthread_join waits on this word). */
        uint32_t zero = 0;
        if (!uvm_copy_out(p->as->uvm, ut->clear_child_tid, &zero, sizeof(zero)))
            futex_wake(p->as, ut->clear_child_tid, 1);
    }
    unsigned long flags = spin_lock_irqsave(&p->lock);
    list_del(&ut->link);
    bool last = --p->nthreads == 0;
    spin_unlock_irqrestore(&p->lock, flags);
    wait_wake_all(&p->thread_wq);
    if (last) {
        proc_terminate(p, PROC_STATUS_EXITED(ut->exit_code)); /* unless ended otherwise before */
        proc_exit(p);
    }
    kfree(ut);
    proc_put(p);
    thread_exit(0);
}
