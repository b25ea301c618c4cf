/* vpmu.h - a vCPU's PMU: every access trapped and done on the real counters, which hold the
 * guest's state only while a vCPU that used them runs, and never count at EL2. */
#ifndef VMM_VPMU_H
#define VMM_VPMU_H

#include <stdbool.h>
#include <stdint.h>

#define VPMU_MAX_COUNTERS 31 /* PMCR_EL0.N is at most 31 */

struct vcpu;

/** The PMU registers of a vCPU, while it is not loaded (all zero at reset). */
struct vpmu_state {
    bool active; /* the guest touched its PMU: its registers go with it */
    uint64_t cr, cntenset, intenset, ovsset, selr, userenr, ccntr, ccfiltr;
    uint64_t evcntr[VPMU_MAX_COUNTERS], evtyper[VPMU_MAX_COUNTERS];
};

/* Find the PMU and its counters (boot, once). */
void vpmu_init(void);
/* MDCR_EL2 PMU bits while a guest runs (the same for every vCPU). */
uint64_t vpmu_mdcr(void);
/* vCPU switch, IRQs masked: load an active vCPU's PMU / save it and stop every counter. */
void vpmu_load(struct vcpu *v);
void vpmu_put(struct vcpu *v);
/* A trapped PMU register access (from the guest's EL0 or EL1): 0 done (*val the result of a
 * read), -ENOENT not a PMU register, -EINVAL undefined for the guest. */
int vpmu_access(struct vcpu *v, uint32_t key, bool read, bool from_el0, uint64_t *val);

#endif
