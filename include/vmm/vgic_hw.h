/* vgic_hw.h - the GIC's virtualisation hardware: list registers (GICH_* or ICH_*_EL2). */
#ifndef VMM_VGIC_HW_H
#define VMM_VGIC_HW_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vgic_lr;

/* Boot CPU: find the list registers and the maintenance interrupt. 0 or -ENODEV. */
int vgic_hw_init(void);
/* Number of list registers this GIC has. */
unsigned vgic_hw_nr_lrs(void);
/*
 * With the vCPU loaded: read its LRs back into the model and write what is pending now. True if
 * the guest has a pending interrupt to take (what vgic_pending would say, without a second look).
 */
bool vgic_hw_refresh(struct vcpu *v);
/*
 * The loaded vCPU's forwarded PPI intid was acknowledged here and stays active: give it to the
 * guest, whose deactivation (HW bit in the LR) ends the physical one.
 */
void vgic_hw_forwarded(struct vcpu *v, unsigned intid);
/* World switch: the virtual CPU interface's state in and out of the hardware. */
void vgic_hw_load(struct vcpu *v);
void vgic_hw_put(struct vcpu *v);

#endif
