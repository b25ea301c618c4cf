/* sched.c - per-CPU priority run queues: switching, preemption, wake-ups, affinity, balance. */
#include "kernel/sched.h"
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "kernel/irq.h"
#include "kernel/loadavg.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/timeout.h"

_Static_assert(__builtin_offsetof(struct cpu_context, fp) == 80, "switch.S saves x29/x30 at 80");
_Static_assert(__builtin_offsetof(struct cpu_context, sp) == 96, "switch.S saves SP at 96");

/**
 * One CPU's scheduling state. lock protects queue and curr, and the "rq" fields of every thread
 * whose cpu is this CPU (struct thread). online, curr_prio and nr_running are written under lock
 * and read by other CPUs without it: they are hints for placement, re-checked under the locks.
 */
struct sched_rq {
    spinlock_t lock;
    struct runqueue queue; /* runnable threads waiting for this CPU */
    struct thread *curr;
    struct thread *idle;
    bool online;
    int curr_prio; /* RUNQUEUE_IDLE while idle */
    unsigned int nr_running;
    unsigned int balance_ticks; /* this CPU only, in its tick */
} __attribute__((aligned(64)));

static struct sched_rq rqs[MAX_CPUS];

/* Mask IRQs and preemption around run-queue work; the restore switches if that was asked for. */
static unsigned long sched_irq_off(void)
{
    unsigned long flags = arch_irq_save();

    preempt_disable_irqoff();
    return flags;
}

static void sched_irq_restore(unsigned long flags)
{
    preempt_enable_irqrestore(flags);
}

static bool thread_allowed_on(const struct thread *t, unsigned int cpu)
{
    return __atomic_load_n(&t->affinity, __ATOMIC_RELAXED) & CPUMASK_CPU(cpu);
}

/* Caller holds rq->lock. */
static void rq_publish_load(struct sched_rq *rq)
{
    int prio = rq->curr->idle ? RUNQUEUE_IDLE : rq->curr->rq_link.prio;

    __atomic_store_n(&rq->curr_prio, prio, __ATOMIC_RELAXED);
    __atomic_store_n(&rq->nr_running, rq->queue.nr_queued + !rq->curr->idle, __ATOMIC_RELAXED);
}

static void sched_load_snapshot(struct rq_load *load)
{
    for (unsigned int i = 0; i < cpus_possible; i++) {
        load[i].online = __atomic_load_n(&rqs[i].online, __ATOMIC_ACQUIRE);
        load[i].curr_prio = __atomic_load_n(&rqs[i].curr_prio, __ATOMIC_RELAXED);
        load[i].top_prio =
            runqueue_bitmap_top(__atomic_load_n(&rqs[i].queue.bitmap, __ATOMIC_RELAXED));
        load[i].nr_running = __atomic_load_n(&rqs[i].nr_running, __ATOMIC_RELAXED);
    }
}

cpumask_t sched_online_cpus(void)
{
    cpumask_t mask = 0;

    for (unsigned int i = 0; i < cpus_possible; i++) {
        if (__atomic_load_n(&rqs[i].online, __ATOMIC_ACQUIRE))
            mask |= CPUMASK_CPU(i);
    }
    return mask;
}

/* Ask cpu to run schedule(); the SGI makes a remote CPU leave WFI or a thread at once. */
static void sched_resched_cpu(unsigned int cpu)
{
    if (__atomic_exchange_n(&percpu_data[cpu].need_resched, true, __ATOMIC_ACQ_REL))
        return; /* already asked, and the IPI (if any) is on its way */
    if (cpu != cpu_id())
        irq_send_ipi(cpu, SGI_RESCHEDULE);
}

/* Lock the run queue of the CPU t belongs to (t->cpu is stable while it is held). */
static struct sched_rq *rq_lock_thread(struct thread *t)
{
    for (;;) {
        unsigned int cpu = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        struct sched_rq *rq = &rqs[cpu];

        spin_lock(&rq->lock);
        if (t->cpu == cpu)
            return rq;
        spin_unlock(&rq->lock);
    }
}

/* Two run queues, always in CPU order so that two CPUs doing this cannot deadlock. */
static void rq_lock_two(unsigned int a, unsigned int b)
{
    spin_lock(&rqs[a < b ? a : b].lock);
    if (a != b)
        spin_lock(&rqs[a < b ? b : a].lock);
}

static void rq_unlock_two(unsigned int a, unsigned int b)
{
    if (a != b)
        spin_unlock(&rqs[b].lock);
    spin_unlock(&rqs[a].lock);
}

/* Where t should go now (a hint: the caller re-checks under the locks). -1: no allowed CPU. */
static int sched_select_cpu(const struct thread *t, unsigned int prev)
{
    struct rq_load load[MAX_CPUS];

    sched_load_snapshot(load);
    return runqueue_select_cpu(load, cpus_possible, __atomic_load_n(&t->affinity, __ATOMIC_RELAXED),
                               prev, t->rq_link.prio);
}

/*
 * t waits on busy, which runs something at least as important: if another allowed CPU runs
 * something less important (or nothing), ask it to reschedule; its pull takes t.
 */
static void sched_kick_other(const struct thread *t, unsigned int busy)
{
    struct rq_load load[MAX_CPUS];
    cpumask_t allowed = __atomic_load_n(&t->affinity, __ATOMIC_RELAXED) & ~CPUMASK_CPU(busy);

    sched_load_snapshot(load);
    int cpu = runqueue_select_cpu(load, cpus_possible, allowed, busy, t->rq_link.prio);
    if (cpu >= 0 && load[cpu].curr_prio < t->rq_link.prio)
        sched_resched_cpu((unsigned int)cpu);
}

/* Caller holds rq->lock; t->cpu is cpu, t is on no run queue and not running. */
static void rq_enqueue(struct sched_rq *rq, unsigned int cpu, struct thread *t)
{
    t->on_rq = true;
    t->slice = SCHED_SLICE_TICKS;
    runqueue_push_tail(&rq->queue, &t->rq_link);
    rq_publish_load(rq);
    if (t->rq_link.prio > rq->curr_prio)
        sched_resched_cpu(cpu);
    else
        sched_kick_other(t, cpu);
}

/* Queue t, which is off every CPU and run queue (t->migrating), on a CPU it is allowed on. */
static void sched_migrate(struct thread *t)
{
    for (;;) {
        unsigned int from = t->cpu;
        int to = sched_select_cpu(t, from);

        if (to < 0)
            panic("sched: thread %u (%s) is allowed on no online CPU", t->id, t->name);
        rq_lock_two(from, (unsigned int)to);
        if (thread_allowed_on(t, (unsigned int)to)) {
            t->migrating = false;
            __atomic_store_n(&t->cpu, (unsigned int)to, __ATOMIC_RELEASE);
            rq_enqueue(&rqs[to], (unsigned int)to, t);
            rq_unlock_two(from, (unsigned int)to);
            return;
        }
        rq_unlock_two(from, (unsigned int)to); /* the affinity changed meanwhile */
    }
}

bool sched_wake(struct thread *t)
{
    unsigned long flags = sched_irq_off();
    bool woken = false;

    for (;;) {
        struct sched_rq *rq = rq_lock_thread(t);
        unsigned int from = t->cpu;

        if (t->state != THREAD_BLOCKED) {
            spin_unlock(&rq->lock);
            break;
        }
        woken = true;
        if (t->on_rq || t->migrating) {
            /*
             * It has not switched out yet (or was preempted before it could), or it is on its
             * way to another CPU's queue (sched_migrate): where it is, it only needs RUNNING.
             */
            t->state = THREAD_RUNNING;
            spin_unlock(&rq->lock);
            break;
        }
        int to = sched_select_cpu(t, from);
        if (to < 0)
            panic("sched: thread %u (%s) is allowed on no online CPU", t->id, t->name);
        if ((unsigned int)to == from) {
            t->state = THREAD_RUNNING;
            rq_enqueue(rq, from, t);
            spin_unlock(&rq->lock);
            break;
        }
        spin_unlock(&rq->lock);
        rq_lock_two(from, (unsigned int)to);
        if (t->cpu == from && t->state == THREAD_BLOCKED && !t->on_rq && !t->migrating &&
            thread_allowed_on(t, (unsigned int)to)) {
            t->state = THREAD_RUNNING;
            __atomic_store_n(&t->cpu, (unsigned int)to, __ATOMIC_RELEASE);
            rq_enqueue(&rqs[to], (unsigned int)to, t);
            rq_unlock_two(from, (unsigned int)to);
            break;
        }
        rq_unlock_two(from, (unsigned int)to);
        woken = false; /* something changed between the locks: look again */
    }
    sched_irq_restore(flags);
    return woken;
}

static bool pull_accept(const struct rq_link *link, void *ctx)
{
    return thread_allowed_on(list_entry(link, struct thread, rq_link), *(unsigned int *)ctx);
}

/*
 * Before choosing, take a queued thread from another CPU if it is more important than anything
 * this CPU would run (an idle CPU takes any), or, when balance is due, if that CPU has two or
 * more runnable threads more than this one. IRQs masked; prev is still this CPU's thread.
 */
static void sched_pull(unsigned int cpu, const struct thread *prev, bool keep_prev)
{
    struct percpu *c = this_cpu();
    struct rq_load load[MAX_CPUS];
    bool balance = c->balance_due;

    c->balance_due = false;
    if (cpus_possible < 2)
        return;
    sched_load_snapshot(load);
    int my_best = load[cpu].top_prio;
    if (!prev->idle && keep_prev && prev->rq_link.prio > my_best)
        my_best = prev->rq_link.prio;
    int src = runqueue_pull_source(load, cpus_possible, cpu, my_best, balance);
    if (src < 0)
        return;
    int min_prio = load[src].top_prio > my_best ? my_best + 1 : THREAD_PRIO_MIN;
    rq_lock_two(cpu, (unsigned int)src);
    struct rq_link *link = runqueue_find(&rqs[src].queue, min_prio, pull_accept, &cpu);
    if (link) {
        struct thread *t = list_entry(link, struct thread, rq_link);
        runqueue_remove(&rqs[src].queue, link);
        __atomic_store_n(&t->cpu, cpu, __ATOMIC_RELEASE);
        runqueue_push_tail(&rqs[cpu].queue, link);
        rq_publish_load(&rqs[src]);
        rq_publish_load(&rqs[cpu]);
    }
    rq_unlock_two(cpu, (unsigned int)src);
}

/* In the thread switched to, with the run-queue lock still held from schedule(). */
static void sched_finish_switch(struct thread *last)
{
    struct percpu *c = this_cpu();
    bool reap = false, migrate = false;

    if (last != c->current) {
        const struct thread_ops *ops = c->current->ops;
        if (ops && ops->sched_in)
            ops->sched_in(c->current);
        last->on_cpu = false;
        reap = last->state == THREAD_DEAD && !last->on_rq;
        migrate = last->migrating;
    }
    spin_unlock(&rqs[c->id].lock);
    /* last is on no run queue now and nobody else will touch it: finish with it unlocked. */
    if (migrate)
        sched_migrate(last);
    if (reap)
        thread_reap(last);
}

/*
 * Choose the next thread for this CPU and switch to it. IRQs masked, preemption count 1 (the
 * caller's). preempt: prev stays runnable whatever its state (it was interrupted, perhaps just
 * before blocking); otherwise a prev that is not RUNNING leaves the run queue. Returns whether
 * another thread ran before prev resumed.
 */
static bool schedule(bool preempt)
{
    struct percpu *c = this_cpu();
    unsigned int cpu = c->id;
    struct sched_rq *rq = &rqs[cpu];
    struct thread *prev = c->current;
    bool switched;

    c->need_resched = false;
    sched_pull(cpu, prev, preempt || prev->state == THREAD_RUNNING);
    spin_lock(&rq->lock);
    if (!prev->idle) {
        if (!thread_stack_intact(prev))
            panic("thread %u (%s): kernel stack overflow", prev->id, prev->name);
        if (!preempt && prev->state != THREAD_RUNNING) {
            prev->on_rq = false;
        } else if (!thread_allowed_on(prev, cpu)) {
            prev->on_rq = false;
            prev->migrating = true;
        } else if (prev->slice == 0) {
            prev->slice = SCHED_SLICE_TICKS;
            runqueue_push_tail(&rq->queue, &prev->rq_link);
        } else {
            runqueue_push_head(&rq->queue, &prev->rq_link); /* preempted: keeps its turn */
        }
    }
    struct rq_link *link = runqueue_first(&rq->queue);
    struct thread *next = rq->idle;
    if (link) {
        runqueue_remove(&rq->queue, link);
        next = list_entry(link, struct thread, rq_link);
    }
    rq->curr = next;
    c->current = next;
    next->on_cpu = true;
    next->cpus_run |= CPUMASK_CPU(cpu);
    rq_publish_load(rq);
    switched = next != prev;
    if (switched) {
        const struct thread_ops *ops = prev->ops;
        if (ops && ops->sched_out)
            ops->sched_out(prev); /* e.g. a vCPU's guest EL1 state leaves the CPU with it */
        prev = sched_switch_context(&prev->ctx, &next->ctx, prev);
    }
    sched_finish_switch(prev);
    return switched;
}

/* Switch while a reschedule is pending and allowed. IRQs masked. */
static void sched_preempt_irqoff(void)
{
    struct percpu *c = this_cpu();

    while (c->need_resched && c->preempt_count == 0 && c->current) {
        c->preempt_count++;
        schedule(true);
        c = this_cpu(); /* the thread may have resumed on another CPU */
        c->preempt_count--;
    }
}

void sched_preempt(void)
{
    unsigned long flags = arch_irq_save();

    sched_preempt_irqoff();
    arch_irq_restore(flags);
}

void sched_irq_exit(void)
{
    sched_preempt_irqoff();
}

void sched_prepare_block(void)
{
    unsigned long flags = arch_irq_save();

    this_cpu()->current->state = THREAD_BLOCKED;
    arch_irq_restore(flags);
}

void sched_block(void)
{
    unsigned long flags = arch_irq_save();
    struct percpu *c = this_cpu();

    if ((flags & PREEMPT_DAIF_I) || c->preempt_count)
        panic("thread %s blocks with IRQs masked or a spinlock held (preempt count %u)",
              c->current ? c->current->name : "?", c->preempt_count);
    if (c->current->idle) {
        /*
         * Boot code runs as CPU 0's idle thread until the first threads exist (disk probing):
         * it has nothing to switch to, so it waits for an interrupt. IRQs stay masked from the
         * check to WFI, which still ends when one is pending; the caller rechecks its condition.
         */
        if (c->current->state == THREAD_BLOCKED)
            wfi();
        c->current->state = THREAD_RUNNING;
        arch_irq_restore(flags);
        return;
    }
    c->preempt_count++;
    schedule(false);
    this_cpu()->preempt_count--;
    sched_preempt_irqoff();
    arch_irq_restore(flags);
}

bool sched_block_until(uint64_t deadline)
{
    struct thread *self = thread_current();

    if (deadline == SCHED_NO_DEADLINE) {
        sched_block();
        return false;
    }
    if (timer_counter() >= deadline) {
        /* Too late to sleep: undo sched_prepare_block() (only a waker or we write RUNNING). */
        self->state = THREAD_RUNNING;
        return true;
    }
    timeout_arm(self, deadline);
    sched_block();
    timeout_cancel(self);
    return timer_counter() >= deadline;
}

void sched_exit(void)
{
    arch_irq_disable();
    struct percpu *c = this_cpu();

    if (c->preempt_count)
        panic("thread %s exits with a spinlock held", c->current->name);
    c->preempt_count++;
    c->current->state = THREAD_DEAD;
    schedule(false);
    panic("sched: exited thread resumed");
}

void sched_yield(void)
{
    unsigned long flags = arch_irq_save();
    struct percpu *c = this_cpu();

    c->preempt_count++;
    c->current->slice = 0; /* to the back of its level */
    bool switched = schedule(true);
    this_cpu()->preempt_count--;
    sched_preempt_irqoff();
    arch_irq_restore(flags);
    /*
     * Nothing else wants this CPU: the caller is spinning, waiting for another CPU. Say so with
     * YIELD (Arm ARM C6.2 "YIELD": a hint that the PE runs a spin loop). Under single-threaded
     * TCG (QEMU -icount), where the vCPUs take turns on one host thread, it ends this vCPU's
     * turn. An IPI does not: without the hint a yield loop keeps the host thread, the CPU it
     * sent work to runs only when this one reprograms its timer, and that moment goes to its
     * own overdue tick; the thread it was sent never runs.
     */
    if (!switched)
        arch_cpu_relax();
}

void sched_set_prio(struct thread *t, int prio)
{
    unsigned long flags = sched_irq_off();
    struct sched_rq *rq = rq_lock_thread(t);
    unsigned int cpu = t->cpu;

    if (t->rq_link.prio != prio) {
        if (t->on_rq && rq->curr != t) {
            runqueue_remove(&rq->queue, &t->rq_link);
            t->rq_link.prio = prio;
            runqueue_push_tail(&rq->queue, &t->rq_link);
            if (prio > rq->curr_prio)
                sched_resched_cpu(cpu);
            else
                sched_kick_other(t, cpu);
        } else {
            t->rq_link.prio = prio;
            if (rq->curr == t && runqueue_top_prio(&rq->queue) > prio)
                sched_resched_cpu(cpu);
        }
        rq_publish_load(rq);
    }
    spin_unlock(&rq->lock);
    sched_irq_restore(flags);
}

void sched_apply_affinity(struct thread *t)
{
    unsigned long flags = sched_irq_off();
    struct sched_rq *rq = rq_lock_thread(t);
    unsigned int cpu = t->cpu;
    bool move = false;

    if (!thread_allowed_on(t, cpu)) {
        if (rq->curr == t) {
            sched_resched_cpu(cpu); /* schedule() sends it elsewhere */
        } else if (t->on_rq) {
            runqueue_remove(&rq->queue, &t->rq_link);
            t->on_rq = false;
            t->migrating = true;
            rq_publish_load(rq);
            move = true;
        }
        /* A blocked thread is placed by sched_wake(), which honours the new mask. */
    }
    spin_unlock(&rq->lock);
    if (move)
        sched_migrate(t);
    sched_irq_restore(flags);
}

unsigned int sched_runnable(void)
{
    struct rq_load load[MAX_CPUS];
    unsigned int n = 0;

    sched_load_snapshot(load);
    for (unsigned int i = 0; i < cpus_possible; i++)
        n += load[i].online ? load[i].nr_running : 0;
    return n;
}

void sched_tick(void)
{
    struct percpu *c = this_cpu();
    struct sched_rq *rq = &rqs[c->id];
    struct thread *curr = c->current;

    if (!curr)
        return; /* this CPU has not entered the scheduler yet */
    if (c->id == 0 && loadavg_due())
        loadavg_sample(sched_runnable());
    spin_lock(&rq->lock);
    if (!curr->idle) {
        curr->run_ticks++;
        if (curr->slice > 0 && --curr->slice == 0 &&
            runqueue_top_prio(&rq->queue) < curr->rq_link.prio)
            curr->slice = SCHED_SLICE_TICKS; /* nobody of its level waits: a fresh turn */
        if (curr->slice == 0)
            c->need_resched = true;
    }
    spin_unlock(&rq->lock);
    /* An idle CPU looks for work every tick, a busy one every few. */
    if (++rq->balance_ticks < SCHED_BALANCE_TICKS && !curr->idle)
        return;
    rq->balance_ticks = 0;
    struct rq_load load[MAX_CPUS];
    sched_load_snapshot(load);
    int my_best = load[c->id].top_prio;
    if (!curr->idle && curr->rq_link.prio > my_best)
        my_best = curr->rq_link.prio;
    if (runqueue_pull_source(load, cpus_possible, c->id, my_best, true) >= 0) {
        c->balance_due = true;
        c->need_resched = true;
    }
}

static void sched_ipi(unsigned int intid, void *arg)
{
    (void)intid;
    (void)arg;
    /* Nothing to do here: the sender set need_resched, sched_irq_exit() acts on it. */
}

static void sched_cpu_online(unsigned int cpu, struct thread *idle)
{
    struct sched_rq *rq = &rqs[cpu];
    unsigned long flags = spin_lock_irqsave(&rq->lock);

    idle->cpu = cpu;
    idle->on_cpu = true;
    idle->cpus_run = CPUMASK_CPU(cpu);
    rq->idle = idle;
    rq->curr = idle;
    this_cpu()->current = idle;
    rq_publish_load(rq);
    __atomic_store_n(&rq->online, true, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&rq->lock, flags);
}

void sched_init(void)
{
    for (unsigned int i = 0; i < cpus_possible; i++) {
        spin_init(&rqs[i].lock);
        runqueue_init(&rqs[i].queue);
        rqs[i].curr_prio = RUNQUEUE_IDLE;
        rqs[i].idle = thread_create_idle(i);
        if (!rqs[i].idle)
            panic("sched: no memory for the idle thread of cpu%u", i);
    }
    timeout_init();
    sched_cpu_online(0, rqs[0].idle);
    if (irq_register(SGI_RESCHEDULE, sched_ipi, NULL))
        panic("sched: cannot register the reschedule SGI");
}

void sched_run_idle(void)
{
    arch_irq_disable();
    struct percpu *c = this_cpu();

    if (!c->current) {
        irq_enable_local(SGI_RESCHEDULE);
        sched_cpu_online(c->id, rqs[c->id].idle);
    }
    for (;;) {
        /* Check and sleep with IRQs masked: an IRQ arriving in between still ends the WFI. */
        if (!c->need_resched) {
            uint64_t t0 = timer_counter();
            wfi();
            __atomic_store_n(&c->idle_ticks, c->idle_ticks + (timer_counter() - t0),
                             __ATOMIC_RELAXED);
        }
        arch_irq_enable(); /* the pending IRQ is taken here and its exit switches */
        arch_irq_disable();
        sched_preempt_irqoff();
    }
}

bool sched_cpu_contended(void)
{
    const struct sched_rq *rq = &rqs[cpu_id()];

    return __atomic_load_n(&rq->queue.nr_queued, __ATOMIC_RELAXED) != 0 ||
           __atomic_load_n(&this_cpu()->need_resched, __ATOMIC_RELAXED);
}

uint64_t sched_idle_ticks(void)
{
    uint64_t total = 0;

    for (unsigned int i = 0; i < cpus_possible; i++)
        total += __atomic_load_n(&percpu_data[i].idle_ticks, __ATOMIC_RELAXED);
    return total;
}

void sched_finish_first_switch(struct thread *prev)
{
    sched_finish_switch(prev);
    /* schedule()'s caller held one preemption count; this thread has no caller to drop it. */
    preempt_enable_irqrestore(arch_irq_save() & ~PREEMPT_DAIF_I);
}
