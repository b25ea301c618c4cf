/* vcpu_arch.c - what a vCPU owns in a physical CPU: EL1 registers, EL2 controls, FP, timer. */
#include "vmm/vcpu_arch.h"

#include "arch/cpu.h"
#include "arch/mmu_defs.h"
#include "hw/el2.h"
#include "hw/timer.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm.h"

/*
 * HCR_EL2 while a guest runs (Arm ARM D13.2.48): stage 2 on (VM), physical interrupts to EL2
 * (IMO/FMO/AMO, which also turns on the virtual interrupt delivery), WFI trapped (TWI) so a waiting
 * vCPU gives its CPU away, WFE trapped (TWE) to yield, SMC trapped (TSC) so PSCI works on both
 * conduits, ACTLR_EL1 trapped (TACR: implementation-defined state is not the guest's) and the
 * other IMPLEMENTATION DEFINED registers too (TIDCP: op0 3, CRn 11 and 15; the guest gets an
 * UNDEF for them, vcpu_trap.c), barriers
 * and invalidations broadcast inner shareable (FB, BSU=IS) so a vCPU moved to another CPU finds
 * no stale TLB entries, and AArch64 EL1 (RW).
 */
#define HCR_GUEST                                                                                  \
    (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | HCR_TWI | HCR_TWE |   \
     HCR_TSC | HCR_TIDCP | HCR_TACR | HCR_RW)

/* The vCPU whose FP/SIMD registers this CPU holds (written only by the CPU itself). */
static struct vcpu *fp_owner[MAX_CPUS];

void vcpu_arch_reset(struct vcpu *v, uint64_t entry, uint64_t arg)
{
    for (unsigned i = 0; i < 31; i++)
        v->regs.x[i] = 0;
    v->regs.x[0] = arg;
    v->regs.sp = 0;
    v->regs.elr = entry;
    v->regs.spsr = VCPU_SPSR_EL1H_MASKED;
    v->sys = (struct vcpu_sysregs){.sctlr = SCTLR_EL1_RES1};
    v->fp = (struct fpsimd_state){0};
    v->ptimer = (struct vcpu_ptimer){0};
    vcpu_work_set(v, VCPU_WORK_PTIMER, false);
    vdebug_reset(&v->dbg);
    v->pmu = (struct vpmu_state){0};
}

void vcpu_arch_warm_boot(struct trap_frame *tf, uint64_t entry, uint64_t arg)
{
    tf->x[0] = arg;
    tf->elr = entry;
    tf->spsr = VCPU_SPSR_EL1H_MASKED;
    write_sysreg(sctlr_el1, SCTLR_EL1_RES1);
    isb();
}

uint64_t vcpu_arch_mdcr(const struct vcpu *v)
{
    return vpmu_mdcr() | vdebug_mdcr(v);
}

static void sysregs_save(struct vcpu_sysregs *s)
{
    s->sctlr = read_sysreg(sctlr_el1);
    s->cpacr = read_sysreg(cpacr_el1);
    s->ttbr0 = read_sysreg(ttbr0_el1);
    s->ttbr1 = read_sysreg(ttbr1_el1);
    s->tcr = read_sysreg(tcr_el1);
    s->mair = read_sysreg(mair_el1);
    s->amair = read_sysreg(amair_el1);
    s->vbar = read_sysreg(vbar_el1);
    s->contextidr = read_sysreg(contextidr_el1);
    s->esr = read_sysreg(esr_el1);
    s->afsr0 = read_sysreg(afsr0_el1);
    s->afsr1 = read_sysreg(afsr1_el1);
    s->far = read_sysreg(far_el1);
    s->par = read_sysreg(par_el1);
    s->tpidr = read_sysreg(tpidr_el1);
    s->tpidr_el0 = read_sysreg(tpidr_el0);
    s->tpidrro = read_sysreg(tpidrro_el0);
    s->sp_el1 = read_sysreg(sp_el1);
    s->elr = read_sysreg(elr_el1);
    s->spsr = read_sysreg(spsr_el1);
    s->cntkctl = read_sysreg(cntkctl_el1);
    s->csselr = read_sysreg(csselr_el1);
    s->mdscr = read_sysreg(mdscr_el1);
}

static void sysregs_restore(const struct vcpu_sysregs *s)
{
    write_sysreg(sctlr_el1, s->sctlr);
    write_sysreg(cpacr_el1, s->cpacr);
    write_sysreg(ttbr0_el1, s->ttbr0);
    write_sysreg(ttbr1_el1, s->ttbr1);
    write_sysreg(tcr_el1, s->tcr);
    write_sysreg(mair_el1, s->mair);
    write_sysreg(amair_el1, s->amair);
    write_sysreg(vbar_el1, s->vbar);
    write_sysreg(contextidr_el1, s->contextidr);
    write_sysreg(esr_el1, s->esr);
    write_sysreg(afsr0_el1, s->afsr0);
    write_sysreg(afsr1_el1, s->afsr1);
    write_sysreg(far_el1, s->far);
    write_sysreg(par_el1, s->par);
    write_sysreg(tpidr_el1, s->tpidr);
    write_sysreg(tpidr_el0, s->tpidr_el0);
    write_sysreg(tpidrro_el0, s->tpidrro);
    write_sysreg(sp_el1, s->sp_el1);
    write_sysreg(elr_el1, s->elr);
    write_sysreg(spsr_el1, s->spsr);
    write_sysreg(cntkctl_el1, s->cntkctl);
    write_sysreg(csselr_el1, s->csselr);
    write_sysreg(mdscr_el1, s->mdscr);
}

/*
 * A vCPU of the same VM ran here since this one did: the guest may hold TLB entries, tagged only
 * by VMID and ASID, that this vCPU's own local invalidations never reached (the guest expects
 * per-CPU TLBs). Drop this VMID's stage-1 entries on this CPU.
 */
static void tlb_check_last_ran(struct vcpu *v, unsigned cpu)
{
    if (v->vm->last_vcpu_on[cpu] == (int)v->id)
        return;
    v->vm->last_vcpu_on[cpu] = (int)v->id;
    __asm__ volatile("tlbi vmalle1\n dsb nsh" ::: "memory");
}

void vcpu_arch_load(struct vcpu *v)
{
    unsigned cpu = cpu_id();
    struct vm *vm = v->vm;

    write_sysreg(vtcr_el2, stage2_vtcr(&vm->s2));
    write_sysreg(vttbr_el2, stage2_vttbr(&vm->s2));
    write_sysreg(hcr_el2, HCR_GUEST);
    write_sysreg(vmpidr_el2, v->mpidr);
    write_sysreg(vpidr_el2, read_sysreg(midr_el1));
    /* The physical counter stays readable; the physical timer traps (it is emulated). */
    write_sysreg(cnthctl_el2, CNTHCTL_EL1PCTEN);
    write_sysreg(cntvoff_el2, vm->cntvoff);
    /* SVE is not offered to guests (Z registers are not switched). */
    write_sysreg(cptr_el2, CPTR_EL2_RES1 | CPTR_TFP | CPTR_TZ);
    write_sysreg(mdcr_el2, vcpu_arch_mdcr(v));
    isb();
    sysregs_restore(&v->sys);
    vdebug_load(v);
    vpmu_load(v);
    tlb_check_last_ran(v, cpu);
    write_sysreg(cntv_cval_el0, v->sys.cntv_cval);
    write_sysreg(cntv_ctl_el0, v->sys.cntv_ctl);
    vgic_hw_load(v);
    isb();
    v->pcpu = (int)cpu;
    v->loaded = true;
    this_cpu()->guest = v;
}

void vcpu_arch_put(struct vcpu *v)
{
    unsigned cpu = cpu_id();

    vgic_hw_put(v);
    sysregs_save(&v->sys);
    vdebug_put(v);
    vpmu_put(v);
    v->sys.cntv_ctl = read_sysreg(cntv_ctl_el0);
    v->sys.cntv_cval = read_sysreg(cntv_cval_el0);
    /* The guest's timer must not fire here for whoever runs next. */
    write_sysreg(cntv_ctl_el0, 0);
    isb();
    if (fp_owner[cpu] == v) {
        fpsimd_save(&v->fp);
        fp_owner[cpu] = NULL;
    }
    this_cpu()->guest_deadline = 0; /* its emulated CNTP no longer needs this CPU's timer */
    write_sysreg(hcr_el2, HCR_RW | HCR_IMO | HCR_FMO | HCR_AMO);
    write_sysreg(vttbr_el2, 0);
    isb();
    v->loaded = false;
    this_cpu()->guest = NULL;
}

void vcpu_arch_fp_trap(struct vcpu *v)
{
    unsigned cpu = cpu_id();

    write_sysreg(cptr_el2, CPTR_EL2_RES1 | CPTR_TZ);
    isb();
    if (fp_owner[cpu] && fp_owner[cpu] != v)
        fpsimd_save(&fp_owner[cpu]->fp);
    fpsimd_load(&v->fp);
    fp_owner[cpu] = v;
}

uint64_t vcpu_arch_vtimer_deadline(const struct vcpu *v)
{
    uint64_t ctl = read_sysreg(cntv_ctl_el0);

    if ((ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) != CNT_CTL_ENABLE)
        return UINT64_MAX;
    return read_sysreg(cntv_cval_el0) + v->vm->cntvoff;
}

bool vcpu_arch_vtimer_fired(void)
{
    uint64_t ctl = read_sysreg(cntv_ctl_el0);

    return (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) ==
           (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}
