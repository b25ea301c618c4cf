/* vtimer.c - guest timers: the virtual timer (hardware, per-VM CNTVOFF) and an emulated CNTP. */
#include "arch/cpu.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm.h"

/* Generic timer PPIs as QEMU virt wires them (and the guest DTB says). */
#define VTIMER_PPI 27
#define PTIMER_PPI 30

#define CTL_ENABLE  1UL
#define CTL_IMASK   2UL
#define CTL_ISTATUS 4UL

/*
 * The virtual timer's physical interrupt, taken at EL2 while a vCPU is loaded here, is forwarded:
 * it stays active and the guest gets it in a hardware-mapped LR, whose deactivation by the guest
 * deactivates the physical PPI too (GICH_LR.HW / ICH_LR<n>_EL2.HW). One exit per interrupt, and
 * nothing runs at EL2 on the guest's EOI.
 */
static void vtimer_irq(unsigned int intid, void *arg)
{
    struct vcpu *v = vcpu_current();

    (void)arg;
    if (v && v->loaded)
        vgic_hw_forwarded(v, intid);
    else
        irq_deactivate(intid); /* the vCPU left in between: its timer is off now */
}

void vtimer_inject_if_fired(struct vcpu *v)
{
    if ((v->vgic.hw_active & (1u << VTIMER_PPI)) || !vcpu_arch_vtimer_fired())
        return;
    /* Without the exit the physical interrupt would cost: active now, as if taken at EL2. */
    irq_set_active_local(VTIMER_PPI, true);
    vgic_hw_forwarded(v, VTIMER_PPI);
}

void vtimer_resample(struct vcpu *v)
{
    /* Disabled, masked or re-armed before the guest took it: the GIC shows it no longer. */
    if ((v->vgic.hw_active & (1u << VTIMER_PPI)) && !vcpu_arch_vtimer_fired())
        vgic_set_level(&v->vm->vgic, v->id, VTIMER_PPI, false);
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
        else {
            p->ctl = *val & (CTL_ENABLE | CTL_IMASK);
            vcpu_work_set(v, VCPU_WORK_PTIMER, p->ctl != 0);
        }
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
    irq_set_forwarded(VTIMER_PPI, true);
    return irq_register(VTIMER_PPI, vtimer_irq, NULL);
}

void vtimer_vcpu_init(struct vcpu *v)
{
    vgic_set_hw(&v->vm->vgic, v->id, VTIMER_PPI, true);
}
