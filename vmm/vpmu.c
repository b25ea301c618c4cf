/* vpmu.c - a vCPU's PMU: trapped accesses done on the real counters, filtered so that none counts
 * at EL2, switched with the vCPU only once it has touched them. */
#include "vmm/vpmu.h"

#include "arch/sysreg.h"
#include "hw/el2.h"
#include "lib/errno.h"
#include "vmm/vcpu_sysreg.h"
#include "vmm/vm.h"

/* MDCR_EL2 (Arm ARM D13.2.x, bits in hw/el2.h): every counter belongs to the guest (HPMN =
 * PMCR_EL0.N, HPME clear), and every PMU access from EL0/EL1 traps (TPM, TPMCR) so that the filters
 * can be checked. */
#define PMCR_E         1UL
#define PMCR_WRITABLE  0x7fUL /* E, P, C, D, X, DP, LC */
#define PMCR_N(pmcr)   ((unsigned)((pmcr) >> 11) & 0x1f)
#define PMUSERENR_MASK 0xfUL
#define PMSELR_MASK    0x1fUL
#define CYCLE_INDEX    31 /* PMSELR_EL0.SEL of PMCCFILTR_EL0; bit 31 of the enable masks */
/*
 * Event filters (PMEVTYPER<n>_EL0, PMCCFILTR_EL0): the guest may set P, U, NSK, NSU and the event
 * number. NSH (bit 27, count at EL2), M (EL3), SH (secure EL2) and MT stay 0: no guest counter
 * counts while the hypervisor runs, whatever the guest writes, and it reads NSH back as 0.
 */
#define FILTER_EL01   0xf0000000UL
#define FILTER_P      (1UL << 31) /* do not count at EL1 */
#define FILTER_U      (1UL << 30) /* do not count at EL0 */
#define EVENT_SW_INCR 0x0UL
#define EVTYPER_EVENT 0xffffUL
#define ALL_COUNTERS  0xffffffffUL

#define SR_PMCR       VCPU_SYSREG(3u, 3u, 9u, 12u, 0u)
#define SR_PMCNTENSET VCPU_SYSREG(3u, 3u, 9u, 12u, 1u)
#define SR_PMCNTENCLR VCPU_SYSREG(3u, 3u, 9u, 12u, 2u)
#define SR_PMOVSCLR   VCPU_SYSREG(3u, 3u, 9u, 12u, 3u)
#define SR_PMSWINC    VCPU_SYSREG(3u, 3u, 9u, 12u, 4u)
#define SR_PMSELR     VCPU_SYSREG(3u, 3u, 9u, 12u, 5u)
#define SR_PMCEID0    VCPU_SYSREG(3u, 3u, 9u, 12u, 6u)
#define SR_PMCEID1    VCPU_SYSREG(3u, 3u, 9u, 12u, 7u)
#define SR_PMCCNTR    VCPU_SYSREG(3u, 3u, 9u, 13u, 0u)
#define SR_PMXEVTYPER VCPU_SYSREG(3u, 3u, 9u, 13u, 1u)
#define SR_PMXEVCNTR  VCPU_SYSREG(3u, 3u, 9u, 13u, 2u)
#define SR_PMUSERENR  VCPU_SYSREG(3u, 3u, 9u, 14u, 0u)
#define SR_PMOVSSET   VCPU_SYSREG(3u, 3u, 9u, 14u, 3u)
#define SR_PMINTENSET VCPU_SYSREG(3u, 0u, 9u, 14u, 1u)
#define SR_PMINTENCLR VCPU_SYSREG(3u, 0u, 9u, 14u, 2u)
/* PMEVCNTR<n>_EL0: op1 3, CRn 14, CRm 0b10:n[4:3], op2 n[2:0]; PMEVTYPER<n>_EL0: CRm 0b11:n[4:3].
 */
#define SR_EVCNTR_BASE  VCPU_SYSREG(3u, 3u, 14u, 8u, 0u)
#define SR_EVTYPER_BASE VCPU_SYSREG(3u, 3u, 14u, 12u, 0u)
#define SR_EV_N_MASK    VCPU_SYSREG(0u, 0u, 0u, 3u, 7u)
#define SR_EV_N(key)    (((VCPU_SYSREG_CRM(key) << 3) & 0x18u) | VCPU_SYSREG_OP2(key))

static bool present;
static unsigned nr_counters;

void vpmu_init(void)
{
    unsigned ver = (unsigned)(read_sysreg(id_aa64dfr0_el1) >> 8) & 0xf;

    present = ver != 0 && ver != 0xf; /* 0xf: an IMPLEMENTATION DEFINED PMU, not PMUv3 */
    if (present)
        nr_counters = PMCR_N(read_sysreg(pmcr_el0));
}

uint64_t vpmu_mdcr(void)
{
    return present ? MDCR_TPM | MDCR_TPMCR | nr_counters : 0;
}

/* Event counter n (n = 31: PMCCFILTR_EL0 for a type) through PMSELR_EL0, which is restored. */
static uint64_t counter_access(unsigned n, bool typer, bool read, uint64_t val)
{
    uint64_t sel = read_sysreg(pmselr_el0);

    write_sysreg(pmselr_el0, n);
    isb();
    if (typer && read)
        val = read_sysreg(pmxevtyper_el0);
    else if (typer)
        write_sysreg(pmxevtyper_el0, val & (FILTER_EL01 | (n == CYCLE_INDEX ? 0 : EVTYPER_EVENT)));
    else if (read)
        val = read_sysreg(pmxevcntr_el0);
    else
        write_sysreg(pmxevcntr_el0, val);
    write_sysreg(pmselr_el0, sel);
    isb();
    return val;
}

static void regs_load(const struct vpmu_state *s)
{
    for (unsigned i = 0; i < nr_counters; i++) {
        counter_access(i, true, false, s->evtyper[i]);
        counter_access(i, false, false, s->evcntr[i]);
    }
    counter_access(CYCLE_INDEX, true, false, s->ccfiltr);
    write_sysreg(pmccntr_el0, s->ccntr);
    write_sysreg(pmselr_el0, s->selr);
    write_sysreg(pmuserenr_el0, s->userenr);
    write_sysreg(pmovsclr_el0, ALL_COUNTERS);
    write_sysreg(pmovsset_el0, s->ovsset);
    write_sysreg(pmintenclr_el1, ALL_COUNTERS);
    write_sysreg(pmintenset_el1, s->intenset);
    write_sysreg(pmcntenclr_el0, ALL_COUNTERS);
    write_sysreg(pmcntenset_el0, s->cntenset);
    write_sysreg(pmcr_el0, s->cr & PMCR_WRITABLE);
    isb();
}

/* Save, then leave nothing counting, interrupting or open to EL0 for whoever runs next. */
static void regs_save_and_stop(struct vpmu_state *s)
{
    s->cr = read_sysreg(pmcr_el0);
    write_sysreg(pmcr_el0, s->cr & PMCR_WRITABLE & ~PMCR_E);
    isb();
    s->cntenset = read_sysreg(pmcntenset_el0);
    s->intenset = read_sysreg(pmintenset_el1);
    s->ovsset = read_sysreg(pmovsset_el0);
    s->selr = read_sysreg(pmselr_el0);
    s->userenr = read_sysreg(pmuserenr_el0);
    s->ccntr = read_sysreg(pmccntr_el0);
    s->ccfiltr = counter_access(CYCLE_INDEX, true, true, 0);
    for (unsigned i = 0; i < nr_counters; i++) {
        s->evtyper[i] = counter_access(i, true, true, 0);
        s->evcntr[i] = counter_access(i, false, true, 0);
    }
    write_sysreg(pmcntenclr_el0, ALL_COUNTERS);
    write_sysreg(pmintenclr_el1, ALL_COUNTERS);
    write_sysreg(pmovsclr_el0, ALL_COUNTERS);
    write_sysreg(pmuserenr_el0, 0);
    isb();
}

void vpmu_load(struct vcpu *v)
{
    if (v->pmu.active)
        regs_load(&v->pmu);
}

void vpmu_put(struct vcpu *v)
{
    if (v->pmu.active)
        regs_save_and_stop(&v->pmu);
}

/* PMEVCNTR<n>_EL0 / PMEVTYPER<n>_EL0, or PMXEV* with n from PMSELR_EL0. */
static int event_access(unsigned n, bool typer, bool read, uint64_t *val)
{
    if (n >= nr_counters && !(typer && n == CYCLE_INDEX))
        return -EINVAL;
    *val = counter_access(n, typer, read, *val);
    return 0;
}

/*
 * PMSWINC_EL0, done here rather than by writing the register at EL2: a counter counts the
 * SW_INCR event (0) only if it may count at the level the write came from (the guest's EL1 or
 * EL0), and at EL2 none may. A counter that wraps sets its overflow flag (32-bit counters).
 */
static void software_increment(uint64_t mask, bool from_el0)
{
    uint64_t enabled = read_sysreg(pmcntenset_el0);

    if (!(read_sysreg(pmcr_el0) & PMCR_E))
        return;
    for (unsigned i = 0; i < nr_counters; i++) {
        uint64_t type = counter_access(i, true, true, 0);
        if (!(mask & enabled & (1UL << i)) || (type & EVTYPER_EVENT) != EVENT_SW_INCR ||
            (type & (from_el0 ? FILTER_U : FILTER_P)))
            continue;
        uint32_t count = (uint32_t)counter_access(i, false, true, 0) + 1;
        counter_access(i, false, false, count);
        if (!count)
            write_sysreg(pmovsset_el0, 1UL << i);
    }
}

static int reg_access(uint32_t key, bool read, bool from_el0, uint64_t *val)
{
    uint64_t v = *val;

#define RW(reg, write_val)                                                                         \
    do {                                                                                           \
        if (read)                                                                                  \
            *val = read_sysreg(reg);                                                               \
        else                                                                                       \
            write_sysreg(reg, write_val);                                                          \
    } while (0)
#define RO(reg)                                                                                    \
    do {                                                                                           \
        if (!read)                                                                                 \
            return -EINVAL;                                                                        \
        *val = read_sysreg(reg);                                                                   \
    } while (0)
    switch (key) {
    case SR_PMCR: RW(pmcr_el0, v & PMCR_WRITABLE); break;
    case SR_PMCNTENSET: RW(pmcntenset_el0, v); break;
    case SR_PMCNTENCLR: RW(pmcntenclr_el0, v); break;
    case SR_PMOVSSET: RW(pmovsset_el0, v); break;
    case SR_PMOVSCLR: RW(pmovsclr_el0, v); break;
    case SR_PMINTENSET: RW(pmintenset_el1, v); break;
    case SR_PMINTENCLR: RW(pmintenclr_el1, v); break;
    case SR_PMSELR: RW(pmselr_el0, v & PMSELR_MASK); break;
    case SR_PMCCNTR: RW(pmccntr_el0, v); break;
    case SR_PMUSERENR: RW(pmuserenr_el0, v & PMUSERENR_MASK); break;
    case SR_PMCEID0: RO(pmceid0_el0); break;
    case SR_PMCEID1: RO(pmceid1_el0); break;
    case SR_PMSWINC:
        if (read)
            return -EINVAL;
        software_increment(v, from_el0);
        break;
    case SR_PMXEVTYPER:
        return event_access((unsigned)read_sysreg(pmselr_el0) & PMSELR_MASK, true, read, val);
    case SR_PMXEVCNTR:
        return event_access((unsigned)read_sysreg(pmselr_el0) & PMSELR_MASK, false, read, val);
    default:
        if ((key & ~SR_EV_N_MASK) == SR_EVCNTR_BASE)
            return event_access(SR_EV_N(key), false, read, val);
        if ((key & ~SR_EV_N_MASK) == SR_EVTYPER_BASE)
            return event_access(SR_EV_N(key), true, read, val);
        return -ENOENT;
    }
#undef RW
#undef RO
    isb();
    return 0;
}

int vpmu_access(struct vcpu *v, uint32_t key, bool read, bool from_el0, uint64_t *val)
{
    bool pmu_reg =
        VCPU_SYSREG_OP0(key) == 3 &&
        (VCPU_SYSREG_CRN(key) == 9 ||
         (VCPU_SYSREG_CRN(key) == 14 && VCPU_SYSREG_OP1(key) == 3 && VCPU_SYSREG_CRM(key) >= 8));

    if (!pmu_reg)
        return -ENOENT;
    if (!present)
        return -EINVAL;
    if (!v->pmu.active) {
        v->pmu.active = true;
        regs_load(&v->pmu);
    }
    return reg_access(key, read, from_el0, val);
}
