/* vtimer.c - guest timers: the virtual timer (hardware, per-VM CNTVOFF) and an emulated CNTP. */
#include "arch/cpu.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vm.h"

/* Generic timer PPIs as QEMU virt wires them (and the guest DTB says). */
#define VTIMER_PPI 27
#define PTIMER_PPI 30

#define CTL_ENABLE  1UL
#define CTL_IMASK   2UL
#define CTL_ISTATUS 4UL

/*
 * The virtual timer's physical interrupt, taken at EL2 while a vCPU is loaded here. Its line stays
 * high until the guest reprograms the timer, so mask it at the GIC (this CPU only) and give the
 * guest a level interrupt whose deactivation we are told of; then unmask (vtimer_deactivated).
 */
void vtimer_inject_if_fired(struct vcpu *v)
{
    if (v->vtimer_masked || !vcpu_arch_vtimer_fired())
        return;
    irq_disable_local(VTIMER_PPI);
    v->vtimer_masked = true;
    vgic_set_level(&v->vm->vgic, v->id, VTIMER_PPI, true);
}

static void vtimer_irq(unsigned int intid, void *arg)
{
    struct vcpu *v = vcpu_current();

    (void)intid;
    (void)arg;
    if (v && v->loaded)
        vtimer_inject_if_fired(v);
}

void vtimer_deactivated(struct vcpu *v)
{
    vgic_set_level(&v->vm->vgic, v->id, VTIMER_PPI, false);
    if (v->vtimer_masked) {
        v->vtimer_masked = false;
        if (v->loaded)
            irq_enable_local(VTIMER_PPI); /* still expired: it fires again at once */
    }
}

/* The emulated EL1 physical timer's output (Arm ARM D11.2.4 "The CNTP_CTL_EL0 condition"). */
void vtimer_ptimer_update(struct vcpu *v)
{
    struct vcpu_ptimer *p = &v->ptimer;
    bool armed = (p->ctl & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE;
    bool level = armed && timer_counter() >= p->cval;
    struct percpu *c = this_cpu();

    if (level != p->level) {
        p->level = level;
        vgic_set_level(&v->vm->vgic, v->id, PTIMER_PPI, level);
    }
    /* Still to come while the guest runs: have this CPU's timer interrupt it then. */
    uint64_t want = armed && !level ? p->cval : 0;
    if (want != c->guest_deadline) {
        c->guest_deadline = want;
        timer_reprogram();
    }
}

int vtimer_ptimer_access(struct vcpu *v, unsigned reg, bool read, uint64_t *val)
{
    struct vcpu_ptimer *p = &v->ptimer;
    uint64_t now = timer_counter();

    switch (reg) {
    case 0: /* TVAL: a signed 32-bit view of CVAL - now */
        if (read)
            *val = (uint32_t)(p->cval - now);
        else
            p->cval = now + (uint64_t)(int64_t)(int32_t)*val;
        break;
    case 1:
        if (read)
            *val = (p->ctl & (CTL_ENABLE | CTL_IMASK)) |
                   ((p->ctl & CTL_ENABLE) && now >= p->cval ? CTL_ISTATUS : 0);
        else
            p->ctl = *val & (CTL_ENABLE | CTL_IMASK);
        break;
    case 2:
        if (read)
            *val = p->cval;
        else
            p->cval = *val;
        break;
    default: return -EINVAL;
    }
    if (!read) {
        vtimer_ptimer_update(v);
        if (!p->ctl)
            this_cpu()->guest_deadline = 0;
    }
    return 0;
}

uint64_t vtimer_next_deadline(struct vcpu *v)
{
    uint64_t d = vcpu_arch_vtimer_deadline(v);
    const struct vcpu_ptimer *p = &v->ptimer;

    if ((p->ctl & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE && !p->level && p->cval < d)
        d = p->cval;
    return d;
}

void vtimer_cpu_init(void)
{
    irq_enable_local(VTIMER_PPI);
}

int vtimer_init(void)
{
    return irq_register(VTIMER_PPI, vtimer_irq, NULL);
}
