/* vgic_hw.h - the GIC's virtualisation hardware: list registers (GICH_* or ICH_*_EL2). */
#ifndef VMM_VGIC_HW_H
#define VMM_VGIC_HW_H

struct vcpu;

/* Boot CPU: find the list registers and the maintenance interrupt. 0 or -ENODEV. */
int vgic_hw_init(void);
/* Number of list registers this GIC has. */
unsigned vgic_hw_nr_lrs(void);
/* With the vCPU loaded: write its pending interrupts into the LRs / read them back into the
 * model (vgic_flush / vgic_sync). refresh = sync then flush. */
void vgic_hw_refresh(struct vcpu *v);
void vgic_hw_sync(struct vcpu *v);
/* World switch: the virtual CPU interface's state in and out of the hardware. */
void vgic_hw_load(struct vcpu *v);
void vgic_hw_put(struct vcpu *v);

#endif
