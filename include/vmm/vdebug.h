/* vdebug.h - a vCPU's self-hosted debug registers: trapped until first use, then switched. */
#ifndef VMM_VDEBUG_H
#define VMM_VDEBUG_H

#include <stdbool.h>
#include <stdint.h>

#define VDEBUG_MAX_BP 16 /* ID_AA64DFR0_EL1.BRPs and WRPs count at most 16 */

struct vcpu;

/** Breakpoints, watchpoints and the OS lock of a vCPU, while it is not loaded. */
struct vdebug_state {
    bool active; /* the guest used its debug registers: they are loaded with it, not trapped */
    uint64_t bvr[VDEBUG_MAX_BP], bcr[VDEBUG_MAX_BP];
    uint64_t wvr[VDEBUG_MAX_BP], wcr[VDEBUG_MAX_BP];
    uint64_t oslk;  /* OSLSR_EL1.OSLK: locked at a cold reset */
    uint64_t osdlr; /* OSDLR_EL1.DLK */
};

/* Read the number of breakpoints and watchpoints (boot, once). */
void vdebug_init(void);
/* A vCPU at power-on: no breakpoint armed, the OS lock locked (Arm ARM D2.5). */
void vdebug_reset(struct vdebug_state *d);
/* MDCR_EL2 debug trap bits for v while it runs (Arm ARM D13.2.x MDCR_EL2). */
uint64_t vdebug_mdcr(const struct vcpu *v);
/* vCPU switch, IRQs masked: put an active vCPU's registers into this CPU / take them out and
 * disarm every breakpoint and watchpoint so that nothing of it fires for the next one. */
void vdebug_load(struct vcpu *v);
void vdebug_put(struct vcpu *v);
/*
 * A trapped op0 = 2 system register access (key: the ISS's op0..op2 bits). 1: the vCPU's debug
 * registers are now loaded and untrapped, execute the instruction again; 0: emulated (*val is
 * the result of a read); -EINVAL: undefined for the guest.
 */
int vdebug_access(struct vcpu *v, uint32_t key, bool read, uint64_t *val);

#endif
