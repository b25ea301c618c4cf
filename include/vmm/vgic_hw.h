/* vgic_hw.h - the GIC's virtualisation hardware: list registers (GICH_* or ICH_*_EL2). */
#ifndef VMM_VGIC_HW_H
#define VMM_VGIC_HW_H

#include <stdint.h>

struct vcpu;
struct vgic_lr;

/* Boot CPU: find the list registers and the maintenance interrupt. 0 or -ENODEV. */
int vgic_hw_init(void);
/* Number of list registers this GIC has. */
unsigned vgic_hw_nr_lrs(void);
/* With the vCPU loaded: write its pending interrupts into the LRs / read them back into the
 * model (vgic_flush / vgic_sync). refresh = sync then flush. */
void vgic_hw_refresh(struct vcpu *v);
void vgic_hw_sync(struct vcpu *v);
/*
 * The loaded vCPU's forwarded PPI intid was acknowledged here and stays active: give it to the
 * guest, whose deactivation (HW bit in the LR) ends the physical one.
 */
void vgic_hw_forwarded(struct vcpu *v, unsigned intid);
/* GICH_LR (version 2) or ICH_LR<n>_EL2 (version 3) for lr. */
uint64_t vgic_hw_lr_encode(int gic_version, const struct vgic_lr *lr);
/* World switch: the virtual CPU interface's state in and out of the hardware. */
void vgic_hw_load(struct vcpu *v);
void vgic_hw_put(struct vcpu *v);

#endif
