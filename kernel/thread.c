/* thread.c - kernel threads: stacks, the thread list, start, exit, join/detach, sleep, settings. */
#include "kernel/thread.h"
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "arch/memlayout.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/time.h"
#include "kernel/wait.h"
#include "lib/errno.h"
#include "lib/string.h"

#define STACK_CANARY 0x57ac4ca9a7157ac4ULL /* at the lowest address of every thread stack */
#define STACK_SIZE   (PAGE_SIZE << THREAD_STACK_ORDER)

/* join_state: who frees the thread. Exit and detach race; an atomic exchange settles it. */
enum { THREAD_JOINABLE, THREAD_DETACHED, THREAD_EXITED };

/* thread_list_lock protects thread_list, the all_link of every thread, and thread_next_id. */
static spinlock_t thread_list_lock = SPINLOCK_INIT;
static struct list_node thread_list = {&thread_list, &thread_list};
static unsigned int thread_next_id = 1;
/* Joiners wait here for any exit: the queue must outlive the thread it reports on. */
static struct wait_queue thread_exit_wq = WAIT_QUEUE_INIT(thread_exit_wq);

static struct thread *thread_alloc(const char *name, int prio, cpumask_t affinity)
{
    struct thread *t = kzalloc(sizeof(*t));

    if (!t)
        return NULL;
    strncpy(t->name, name, THREAD_NAME_MAX - 1);
    list_init(&t->rq_link.node);
    list_init(&t->pi_mutexes);
    list_init(&t->timeout_link);
    t->rq_link.prio = prio;
    t->base_prio = prio;
    t->affinity = affinity;
    t->state = THREAD_BLOCKED;
    t->join_state = THREAD_JOINABLE;
    return t;
}

static void thread_list_add(struct thread *t)
{
    unsigned long flags = spin_lock_irqsave(&thread_list_lock);

    t->id = thread_next_id++;
    list_add_tail(&thread_list, &t->all_link);
    spin_unlock_irqrestore(&thread_list_lock, flags);
}

static void thread_free(struct thread *t)
{
    unsigned long flags = spin_lock_irqsave(&thread_list_lock);

    list_del(&t->all_link);
    spin_unlock_irqrestore(&thread_list_lock, flags);
    page_free(virt_to_phys((void *)t->stack), THREAD_STACK_ORDER);
    kfree(t);
}

struct thread *thread_create(const char *name, int (*entry)(void *arg), void *arg, int prio,
                             cpumask_t affinity)
{
    if (!entry || prio < THREAD_PRIO_MIN || prio > THREAD_PRIO_MAX ||
        !(affinity & sched_online_cpus()))
        return NULL;
    struct thread *t = thread_alloc(name, prio, affinity);
    if (!t)
        return NULL;
    uint64_t stack_pa = page_alloc(THREAD_STACK_ORDER);
    if (!stack_pa) {
        kfree(t);
        return NULL;
    }
    t->stack = (uintptr_t)phys_to_virt(stack_pa);
    *(uint64_t *)t->stack = STACK_CANARY;
    t->entry = entry;
    t->arg = arg;
    /* The first switch to t "returns" into thread_start(prev) on an empty stack. */
    t->ctx.sp = t->stack + STACK_SIZE;
    t->ctx.lr = (uint64_t)(uintptr_t)thread_start;
    t->ctx.fp = 0;     /* ends backtraces */
    t->cpu = cpu_id(); /* a hint for placement only */
    thread_list_add(t);
    sched_wake(t);
    return t;
}

struct thread *thread_create_idle(unsigned int cpu)
{
    char name[THREAD_NAME_MAX] = "idle";
    struct thread *t;

    name[4] = (char)('0' + cpu);
    t = thread_alloc(name, RUNQUEUE_IDLE, CPUMASK_CPU(cpu));
    if (!t)
        return NULL;
    t->idle = true;
    t->state = THREAD_RUNNING;
    t->on_rq = true;
    t->cpu = cpu;
    thread_list_add(t);
    return t;
}

bool thread_stack_intact(const struct thread *t)
{
    return !t->stack || *(const uint64_t *)t->stack == STACK_CANARY;
}

void thread_start(struct thread *prev)
{
    sched_finish_first_switch(prev);
    struct thread *self = thread_current();
    thread_exit(self->entry(self->arg));
}

void thread_exit(int code)
{
    thread_current()->exit_code = code;
    sched_exit();
}

void thread_reap(struct thread *t)
{
    if (__atomic_exchange_n(&t->join_state, THREAD_EXITED, __ATOMIC_ACQ_REL) == THREAD_DETACHED)
        thread_free(t);
    else
        wait_wake_all(&thread_exit_wq);
}

int thread_join_timeout(struct thread *t, uint64_t timeout_ns, int *code)
{
    uint64_t deadline = timeout_ns == UINT64_MAX ? SCHED_NO_DEADLINE
                                                 : timer_counter() + timer_ns_to_ticks(timeout_ns);
    int err = wait_event_until(&thread_exit_wq,
                               __atomic_load_n(&t->join_state, __ATOMIC_ACQUIRE) == THREAD_EXITED,
                               deadline);
    if (err)
        return err;
    if (code)
        *code = t->exit_code;
    thread_free(t);
    return 0;
}

int thread_join(struct thread *t)
{
    int code = 0;

    thread_join_timeout(t, UINT64_MAX, &code);
    return code;
}

void thread_detach(struct thread *t)
{
    if (__atomic_exchange_n(&t->join_state, THREAD_DETACHED, __ATOMIC_ACQ_REL) == THREAD_EXITED)
        thread_free(t);
}

struct thread *thread_current(void)
{
    /* Masked, or a preemption between the two reads could return another CPU's thread. */
    unsigned long flags = arch_irq_save();
    struct thread *t = this_cpu()->current;

    arch_irq_restore(flags);
    return t;
}

void thread_set_ops(const struct thread_ops *ops, void *ctx)
{
    /* Masked: a switch sees both fields or neither. */
    unsigned long flags = arch_irq_save();
    struct thread *t = this_cpu()->current;

    t->ops_ctx = ctx;
    t->ops = ops;
    arch_irq_restore(flags);
}

int thread_set_priority(struct thread *t, int prio)
{
    if (t->idle || prio < THREAD_PRIO_MIN || prio > THREAD_PRIO_MAX)
        return -EINVAL;
    mutex_set_base_priority(t, prio);
    return 0;
}

int thread_set_affinity(struct thread *t, cpumask_t mask)
{
    if (t->idle || !(mask & sched_online_cpus()))
        return -EINVAL;
    __atomic_store_n(&t->affinity, mask, __ATOMIC_RELEASE);
    sched_apply_affinity(t);
    return 0;
}

int thread_set_affinity_id(unsigned int id, cpumask_t mask)
{
    /* The list lock keeps the thread from being freed while its affinity changes. */
    unsigned long flags = spin_lock_irqsave(&thread_list_lock);
    int err = -ESRCH;

    for (struct list_node *p = thread_list.next; p != &thread_list; p = p->next) {
        struct thread *t = list_entry(p, struct thread, all_link);

        if (t->id == id) {
            err = t->state == THREAD_DEAD ? -ESRCH : thread_set_affinity(t, mask);
            break;
        }
    }
    spin_unlock_irqrestore(&thread_list_lock, flags);
    return err;
}

void thread_yield(void)
{
    sched_yield();
}

void thread_sleep_until(uint64_t deadline)
{
    do
        sched_prepare_block();
    while (!sched_block_until(deadline));
}

void thread_sleep_ns(uint64_t ns)
{
    thread_sleep_until(timer_counter() + timer_ns_to_ticks(ns));
}

unsigned int thread_snapshot(struct thread_info *out, unsigned int max)
{
    unsigned long flags = spin_lock_irqsave(&thread_list_lock);
    unsigned int n = 0;

    for (struct list_node *p = thread_list.next; p != &thread_list; p = p->next, n++) {
        const struct thread *t = list_entry(p, struct thread, all_link);

        if (n >= max)
            continue;
        struct thread_info *i = &out[n];
        /* Fields owned by other locks are read as they are: a display, not a decision. */
        i->id = t->id;
        memcpy(i->name, t->name, THREAD_NAME_MAX);
        i->state = t->state;
        i->on_cpu = t->on_cpu;
        i->idle = t->idle;
        i->timed = !list_empty(&t->timeout_link);
        i->prio = t->rq_link.prio;
        i->base_prio = t->base_prio;
        i->cpu = t->cpu;
        i->affinity = t->affinity;
        i->run_ticks = t->run_ticks;
        i->cpus_run = t->cpus_run;
    }
    spin_unlock_irqrestore(&thread_list_lock, flags);
    return n;
}
