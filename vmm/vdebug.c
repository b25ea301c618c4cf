/* vdebug.c - per-vCPU breakpoints, watchpoints and OS lock: trapped until used, then switched. */
#include "vmm/vdebug.h"

#include "arch/sysreg.h"
#include "hw/el2.h"
#include "lib/errno.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_sysreg.h"
#include "vmm/vm.h"

/* MDCR_EL2 (Arm ARM D13.2.x, bits in hw/el2.h): trap debug register accesses, OS lock and
 * power-down registers, and the debug ROM address register. TDE stays clear, so debug exceptions go
 * to the guest's EL1 and none can be taken at EL2 (Arm ARM D2.1: disabled above the debug target
 * level). */
#define SR_MDRAR_EL1 VCPU_SYSREG(2u, 0u, 1u, 0u, 0u)
#define OSLSR_OSLK   (1UL << 1)

static unsigned nr_bp, nr_wp;

void vdebug_init(void)
{
    uint64_t dfr0 = read_sysreg(id_aa64dfr0_el1);

    nr_bp = (unsigned)((dfr0 >> 12) & 0xf) + 1;
    nr_wp = (unsigned)((dfr0 >> 20) & 0xf) + 1;
}

void vdebug_reset(struct vdebug_state *d)
{
    *d = (struct vdebug_state){.oslk = 1};
}

uint64_t vdebug_mdcr(const struct vcpu *v)
{
    return v->dbg.active ? MDCR_TDRA : MDCR_TDA | MDCR_TDOSA | MDCR_TDRA;
}

/* One case per register pair, from the highest implemented one down (the registers are named by
 * their number in the instruction, so no loop can reach them). */
#define BP_SAVE(n)                                                                                 \
    case n + 1:                                                                                    \
        d->bvr[n] = read_sysreg(dbgbvr##n##_el1);                                                  \
        d->bcr[n] = read_sysreg(dbgbcr##n##_el1);                                                  \
        write_sysreg(dbgbcr##n##_el1, 0);                                                          \
        __attribute__((fallthrough))
#define WP_SAVE(n)                                                                                 \
    case n + 1:                                                                                    \
        d->wvr[n] = read_sysreg(dbgwvr##n##_el1);                                                  \
        d->wcr[n] = read_sysreg(dbgwcr##n##_el1);                                                  \
        write_sysreg(dbgwcr##n##_el1, 0);                                                          \
        __attribute__((fallthrough))
#define BP_LOAD(n)                                                                                 \
    case n + 1:                                                                                    \
        write_sysreg(dbgbvr##n##_el1, d->bvr[n]);                                                  \
        write_sysreg(dbgbcr##n##_el1, d->bcr[n]);                                                  \
        __attribute__((fallthrough))
#define WP_LOAD(n)                                                                                 \
    case n + 1:                                                                                    \
        write_sysreg(dbgwvr##n##_el1, d->wvr[n]);                                                  \
        write_sysreg(dbgwcr##n##_el1, d->wcr[n]);                                                  \
        __attribute__((fallthrough))
#define ALL_16(X)                                                                                  \
    X(15);                                                                                         \
    X(14);                                                                                         \
    X(13);                                                                                         \
    X(12);                                                                                         \
    X(11);                                                                                         \
    X(10);                                                                                         \
    X(9);                                                                                          \
    X(8);                                                                                          \
    X(7);                                                                                          \
    X(6);                                                                                          \
    X(5);                                                                                          \
    X(4);                                                                                          \
    X(3);                                                                                          \
    X(2);                                                                                          \
    X(1);                                                                                          \
    X(0)

static void regs_save_and_disarm(struct vdebug_state *d)
{
    switch (nr_bp) {
        ALL_16(BP_SAVE);
    default: break;
    }
    switch (nr_wp) {
        ALL_16(WP_SAVE);
    default: break;
    }
    d->oslk = (read_sysreg(oslsr_el1) & OSLSR_OSLK) ? 1 : 0;
    d->osdlr = read_sysreg(osdlr_el1);
}

static void regs_load(const struct vdebug_state *d)
{
    switch (nr_bp) {
        ALL_16(BP_LOAD);
    default: break;
    }
    switch (nr_wp) {
        ALL_16(WP_LOAD);
    default: break;
    }
    write_sysreg(oslar_el1, d->oslk);
    write_sysreg(osdlr_el1, d->osdlr);
}

void vdebug_load(struct vcpu *v)
{
    if (v->dbg.active)
        regs_load(&v->dbg);
}

void vdebug_put(struct vcpu *v)
{
    if (v->dbg.active)
        regs_save_and_disarm(&v->dbg);
}

int vdebug_access(struct vcpu *v, uint32_t key, bool read, uint64_t *val)
{
    if (key == SR_MDRAR_EL1) {
        if (!read)
            return -EINVAL;
        *val = 0; /* ROMADDR not valid: no memory-mapped debug components */
        return 0;
    }
    if (v->dbg.active)
        return -EINVAL; /* not a register this trap is for: the hardware would UNDEF it too */
    v->dbg.active = true;
    regs_load(&v->dbg);
    write_sysreg(mdcr_el2, vcpu_arch_mdcr(v));
    isb();
    return 1;
}
